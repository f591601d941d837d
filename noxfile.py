"""Test sessions: each backend in its own virtualenv, so each proves it needs only its own extra."""

import os

import nox

nox.options.sessions = ["tests", "conformance"]
nox.options.default_venv_backend = "venv"

# torch on 2 cores: its default thread pool made training 10 to 100 times slower here.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
EXTRAS = {"numpy": "test", "torch": "torch,test"}


@nox.session
def tests(session: nox.Session) -> None:
    """Core and adapter unit tests, with torch installed."""
    session.install("-e", ".[torch,test]")
    session.run("pytest", "tests", *session.posargs, env=ENV)


@nox.session
@nox.parametrize("backend", list(EXTRAS))
def conformance(session: nox.Session, backend: str) -> None:
    """The shared conformance suite against the NumPy reference, for one backend."""
    session.install("-e", f".[{EXTRAS[backend]}]")
    session.run("pytest", "conformance", f"--backend={backend}", *session.posargs, env=ENV)
