"""Test sessions: each backend in its own virtualenv, so each proves it needs only its own extra.

Every install goes through ``install``, which passes constraints/ci.txt to pip: CI gets the exact
versions written there, never a release that came out since. ``ends`` installs the lowest or the
newest versions pyproject.toml's ranges allow instead (not run by CI: it downloads frameworks).
"""

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["tests", "conformance", "examples", "typing", "core"]
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).resolve().parent
CI_CONSTRAINTS = str(ROOT / "constraints" / "ci.txt")
LOWEST_CONSTRAINTS = str(ROOT / "constraints" / "lowest.txt")
# The Pythons the core supports (pyproject.toml: requires-python >= 3.10). The other sessions run
# on the Python that runs nox (3.11 in CI: the Python of the CPU torch wheel this machine has, and
# the one constraints/ci.txt was resolved on).
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

# torch on 2 cores: its default thread pool made training 10 to 100 times slower here.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# tensorflow-cpu, the CPU-only wheel: users with GPUs install the `tensorflow` extra instead.
EXTRAS = {"numpy": "test", "torch": "torch,test", "jax": "jax,test", "tensorflow": "tensorflow-cpu,test"}
CPU_ALL = "torch,jax,tensorflow-cpu,plot"  # the `all` extra, with tensorflow-cpu for tensorflow
# Unit tests per backend: the core's own tests run beside torch, the reference training backend.
UNIT_TESTS = {
    "torch": ["tests", "--ignore=tests/jax_adapter", "--ignore=tests/tensorflow_adapter", "--ignore=tests/examples",
              "mivb", "--doctest-modules"],  # the docstrings' examples run too
    "jax": ["tests/jax_adapter", "tests/test_docs.py"],  # the docs pages' JAX blocks run here
    "tensorflow": ["tests/tensorflow_adapter", "tests/test_docs.py"],
}
# The unit tests that need no framework (the rest train critics with torch), for the core session.
NUMPY_ONLY_TESTS = ["tests/test_numpy_bounds.py", "tests/test_benchmark_tasks.py", "tests/test_readme.py",
                    "tests/test_packaging.py", "mivb", "--doctest-modules"]
# JAX computes float64 only in its 64-bit mode, which the suite's float64 cases need.
CONFORMANCE_ENV = {"jax": {"JAX_ENABLE_X64": "1"}}


def _select_pyenv_pythons() -> None:
    """Let nox find every installed Python of PYTHONS through pyenv's shims.

    The shims run ``python3.10`` only for the versions pyenv selects (here ``pyenv global`` selects
    3.11 alone). Selecting the installed 3.10, 3.12 and 3.13 too, after the current version, for
    the processes nox starts, changes nothing else: ``python`` stays the current version.
    """
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    if not (root / "versions").is_dir():
        return
    # nox started through a pyenv shim already has PYENV_VERSION (the shim sets it): extend that.
    current = os.environ.get("PYENV_VERSION", "")
    if not current:
        pyenv = shutil.which("pyenv") or str(root / "bin" / "pyenv")
        try:
            current = subprocess.run([pyenv, "version-name"], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return
    selected = current.split(":")
    for python in PYTHONS:
        installed = sorted((p.name for p in (root / "versions").glob(f"{python}.*") if p.name[len(python) + 1:].isdigit()),
                           key=lambda name: int(name.rsplit(".", 1)[1]))
        if installed and not any(v == python or v.startswith(f"{python}.") for v in selected):
            selected.append(installed[-1])
    os.environ["PYENV_VERSION"] = ":".join(selected)


_select_pyenv_pythons()


def install(session: nox.Session, *args: str) -> None:
    """pip install, at the versions of constraints/ci.txt."""
    session.install(*args, "-c", CI_CONSTRAINTS)


@nox.session
@nox.parametrize("backend", list(UNIT_TESTS))
def tests(session: nox.Session, backend: str) -> None:
    """Unit tests of the core and of one adapter."""
    install(session, "-e", f".[{EXTRAS[backend]},plot]")
    session.run("pytest", *UNIT_TESTS[backend], *session.posargs, env=ENV)


@nox.session
@nox.parametrize("backend", list(EXTRAS))
def conformance(session: nox.Session, backend: str) -> None:
    """The shared conformance suite against the NumPy reference, for one backend."""
    install(session, "-e", f".[{EXTRAS[backend]}]")
    session.run("pytest", "conformance", f"--backend={backend}", *session.posargs,
                env={**ENV, **CONFORMANCE_ENV.get(backend, {})})


@nox.session
def examples(session: nox.Session) -> None:
    """Every example's --quick mode, which asserts its qualitative result."""
    install(session, "-e", f".[{CPU_ALL},test]")
    session.run("pytest", "tests/examples", *session.posargs, env=ENV)


@nox.session(python=PYTHONS)
def core(session: nox.Session) -> None:
    """The core alone, with NumPy and no framework, on every supported Python: the NumPy conformance
    suite, the unit tests that need no framework and the docstrings' examples."""
    install(session, "-e", ".[test]")
    session.run("pytest", "conformance", "--backend=numpy", *session.posargs, env=ENV)
    session.run("pytest", *NUMPY_ONLY_TESTS, *session.posargs, env=ENV)


@nox.session
def typing(session: nox.Session) -> None:
    """A typed user script (tests/typing/) passes ``mypy --strict`` against mivb installed as a wheel,
    then as README's editable install (strict mode): both must be visible to type checkers."""
    scripts = [str(ROOT / "tests" / "typing" / name) for name in ("user_script.py", "adapters.py")]
    # From an empty folder: mypy also searches the current one, where it would find mivb/ itself.
    elsewhere = session.create_tmp()
    for how in (["mypy", str(ROOT)], ["-e", str(ROOT), "--config-settings", "editable_mode=strict"]):
        install(session, *how)
        with session.chdir(elsewhere):
            session.run("mypy", "--strict", "--no-incremental", *scripts)


@nox.session
@nox.parametrize(("backend", "end"), [(backend, end) for backend in ("numpy", "jax", "tensorflow")
                                      for end in ("lowest", "newest")])
def ends(session: nox.Session, backend: str, end: str) -> None:
    """One backend at the lowest (constraints/lowest.txt) or the newest versions its range allows,
    through the conformance suite's values and gradients (pass other pytest arguments after --).
    Not in CI: each downloads a framework. torch is left out: PyPI's torch is the CUDA build (GBs);
    README, "Supported versions", says what was tested and what was not."""
    constraints = ["-c", LOWEST_CONSTRAINTS] if end == "lowest" else []
    session.install("-e", f".[{EXTRAS[backend]}]", *constraints)
    session.run("pip", "list", silent=False)
    quick = [] if backend == "numpy" else ["-k", "value or gradient"]  # NumPy: the whole suite, seconds
    session.run("pytest", "conformance", f"--backend={backend}", *(session.posargs or quick),
                env={**ENV, **CONFORMANCE_ENV.get(backend, {})})
    if backend == "numpy" and not session.posargs:
        session.run("pytest", *NUMPY_ONLY_TESTS, env=ENV)


@nox.session
def bench(session: nox.Session) -> None:
    """Accuracy against closed-form MI, speed against hand-written loops, the cross-fitted intervals'
    coverage and the independence test's size and power (pass --quick for a short run)."""
    install(session, "-e", f".[{CPU_ALL},test]")
    args = session.posargs or ["--quick"]
    session.run("python", "benchmarks/accuracy.py", *args, env=ENV)
    session.run("python", "benchmarks/speed.py", *args, env=ENV)
    session.run("python", "benchmarks/scaling.py", *args, env=ENV)
    session.run("python", "benchmarks/calibration.py", *args, env=ENV)
    session.run("python", "benchmarks/independence.py", *args, env=ENV)
    session.run("python", "benchmarks/conditional.py", *args, env=ENV)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built by ``mkdocs build --strict``: any warning (a broken link or anchor, a
    page left out of the nav, a docstring griffe cannot read) fails it. The API reference is read from the
    sources, so no framework is installed here; the pages' code blocks run in the tests sessions
    (tests/test_docs.py). Pass ``-- serve`` to preview the site."""
    install(session, "-e", ".", "mkdocs>=1.6,<2", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26",
            "ruff")  # ruff formats the signatures in the API reference
    env = {"NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor, not a build warning
    if session.posargs == ["serve"]:
        session.run("mkdocs", "serve", env=env)
    else:
        session.run("mkdocs", "build", "--strict", "--site-dir", f"{session.create_tmp()}/site", env=env)
