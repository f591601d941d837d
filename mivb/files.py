"""Writing files so that a failure part-way never destroys what was there: a temporary file beside
the target, then ``os.replace``, which is atomic on POSIX and Windows."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import IO, Any


def with_suffix(path: Any, suffix: str) -> Any:
    """``path`` with ``suffix`` added when it lacks it, as ``numpy.savez`` adds ``.npz``; a file object as it is."""
    try:
        name = os.fspath(path)
    except TypeError:
        return path
    if not isinstance(name, str):  # a bytes path: left as given
        return path
    return name if name.endswith(suffix) else f"{name}{suffix}"


def atomic_write(path: Any, write: Callable[[IO[bytes]], None]) -> None:
    """``write(file)`` into a temporary file in ``path``'s folder, then rename it to ``path``: the old
    file stays whole until the new one is complete (a full disk, an error or a kill part-way leave it
    as it was). A file object (no path) is written directly."""
    try:
        target = os.fspath(path)
    except TypeError:
        write(path)
        return
    folder = os.path.dirname(os.path.abspath(target))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
