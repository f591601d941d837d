"""Test sessions: each backend in its own virtualenv, so each proves it needs only its own extra."""

import nox

nox.options.sessions = ["tests", "conformance", "examples"]
nox.options.default_venv_backend = "venv"

# torch on 2 cores: its default thread pool made training 10 to 100 times slower here.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
EXTRAS = {"numpy": "test", "torch": "torch,test", "jax": "jax,test", "tensorflow": "tensorflow,test"}
# Unit tests per backend: the core's own tests run beside torch, the reference training backend.
UNIT_TESTS = {
    "torch": ["tests", "--ignore=tests/jax_adapter", "--ignore=tests/tensorflow_adapter", "--ignore=tests/examples",
              "mivb", "--doctest-modules"],  # the docstrings' examples run too
    "jax": ["tests/jax_adapter"],
    "tensorflow": ["tests/tensorflow_adapter"],
}
# JAX computes float64 only in its 64-bit mode, which the suite's float64 cases need.
CONFORMANCE_ENV = {"jax": {"JAX_ENABLE_X64": "1"}}


@nox.session
@nox.parametrize("backend", list(UNIT_TESTS))
def tests(session: nox.Session, backend: str) -> None:
    """Unit tests of the core and of one adapter."""
    session.install("-e", f".[{EXTRAS[backend]},plot]")
    session.run("pytest", *UNIT_TESTS[backend], *session.posargs, env=ENV)


@nox.session
@nox.parametrize("backend", list(EXTRAS))
def conformance(session: nox.Session, backend: str) -> None:
    """The shared conformance suite against the NumPy reference, for one backend."""
    session.install("-e", f".[{EXTRAS[backend]}]")
    session.run("pytest", "conformance", f"--backend={backend}", *session.posargs,
                env={**ENV, **CONFORMANCE_ENV.get(backend, {})})


@nox.session
def examples(session: nox.Session) -> None:
    """Every example's --quick mode, which asserts its qualitative result."""
    session.install("-e", ".[all,test]")
    session.run("pytest", "tests/examples", *session.posargs, env=ENV)


@nox.session
def bench(session: nox.Session) -> None:
    """Accuracy against closed-form MI and speed against hand-written loops (pass --quick for a short run)."""
    session.install("-e", ".[all,test]")
    args = session.posargs or ["--quick"]
    session.run("python", "benchmarks/accuracy.py", *args, env=ENV)
    session.run("python", "benchmarks/speed.py", *args, env=ENV)
    session.run("python", "benchmarks/scaling.py", *args, env=ENV)
