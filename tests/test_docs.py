"""The documentation's Python blocks run as written, like README's (``tests/test_readme.py``).

In ``docs/*.md`` every ```python block carries a mark on the line before its fence:

- ``<!-- runs -->``: needs mivb and NumPy only, and runs everywhere;
- ``<!-- runs: torch -->``, ``<!-- runs: jax -->``, ``<!-- runs: tensorflow -->``: runs where that
  framework is installed.

A block that cannot run in the tests (it needs a service or a package mivb does not depend on, such
as a Weights & Biases account) says so and why instead: ``<!-- does not run: needs wandb -->``.

A block of a framework that is not installed is not collected here: it runs in that framework's test
session (nox's tests sessions for torch, jax and tensorflow all run this file). A run can never pass
with no block run: at least one framework must be installed, and every installed framework has
blocks that run (its getting-started page). Frameworks named in ``MIVB_DOCS_FRAMEWORKS``
(comma-separated, e.g. ``torch,jax,tensorflow``) must be installed.

Each block runs on its own (self-contained, no state shared with other blocks) as a script file, so
that TensorFlow's autograph and tracebacks see its source, in a temporary working directory, so
that the files it saves land there.
"""

from __future__ import annotations

import ast
import importlib.util
import logging
import os
import re
import runpy
import unicodedata
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FRAMEWORKS = ("torch", "jax", "tensorflow")
MARKED = re.compile(r"<!-- runs(?::\s*([\w-]+))?\s*-->\n```python\n(.*?)```", re.DOTALL)
NOT_RUN = re.compile(r"<!-- does not run: \w[^>]*-->\n```python\n")
PYTHON_FENCE = re.compile(r"^```python\s*$", re.MULTILINE)
REQUIRED = {name.strip() for name in os.environ.get("MIVB_DOCS_FRAMEWORKS", "").split(",") if name.strip()}


class Block(NamedTuple):
    page: str
    line: int  # of the block's first line of code
    framework: str | None
    code: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _blocks() -> list[Block]:
    """Every marked block of the docs, and README's blocks marked with a framework (its unmarked
    ``<!-- runs -->`` blocks need no framework and run in tests/test_readme.py)."""
    found = []
    for page in [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]:
        text = page.read_text()
        for match in MARKED.finditer(text):
            line = text.count("\n", 0, match.start(2)) + 1
            if page.parent == DOCS or match.group(1):
                found.append(Block(page.name, line, match.group(1), match.group(2)))
    return found


BLOCKS = _blocks()


def _installed(framework: str) -> bool:
    return importlib.util.find_spec(framework) is not None


# The blocks this environment can run: each framework's blocks run in that framework's test session
# (tests/test_the_blocks_of_some_framework_run makes sure some do), the others are not collected here.
RUNNABLE = [block for block in BLOCKS if block.framework is None or _installed(block.framework)]


def test_the_frameworks_required_are_installed():
    missing = sorted(framework for framework in REQUIRED if not _installed(framework))
    assert not missing, (f"MIVB_DOCS_FRAMEWORKS requires {missing}, not installed here "
                         f"(pip install -e '.[{missing[0] if missing else ''}]', or set MIVB_DOCS_FRAMEWORKS)")


def test_docs_have_runnable_blocks():
    assert BLOCKS
    assert {block.framework for block in BLOCKS} <= {None, *FRAMEWORKS}, "a mark names an unknown framework"
    assert REQUIRED <= set(FRAMEWORKS), f"MIVB_DOCS_FRAMEWORKS names an unknown framework: {sorted(REQUIRED)}"


def test_the_blocks_of_some_framework_run():
    installed = [framework for framework in FRAMEWORKS if _installed(framework)]
    assert installed, f"none of {FRAMEWORKS} is installed: their blocks would all be skipped"
    for framework in installed:
        assert any(block.framework == framework for block in BLOCKS), f"no block runs with {framework}"


def test_every_python_block_of_the_docs_is_marked_to_run():
    for page in [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]:
        text = page.read_text()
        fences, marked = len(PYTHON_FENCE.findall(text)), len(MARKED.findall(text)) + len(NOT_RUN.findall(text))
        assert fences == marked, (f"{page.name}: {fences - marked} python block(s) marked neither <!-- runs --> "
                                  "nor <!-- does not run: why -->")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_getting_started_page_estimates_and_trains(framework):
    """Each framework's page runs an estimate and README's "Training with MI" loop in that framework."""
    page = f"getting-started-{framework}.md"
    blocks = [block for block in BLOCKS if block.page == page]
    assert blocks and all(block.framework == framework for block in blocks), page
    assert any("mivb.estimate(" in block.code for block in blocks), page
    assert any("adaptive_clip_scale(" in block.code and "mi_for_grads" in block.code for block in blocks), page


# A comment after print(...) that reads like an output (a repr such as Estimate(...), or a number) is
# checked ("# prints: ...", tests/conftest.py) or marked as an example ("# e.g. ...").
OUTPUT_COMMENT = re.compile(r"^\s*print\(.*#\s*(?!prints:|e\.g\.)([A-Z]\w*\(|[-+]?\d)", re.MULTILINE)
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("path", ["README.md", *sorted(f"docs/{page.name}" for page in DOCS.glob("*.md"))])
def test_printed_outputs_are_checked_or_marked_as_examples(path):
    for code in PYTHON_BLOCK.findall((ROOT / path).read_text()):
        unmarked = [match.group(0).strip() for match in OUTPUT_COMMENT.finditer(code)]
        assert not unmarked, (f"{path}: an output neither checked ('# prints: ...') nor marked as an example "
                              f"('# e.g. ...'): {unmarked}")


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.id for block in RUNNABLE])
def test_docs_block_runs(block, tmp_path, monkeypatch, capsys, check_printed):
    import mivb

    script = tmp_path / f"{Path(block.page).stem}_line{block.line}.py"
    script.write_text(block.code)
    monkeypatch.chdir(tmp_path)
    before = dict(mivb.BOUNDS)
    loggers = [logging.getLogger(), logging.getLogger("mivb")]
    logging_before = [(logger, logger.level, list(logger.handlers)) for logger in loggers]
    try:
        runpy.run_path(str(script), run_name="__main__")
        check_printed(block.code, capsys.readouterr().out, block.id)
    finally:  # a block may register a bound or configure logging: leave both as they were
        mivb.BOUNDS.clear()
        mivb.BOUNDS.update(before)
        for logger, level, handlers in logging_before:
            logger.setLevel(level)
            logger.handlers[:] = handlers


# A comment "# true_mi = X nats" after a call of mivb.correlated_gaussians states the value it returns,
# to three decimals.
TRUTH = re.compile(r"(mivb\.correlated_gaussians\([^)]*\))\s*#\s*true_mi = ([0-9.]+) nats")


@pytest.mark.parametrize("path", ["README.md", *sorted(f"docs/{page.name}" for page in DOCS.glob("*.md"))])
def test_stated_true_mi_is_what_the_code_gives(path):
    import mivb

    for call, stated in TRUTH.findall((ROOT / path).read_text()):
        _, _, true_mi = eval(call, {"mivb": mivb})
        # to three decimals: "3.0" for 2.979 (rounded, but read as exact) is what this test is for
        assert abs(true_mi - float(stated)) < 5e-4, f"{path}: {call} gives {true_mi:.3f}, the text says {stated}"


def test_readme_states_a_true_mi():
    assert TRUTH.search((ROOT / "README.md").read_text()), "README's first example no longer states its true MI"


# ---- The API reference (docs/api*.md, rendered by mkdocstrings from the docstrings) ----------------

SOURCES = sorted([*ROOT.glob("mivb/**/*.py"), *ROOT.glob("adapters/**/*.py")])
# A Sphinx role (":func:`estimate`") is shown literally by mkdocstrings: cross-references are written
# [`estimate`][mivb.estimate.estimate], or [`update`][] for a name in the docstring's own scope.
SPHINX_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const|ref|doc|term):`")
# Google style's section is "Examples:"; "Example:" renders as a note whose >>> lines run together, and
# reStructuredText's literal block ("Example::") as its own text: code goes in a fenced block instead.
SINGULAR_EXAMPLE = re.compile(r"^\s*Example:\s*$|::\s*$", re.MULTILINE)
REFERENCE_PAGES = sorted(DOCS.glob("api*.md"))
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)


def _docstrings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the module's, every class's and every function's docstring."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.append((body[0].lineno, body[0].value.value))
    return found


def test_docstrings_use_no_sphinx_roles_and_render_their_examples():
    assert SOURCES
    found = []
    for path in SOURCES:
        for line, text in _docstrings(path):
            for pattern, what in ((SPHINX_ROLE, "a Sphinx role"),
                                  (SINGULAR_EXAMPLE, '"Example:" or a "::" literal block (write "Examples:")')):
                for match in pattern.finditer(text):
                    found.append(f"{path.relative_to(ROOT)}:{line + text.count(chr(10), 0, match.start())}: {what}")
    assert not found, "docstrings mkdocstrings cannot render:\n" + "\n".join(found)


def test_a_returns_section_is_one_item():
    """mkdocstrings reads each line of a Returns: section at the item's indentation as another returned
    value: a description that goes on for several lines indents its continuation."""
    found = []
    for path in SOURCES:
        for line, text in _docstrings(path):
            lines = text.splitlines()
            for i, heading in enumerate(lines):
                if heading.strip() != "Returns:":
                    continue
                body = []
                for following in lines[i + 1:]:
                    if not following.strip():
                        break
                    body.append(following)
                indents = [len(item) - len(item.lstrip()) for item in body]
                if any(indent <= indents[0] for indent in indents[1:]):
                    found.append(f"{path.relative_to(ROOT)}:{line + i}")
    assert not found, f"Returns: sections that render as several values: {found}"


def _public_names() -> dict[str, list[str]]:
    """Each package's __all__, read from its source: no framework is imported."""
    packages = {"mivb": ROOT / "mivb" / "__init__.py"}
    packages.update({path.parent.name: path for path in sorted(ROOT.glob("adapters/mivb_*/__init__.py"))})
    names = {}
    for package, path in packages.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                names[package] = list(ast.literal_eval(node.value))
    return names


def test_every_public_name_is_in_the_api_reference():
    documented = {match for page in REFERENCE_PAGES for match in DIRECTIVE.findall(page.read_text())}
    public = _public_names()
    assert set(public) == {"mivb", "mivb_torch", "mivb_jax", "mivb_tensorflow"}, sorted(public)
    # mivb.estimate is both a module and the function its package imports; griffe reads the module, so the
    # reference documents the function by its module's path.
    missing = [f"{package}.{name}" for package, names in public.items() for name in names
               if f"{package}.{name}" not in documented and f"{package}.{name}.{name}" not in documented]
    assert not missing, f"public names missing from {[page.name for page in REFERENCE_PAGES]}: {missing}"
    internal = sorted(path for path in documented if any(part.startswith("_") for part in path.split(".")))
    assert not internal, f"the API reference documents internals: {internal}"


def test_the_api_reference_pages_are_in_the_site_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    assert REFERENCE_PAGES and all(f" {page.name}\n" in nav for page in REFERENCE_PAGES)


# ---- Install text (docs/index.md#install is its one source) ---------------------------------------

INSTALL_COMMAND = re.compile(r"^python -m pip install -e (\S+)(.*)$", re.MULTILINE)


def test_install_commands_install_what_ci_tests():
    """Every command that installs mivb passes the constraints file, the TensorFlow page installs the
    CPU-only wheel its comment names, and nothing claims that an extra pins torch's CPU build (PyPI's
    torch for Linux is the CUDA build)."""
    pages = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
    commands = [(page.name, *match) for page in pages for match in INSTALL_COMMAND.findall(page.read_text())]
    assert len(commands) >= 4, commands  # README, index and the three getting-started pages at least
    unconstrained = [(page, extras) for page, extras, rest in commands if "-c constraints/ci.txt" not in rest]
    assert not unconstrained, f"install commands without -c constraints/ci.txt: {unconstrained}"
    tensorflow = [extras for page, extras, _ in commands if page == "getting-started-tensorflow.md"]
    assert tensorflow == ['".[tensorflow-cpu]"'], tensorflow
    for page in pages:
        claim = re.search(r"pins? the CPU|pins the CPU build|each extra pins", page.read_text())
        assert claim is None, f"{page.name}: '{claim.group(0)}', but the torch extra is torch>=2.4, any build"


def test_readme_cites_mivb_as_the_citing_page_does():
    """README's BibTeX entry for mivb is the docs page's, at the version pyproject.toml declares."""
    entry = re.compile(r"```bibtex\n(@software\{mivb,.*?\n\})\n```", re.DOTALL)
    readme, page = (entry.search(text) for text in ((ROOT / "README.md").read_text(), (DOCS / "citing.md").read_text()))
    assert readme and page and readme.group(1) == page.group(1)
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    assert f"version = {{{version}}}" in page.group(1), f"the citation's version is not {version}"


def test_the_site_loads_no_script_from_elsewhere():
    """Formulas render offline: MathJax is served with the site (mkdocs_hooks.py), from a package the
    docs session installs at the version constraints/ci.txt pins."""
    config = (ROOT / "mkdocs.yml").read_text()
    scripts = re.search(r"^extra_javascript:\n((?:  - .*\n)+)", config, re.MULTILINE)
    assert scripts and "javascripts/mathjax/tex-svg-full.js" in scripts.group(1)
    assert "://" not in scripts.group(1), scripts.group(1)
    assert "mkdocs_hooks.py" in config
    assert 'MATHJAX = "javascripts/mathjax/tex-svg-full.js"' in (ROOT / "mkdocs_hooks.py").read_text()
    assert "django-static-mathjax" in (ROOT / "noxfile.py").read_text()
    assert re.search(r"^django-static-mathjax==", (ROOT / "constraints" / "ci.txt").read_text(), re.MULTILINE)


# ---- One source for the benchmark tables: docs/benchmarks.md ---------------------------------------


def _anchor(heading: str) -> str:
    """The id Python-Markdown's toc gives a heading (its default slugify)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def test_benchmark_tables_live_in_the_docs_and_readme_links_them():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Benchmarks\n"):]
    section = section[:section.index("\n## ", 1)]
    assert "|---" not in section, "README's Benchmarks section holds a table: it belongs in docs/benchmarks.md"
    page = (DOCS / "benchmarks.md").read_text()
    anchors = {_anchor(heading) for heading in re.findall(r"^#+ (.+)$", page, re.MULTILINE)}
    linked = re.findall(r"\]\(docs/benchmarks\.md#([\w-]+)\)", readme)
    assert linked and not set(linked) - anchors, f"README links missing anchors: {sorted(set(linked) - anchors)}"


def test_the_cli_page_names_every_flag_of_each_command():
    from mivb.cli import parser

    page = (DOCS / "cli.md").read_text()
    commands = parser()._subparsers._group_actions[0].choices
    missing = [(name, flag) for name, command in commands.items() for action in command._actions
               for flag in action.option_strings if flag.startswith("--") and flag != "--help" and flag not in page]
    assert not missing, f"docs/cli.md does not name: {missing}"


def test_nothing_cites_a_file_users_cannot_open():
    """The bounds contract is docs/bounds.md; the spec file it came from is not in the repository."""
    spec = "BOUNDS" + ".md"  # split, so that this file does not cite it either
    texts = [ROOT / "README.md", *DOCS.glob("*.md"), *SOURCES,
             *(path for folder in ("conformance", "examples", "benchmarks", "tests") for path in (ROOT / folder).rglob("*.py"))]
    citing = sorted(str(path.relative_to(ROOT)) for path in texts if spec in path.read_text(errors="ignore"))
    assert not citing, f"{spec} is cited by {citing}: cite docs/bounds.md"


def test_the_tutorials_run_while_the_site_builds():
    """A tutorial's Python blocks all run in the docs build (markdown-exec's exec="on"), so its outputs and
    figures are what the code makes; nox -s docs installs what they need."""
    tutorials = sorted((DOCS / "tutorials").glob("*.md"))
    config = (ROOT / "mkdocs.yml").read_text()
    assert len(tutorials) >= 3 and "  - markdown-exec\n" in config
    for page in tutorials:
        text = page.read_text()
        fences = re.findall(r"^```python(.*)$", text, re.MULTILINE)
        assert fences and all('exec="on"' in options for options in fences), page.name
        assert f"tutorials/{page.name}\n" in config, f"{page.name} is not in the nav"
    assert "markdown-exec" in (ROOT / "noxfile.py").read_text()
    assert re.search(r"^markdown-exec==", (ROOT / "constraints" / "ci.txt").read_text(), re.MULTILINE)


def test_readme_and_the_cli_page_describe_the_demo_it_runs():
    from mivb.cli import parser

    defaults = {action.dest: action.default for action in parser()._subparsers._group_actions[0].choices["demo"]._actions}
    dim, mi = defaults["dim"], defaults["mi"]
    assert f"correlated Gaussians ({dim} dimensions, {mi:g} nats)" in (ROOT / "README.md").read_text()
    assert f"in {dim} dimensions with {mi:g} nats of MI" in (DOCS / "cli.md").read_text()
