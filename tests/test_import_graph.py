"""The modules of mivb/ and its subpackages (mivb/bounds/) import one another without a circle: each can be read, and changed, knowing
only the modules below it. Every import counts: at the top of a module, inside a function (run
later), and under ``TYPE_CHECKING`` (read by type checkers)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mivb"


def module_name(path: Path) -> str:
    """``mivb/bounds/smile.py`` -> ``mivb.bounds.smile``; a package's ``__init__.py`` is the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The modules of mivb/ (and its subpackages) that the file at ``path`` imports, wherever the
    import stands, each as the most specific module named: ``from .x import name`` imports ``x``;
    ``from . import name`` imports the module ``name`` when there is one, else the package.
    Relative imports are resolved from the file's package (``..errors`` in mivb/bounds/ is
    ``mivb.errors``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def resolved(module: str) -> str:  # the longest prefix of ``module`` that is a module of mivb/
        while module not in modules and "." in module:
            module = module.rpartition(".")[0]
        return module

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {resolved(alias.name) for alias in node.names if alias.name.startswith("mivb.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module == "mivb" or (node.module or "").startswith("mivb.")):
                    continue
                base = node.module or ""
            else:
                base = ".".join(package.split(".")[: len(package.split(".")) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else resolved(base)
                      for alias in node.names}
    return found - {name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imported_modules(path, modules) & modules for path in paths}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports (its modules in order, the first repeated at the end), or None."""
    finished: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in finished:
            return None
        for imported in sorted(graph[module]):
            circle = visit(imported, [*path, module])
            if circle:
                return circle
        finished.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module, [])
        if circle:
            return circle
    return None


def test_the_graph_is_read_from_every_kind_of_import():
    graph = import_graph()
    assert "mivb.result" in graph["mivb.estimate"]  # at the top of the module
    assert "mivb.plotting" in graph["mivb.result"]  # inside a method: Estimate.plot
    assert "mivb.diagnosis" in graph["mivb._progress"]  # under TYPE_CHECKING
    assert "mivb" in graph["mivb.cli"]  # from . import __version__
    assert "mivb.bounds" in graph["mivb.pipeline"]  # from .bounds import get_bound: the package
    assert {"mivb.bounds._core", "mivb.notes"} <= graph["mivb.bounds.smile"]  # relative, from a subpackage
    assert "mivb.bounds.smile" in graph["mivb.bounds"]  # from . import alpha, ..., smile, tuba


def test_mivb_imports_no_module_in_a_circle():
    assert find_circle(import_graph()) is None


@pytest.mark.parametrize("graph, circle", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"b2"}, "b2": {"b"}}, ["b", "b2", "b"]),
    ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),
])
def test_find_circle_finds_a_circle_and_only_one(graph, circle):
    assert find_circle(graph) == circle


def test_estimate_and_its_configuration_sit_on_the_ground_floor():
    """``mivb.result`` (Estimate, EstimateConfig), which every step reads, imports none of them:
    only the core's leaves, and plotting, which imports nothing of estimate's."""
    graph = import_graph()
    above = {f"mivb.{module}" for module in ("estimate", "pipeline", "protocol", "conditional", "streams",
                                             "intervals", "diagnosis", "independence", "_progress")}

    def reachable(module: str) -> set[str]:
        seen, todo = set(), [module]
        while todo:
            for imported in graph[todo.pop()] - seen:
                seen.add(imported)
                todo.append(imported)
        return seen

    assert not reachable("mivb.result") & above
