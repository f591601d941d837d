"""Test sessions: each backend in its own virtualenv, so each proves it needs only its own extra.

Every install goes through ``install``, which passes constraints/ci.txt to pip: CI gets the exact
versions written there, never a release that came out since. ``ends`` installs the lowest or the
newest versions pyproject.toml's ranges allow instead (not run by CI: it downloads frameworks).
"""

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import nox

nox.options.sessions = ["tests", "examples", "cluster", "docs", "typing", "core"]  # README's test command
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
              "--ignore=tests/test_many_cluster.py",
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


def discarded_in_ci(session_function: Callable[..., None]) -> Callable[..., None]:
    """Remove the session's virtualenv when the session ends, where CI is set (.ci/run sets it).

    README's test command fills one virtualenv per session, 14 GB together (three frameworks,
    twice all three for examples and typing); CI's disk ran out at the last of them. One at a
    time, the run needs the largest, about 3 GB.
    """
    @functools.wraps(session_function)
    def run(session: nox.Session, **parameters: str) -> None:
        try:
            session_function(session, **parameters)
        finally:
            location = getattr(session.virtualenv, "location", None)
            if os.environ.get("CI", "").lower() in {"1", "true", "yes"} and location:
                session.log(f"CI: removing {location}")
                shutil.rmtree(location, ignore_errors=True)
    return run


def install(session: nox.Session, *args: str) -> None:
    """pip install, at the versions of constraints/ci.txt."""
    session.install(*args, "-c", CI_CONSTRAINTS)


@nox.session
@nox.parametrize("backend", list(UNIT_TESTS))
@discarded_in_ci
def tests(session: nox.Session, backend: str) -> None:
    """Unit tests of the core and of one adapter, then the conformance suite for that adapter, in one
    virtualenv: CI installs each framework once (its wheels are hundreds of MB; `core` runs NumPy's
    conformance suite)."""
    install(session, "-e", f".[{EXTRAS[backend]},plot]")
    session.run("pytest", *UNIT_TESTS[backend], "-n", "auto", *session.posargs, env=ENV)
    run_conformance(session, backend)


@nox.session
@nox.parametrize("backend", list(EXTRAS))
def conformance(session: nox.Session, backend: str) -> None:
    """The shared conformance suite against the NumPy reference, for one backend."""
    install(session, "-e", f".[{EXTRAS[backend]}]")
    run_conformance(session, backend)


def run_conformance(session: nox.Session, backend: str) -> None:
    # The checks are independent: one worker per core (pytest-xdist) halves CI's longest sessions.
    session.run("pytest", "conformance", f"--backend={backend}", "-n", "auto", *session.posargs,
                env={**ENV, **CONFORMANCE_ENV.get(backend, {})})


@nox.session
@discarded_in_ci
def examples(session: nox.Session) -> None:
    """Every example's --quick mode, which asserts its qualitative result, and the benchmarks that
    tests/examples smoke-tests (scikit-learn: benchmarks/screening.py's peers)."""
    install(session, "-e", f".[{CPU_ALL},test,bench]")
    session.run("pytest", "tests/examples", "-n", "auto", *session.posargs, env=ENV)


@nox.session
@discarded_in_ci
def cluster(session: nox.Session) -> None:
    """mivb.estimate_many and mivb.screen on a local Ray cluster and a Dask LocalCluster of 2 workers
    each, against local processes: the same results (tests/test_many_cluster.py, which no other
    session runs). In CI's command: about 3 minutes, most of it installing Ray."""
    install(session, "-e", ".[test,ray,dask]")
    session.run("pytest", "tests/test_many_cluster.py", *session.posargs, env=ENV)


@nox.session(python=PYTHONS)
@discarded_in_ci
def core(session: nox.Session) -> None:
    """The core alone, with NumPy and no framework, on every supported Python: the NumPy conformance
    suite, the unit tests that need no framework and the docstrings' examples."""
    install(session, "-e", ".[test]")
    session.run("pytest", "conformance", "--backend=numpy", *session.posargs, env=ENV)
    session.run("pytest", *NUMPY_ONLY_TESTS, *session.posargs, env=ENV)


@nox.session
@discarded_in_ci
def typing(session: nox.Session) -> None:
    """A typed user script (tests/typing/) passes ``mypy --strict`` against mivb installed as a wheel,
    then as README's editable install (strict mode): both must be visible to type checkers. Then the
    library itself, ``mypy --strict mivb adapters`` with every framework installed (pyproject.toml's
    [tool.mypy] says which libraries ship no types)."""
    scripts = [str(ROOT / "tests" / "typing" / name) for name in ("user_script.py", "adapters.py")]
    # From an empty folder: mypy also searches the current one, where it would find mivb/ itself.
    elsewhere = session.create_tmp()
    for how in (["mypy", str(ROOT)], ["-e", str(ROOT), "--config-settings", "editable_mode=strict"]):
        install(session, *how)
        with session.chdir(elsewhere):
            session.run("mypy", "--strict", "--no-incremental", *scripts)
    install(session, "-e", f"{ROOT}[{CPU_ALL}]", "--config-settings", "editable_mode=strict")
    with session.chdir(ROOT):
        session.run("mypy", "--strict", "--no-incremental", "mivb", "adapters")


@nox.session
@discarded_in_ci
def lint(session: nox.Session) -> None:
    """ruff's default rules over the whole repository (its version pinned in constraints/ci.txt, so
    that the rules do not change under CI; the exceptions are in pyproject.toml)."""
    install(session, "ruff")
    session.run("ruff", "check", ".")


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
    coverage, the independence test's size and power and the screening of a table's features against
    scikit-learn's (pass --quick for a short run)."""
    install(session, "-e", f".[{CPU_ALL},test,bench]")
    args = session.posargs or ["--quick"]
    session.run("python", "benchmarks/accuracy.py", *args, env=ENV)
    session.run("python", "benchmarks/high_mi.py", *args, env=ENV)
    session.run("python", "benchmarks/speed.py", *args, env=ENV)
    session.run("python", "benchmarks/scaling.py", *args, env=ENV)
    session.run("python", "benchmarks/calibration.py", *args, env=ENV)
    session.run("python", "benchmarks/independence.py", *args, env=ENV)
    session.run("python", "benchmarks/conditional.py", *args, env=ENV)
    session.run("python", "benchmarks/screening.py", *args, env=ENV)


# Beyond Normal (Czyz et al., NeurIPS 2023) from its own package: benchmark-mi 0.1.3 needs numpy < 2,
# pandas < 2, pydantic 1, jax < 0.5 and equinox < 0.11, where mivb needs numpy >= 2, so no install
# resolves both. Its pins win here (the benchmark is theirs) and mivb goes in without its
# dependencies (torch, scipy and tqdm come with the line below). jax 0.4.30: pip's newest jax < 0.5
# (0.4.38) removed jax.core.pp_eqn_rules, which equinox 0.10 sets at import, and bmi with it fails.
# torch and matplotlib at ci.txt's versions: an unpinned torch is PyPI's CUDA build (GBs).
BMI = ["benchmark-mi==0.1.3", "jax==0.4.30", "jaxlib==0.4.30", "torch==2.13.0", "matplotlib==3.11.2"]
# XLA's thread pools, like torch's (ENV): bmi's estimators are jax programs.
XLA_ENV = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


@nox.session
def beyond_normal(session: nox.Session) -> None:
    """mivb's defaults beside bmi's own estimators on bmi's Beyond Normal tasks, the same samples
    (benchmarks/beyond_normal.py; --quick unless other arguments follow --). Not in CI: it
    downloads jax and bmi's pins, and the full run takes hours."""
    session.install(*BMI)  # not CI's constraints: they pin numpy 2, which bmi refuses
    session.install("--no-deps", "-e", ".")
    session.run("python", "-c", "import numpy, jax, torch, bmi, mivb; print('numpy', numpy.__version__, "
                "'jax', jax.__version__, 'torch', torch.__version__)")
    session.run("python", "benchmarks/beyond_normal.py", *(session.posargs or ["--quick"]), env={**ENV, **XLA_ENV})


# The GPU builds, from PyPI: its Linux torch wheel is the CUDA build; JAX and TensorFlow name theirs.
GPU_FRAMEWORKS = ["torch>=2.4", "jax[cuda12]>=0.4.38", "tensorflow[and-cuda]>=2.18", "keras>=3.5", "optax>=0.2.4",
                  "equinox>=0.12"]
# The conformance checks a GPU run repeats: float32 values and gradients, half precision, training.
GPU_CHECKS = "(float32 and (value or gradient)) or half or gaussian-infonce or gaussian-smile or deterministic"


def _no_gpu_reason() -> str | None:
    """Why this machine cannot run the GPU session, or None when nvidia-smi lists a GPU."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "no NVIDIA GPU here: nvidia-smi is not on PATH (nox -s gpu needs an NVIDIA GPU and its driver)"
    listed = subprocess.run([smi, "-L"], check=False, capture_output=True, text=True).stdout
    if "GPU" not in listed:
        return f"no NVIDIA GPU here: nvidia-smi -L lists none ({listed.strip() or 'no output'})"
    return None


@nox.session
def gpu(session: nox.Session) -> None:
    """Everything that needs a GPU, in one run, into benchmarks/results/gpu.json: the conformance
    suite on CUDA (GPU_CHECKS) for torch, JAX and TensorFlow, the speed of mixed precision and
    compiled torch at batch 128 to 4096, and the data-parallel estimator over every local GPU with
    NCCL. It installs the CUDA builds itself. Without a GPU it is skipped, and says why."""
    reason = _no_gpu_reason()
    if reason is not None:
        session.skip(reason)
    session.install("-e", ".[test,plot]", *GPU_FRAMEWORKS)  # not CI's constraints: they pin CPU builds
    tmp = Path(session.create_tmp())
    conformance = {}
    for backend in ("torch", "jax", "tensorflow"):
        report = tmp / f"conformance-{backend}.xml"
        session.run("pytest", "conformance", f"--backend={backend}", "--device=cuda", "-k", GPU_CHECKS, "-q",
                    f"--junitxml={report}", env={**CONFORMANCE_ENV.get(backend, {})}, success_codes=[0, 1])
        suite = ElementTree.parse(report).getroot().find("testsuite")
        conformance[backend] = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    session.run("python", "benchmarks/speed.py", "--only-precision", "--device", "cuda", "--steps", "600",
                "--repeats", "1", "--backends", "torch", "jax", "tensorflow", "--batches", "128", "512", "1024",
                "2048", "4096")
    session.run("python", "examples/distributed_torch.py", "--quick", "--device", "cuda", "--out", str(tmp))
    speed = json.loads((ROOT / "benchmarks" / "results" / "speed_precision_cuda.json").read_text())
    distributed = dict(line.split(" ", 1) for line in (tmp / "distributed_torch.txt").read_text().splitlines())
    gpus = subprocess.run(["nvidia-smi", "-L"], check=False, capture_output=True, text=True).stdout.strip().splitlines()
    results = {"date": str(date.today()), "gpus": gpus, "conformance": conformance, "speed": speed["rows"],
               "distributed": distributed}
    (ROOT / "benchmarks" / "results" / "gpu.json").write_text(json.dumps(results, indent=1))
    session.log(json.dumps(conformance))
    failed = {backend: counts for backend, counts in conformance.items() if counts["failures"] or counts["errors"]}
    if failed:
        session.error(f"conformance failed on the GPU: {failed} (benchmarks/results/gpu.json)")


@nox.session
@discarded_in_ci
def docs(session: nox.Session) -> None:
    """The documentation site, built by ``mkdocs build --strict``: any warning (a broken link or anchor, a
    page left out of the nav, a docstring griffe cannot read) fails it. The API reference is read from the
    sources; the tutorials (docs/tutorials/) run while the site builds (markdown-exec), with torch,
    matplotlib and pandas, so their outputs and figures are the code's. The other pages' code blocks run
    in the tests sessions (tests/test_docs.py). Pass ``-- serve`` to preview the site."""
    # ruff formats the signatures in the API reference; django-static-mathjax is a copy of MathJax
    # (no Django) that mkdocs_hooks.py serves with the site, so formulas render offline
    install(session, "-e", ".[torch,plot]", "pandas>=2.2", "mkdocs>=1.6,<2", "mkdocs-material>=9.5",
            "mkdocstrings[python]>=0.26", "ruff", "django-static-mathjax>=3.2", "markdown-exec>=1.9")
    # mkdocs-material's banner about its successor is no build warning; ENV: torch on 2 cores (tutorials)
    env = {**ENV, "NO_MKDOCS_2_WARNING": "1"}
    if session.posargs == ["serve"]:
        session.run("mkdocs", "serve", env=env)
    else:
        session.run("mkdocs", "build", "--strict", "--site-dir", f"{session.create_tmp()}/site", env=env)
