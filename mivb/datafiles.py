"""Reading the sample arrays of ``mivb estimate X Z`` from .npy, .npz and .csv files.

Nothing is ever unpickled: a file can run code when it is unpickled, and these files may come
from anywhere. Files hold numbers and the command line has no way to cast, so integer and
boolean arrays are read as float64, as every CSV value is.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .errors import MivbError, invalid

FORMATS = (".npy", ".npz", ".csv")
NUMERIC_KINDS = "fiub"  # float, signed and unsigned integer, boolean


def load_array(source: str, argument: str) -> np.ndarray:
    """The array that ``source`` names: ``file.npy``, ``file.csv``, ``file.npz:name``, or ``file.npz``
    holding a single array. Every problem is a :class:`mivb.MivbError` naming ``argument``."""
    path, name = _split_array_name(source)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise invalid(argument, f"a file ending in {', '.join(FORMATS)}", source)
    if not path.is_file():
        raise invalid(argument, "an existing file", source)
    try:
        if suffix == ".npy":
            array = _read_npy(path, argument, source)
        elif suffix == ".npz":
            array = _read_npz(path, name, argument, source)
        else:
            array = _read_csv(path, argument, source)
    except OSError as error:
        raise invalid(argument, f"a readable file ({error.strerror or error})", source) from None
    if array.dtype.kind not in NUMERIC_KINDS:
        raise invalid(argument, "an array of real numbers", array)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _split_array_name(source: str) -> tuple[Path, str | None]:
    archive, separator, name = source.rpartition(":")
    if separator and archive.lower().endswith(".npz"):
        return Path(archive), name
    return Path(source), None


def _read_npy(path: Path, argument: str, source: str) -> np.ndarray:
    with path.open("rb") as file:
        try:
            np.lib.format.read_magic(file)
        except ValueError:
            raise invalid(argument, "a .npy file (it does not start with NumPy's .npy header)", source) from None
        file.seek(0)
        return _read_member(lambda: np.lib.format.read_array(file, allow_pickle=False), argument, source)


def _read_npz(path: Path, name: str | None, argument: str, source: str) -> np.ndarray:
    if not zipfile.is_zipfile(path):
        raise invalid(argument, "a .npz archive (a zip of .npy files, as numpy.savez writes)", source)
    with np.load(path, allow_pickle=False) as archive:
        names = archive.files
        if name is None and len(names) != 1:
            listed = ", ".join(f"{source}:{n}" for n in names) or "none: the archive is empty"
            raise MivbError(f"{argument}: expected the name of one of the {len(names)} arrays in {source} "
                            f"({listed}), received {argument}={source!r}")
        if name is not None and name not in names:
            listed = ", ".join(repr(n) for n in names)
            raise invalid(argument, f"an array name of {path} ({listed})", source)
        return _read_member(lambda: archive[name or names[0]], argument, source)


def _read_member(read, argument: str, source: str) -> np.ndarray:
    try:
        return read()
    except ValueError as error:  # an object array, which only pickle can load, or a damaged file
        raise invalid(argument, f"a numeric array that loads without pickle (numpy: {error})", source) from None


def _read_csv(path: Path, argument: str, source: str) -> np.ndarray:
    """Comma-separated numbers; a first line with no number in it is a header and is skipped."""
    with path.open(encoding="utf-8-sig") as file:
        lines = file.read().splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    if first is None:
        raise invalid(argument, "a CSV file with at least one row of numbers", source)
    header = not any(_is_number(field) for field in lines[first].split(","))
    try:
        return np.loadtxt(lines, delimiter=",", skiprows=first + header, ndmin=2, dtype=np.float64)
    except ValueError as error:
        raise invalid(argument, f"comma-separated numbers ({str(error).rstrip('.')})", source) from None


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True
