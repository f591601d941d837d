"""The errors mivb raises: one base class, messages of the form "expected ..., received name=value"."""

from __future__ import annotations

from typing import Any, Iterable


class MivbError(Exception):
    """Base class of every error mivb raises on purpose."""


class InvalidArgumentError(MivbError, ValueError):
    """An argument has the right type but a value mivb cannot use (shape, range, NaN, name)."""


class InvalidTypeError(MivbError, TypeError):
    """An argument has a type mivb cannot use (integer data, mixed frameworks, ...)."""


class BackendNotAvailableError(MivbError, ImportError):
    """A backend's framework is not installed; the message names the ``pip install`` that fixes it."""


class UnknownNameError(InvalidArgumentError):
    """A bound, critic, activation or backend name that mivb does not know."""


def describe(value: Any) -> str:
    """A short, readable rendering of a received value for error messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__}(shape={tuple(shape)}, dtype={dtype})"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def invalid(argument: str, expected: str, received: Any, *, error: type[MivbError] = InvalidArgumentError) -> MivbError:
    """Build the standard message: ``argument: expected ..., received argument=value``."""
    return error(f"{argument}: expected {expected}, received {argument}={describe(received)}")


def unknown_name(argument: str, received: Any, choices: Iterable[str]) -> UnknownNameError:
    listed = ", ".join(repr(choice) for choice in sorted(choices))
    return UnknownNameError(f"{argument}: expected one of {listed}, received {argument}={received!r}")
