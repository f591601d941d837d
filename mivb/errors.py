"""The errors mivb raises: one base class, messages of the form "expected ..., received name=value"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


class MivbError(Exception):
    """Base class of every error mivb raises on purpose."""


class InvalidArgumentError(MivbError, ValueError):
    """An argument has the right type but a value mivb cannot use (shape, range, NaN, name)."""


class InvalidTypeError(MivbError, TypeError):
    """An argument has a type mivb cannot use (integer data, mixed frameworks, ...)."""


class BackendNotAvailableError(MivbError, ImportError):
    """A backend's framework is not installed; the message names the ``pip install`` that fixes it."""


class PlottingNotAvailableError(MivbError, ImportError):
    """matplotlib is not installed; the message names the ``pip install`` that adds it."""


class UnknownNameError(InvalidArgumentError):
    """A bound, critic, activation or backend name that mivb does not know."""


class Shown:
    """A received value already put in words, for values ``describe`` cannot render."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def describe(value: Any) -> str:
    """A short, readable rendering of a received value for error messages."""
    try:
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    except Exception:  # noqa: BLE001 - some arrays (torch's nested tensors) raise on .shape
        shape = dtype = None
    if shape is not None and dtype is not None and not isinstance(value, np.generic):  # np.float32(5.0) shows its value
        return f"{type(value).__name__}(shape={tuple(shape)}, dtype={dtype})"
    text = repr(value)
    limit = 240 if isinstance(value, str) else 80  # a string is often a file's path: shown whole
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid(argument: str, expected: str, received: Any, *, error: type[MivbError] = InvalidArgumentError) -> MivbError:
    """Build the standard message: ``argument: expected ..., received argument=value``."""
    return error(f"{argument}: expected {expected}, received {argument}={describe(received)}")


def unknown_name(argument: str, received: Any, choices: Iterable[str]) -> UnknownNameError:
    listed = ", ".join(repr(choice) for choice in sorted(choices))
    return UnknownNameError(f"{argument}: expected one of {listed}, received {argument}={received!r}")
