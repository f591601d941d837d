"""Reading the sample arrays of ``mivb estimate X Z`` from .npy, .npz and .csv files.

Nothing is ever unpickled: a file can run code when it is unpickled, and these files may come
from anywhere. Files hold numbers and the command line has no way to cast, so integer and
boolean arrays are read as float64, as every CSV value is.

For the same reason a file's header is not trusted: the size it declares is compared with the
bytes the file holds before anything is allocated, and every way a file can be damaged (a bad
zip, a bad CRC, an encrypted member, bytes that are not UTF-8) is a [`mivb.MivbError`][].
"""

from __future__ import annotations

import math
import os
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from .errors import MivbError, invalid

FORMATS = (".npy", ".npz", ".csv")
NUMERIC_KINDS = "fiub"  # float, signed and unsigned integer, boolean
SAMPLE_SHAPES = "(n,) or (n, d) (vectors), or (n, C, H, W) (images; (n, H, W, C) in JAX and TensorFlow)"
# Version 3.0 differs from 2.0 only in its header's encoding (UTF-8, for non-ASCII field names of
# structured dtypes, which are not numbers and are refused anyway), so 2.0's reader reads it.
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0,
                  (3, 0): np.lib.format.read_array_header_2_0}
# What zipfile and its decompressors raise on a damaged archive (a bad CRC, a truncated or
# corrupt deflate stream, a compression method Python does not support, a name that is not UTF-8).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, UnicodeDecodeError)
CHUNK_BYTES = 1 << 20


def load_array(source: str, argument: str) -> np.ndarray:
    """The array that ``source`` names: ``file.npy``, ``file.csv``, ``file.npz:name``, ``file.npz``
    holding a single array, or ``file.csv:a,b``, columns of a CSV (header names or 0-based indices).
    Every problem is a [`mivb.MivbError`][] naming ``argument``."""
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
            array = _read_csv(path, argument, source, name)
    except OSError as error:
        raise invalid(argument, f"a readable file ({error.strerror or error})", source) from None
    if array.dtype.kind not in NUMERIC_KINDS:
        raise invalid(argument, "an array of real numbers", array)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def load_samples(source: str, argument: str) -> np.ndarray:
    """``load_array``, refused unless its axes are those of samples ``mivb.estimate`` takes: a 3-D
    (n, a, b) array is neither vectors nor images, and would otherwise only fail deep in a backend."""
    array = load_array(source, argument)
    if array.ndim not in (1, 2, 4):
        raise invalid(argument, f"samples of shape {SAMPLE_SHAPES}", array)
    return array


def load_table(source: str, argument: str) -> dict[str, np.ndarray]:
    """The named columns of a table file, as ``mivb.screen`` takes them: a CSV whose first line names
    its columns (each a float64 column), or a .npz archive (each array by its name)."""
    path = Path(source)
    if path.suffix.lower() == ".npz":
        names = npz_array_names(source)
        if names is None:
            load_array(source, argument)  # says what is wrong with the file
            raise invalid(argument, "a readable .npz archive", source)
        return {name: load_samples(f"{source}:{name}", argument) for name in names}
    if path.suffix.lower() != ".csv":
        raise invalid(argument, "a table file: a .csv with a header line naming its columns, or a .npz archive of "
                      "named arrays", source)
    table = load_array(source, argument)
    lines = [line for line in _read_text(path, argument, source).splitlines() if _is_data(line)]
    names = [field.strip() for field in lines[0].split(",")]
    if any(_is_number(name) for name in names):
        raise invalid(argument, "a CSV whose first line names its columns (a header)", source)
    if len(set(names)) != len(names) or len(names) != table.shape[1]:
        raise invalid(argument, f"a header of {table.shape[1]} distinct column names", source)
    return {name: table[:, i] for i, name in enumerate(names)}


def npz_array_names(source: str) -> list[str] | None:
    """The names of the arrays of ``source`` when it names a whole, readable .npz archive, else None."""
    path, name = _split_array_name(source)
    if name is not None or path.suffix.lower() != ".npz" or not path.is_file() or not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            return list(_members(archive))
    except (OSError, *ZIP_ERRORS):
        return None  # load_array reads it again, and says what is wrong with it


def _split_array_name(source: str) -> tuple[Path, str | None]:
    archive, separator, name = source.rpartition(":")
    if separator and archive.lower().endswith((".npz", ".csv")):
        return Path(archive), name
    return Path(source), None


def _read_npy(path: Path, argument: str, source: str) -> np.ndarray:
    with path.open("rb") as file:
        return _read_stream(file, os.fstat(file.fileno()).st_size, "a .npy file", argument, source)


def _read_npz(path: Path, name: str | None, argument: str, source: str) -> np.ndarray:
    if not zipfile.is_zipfile(path):
        raise invalid(argument, "a .npz archive (a zip of .npy files, as numpy.savez writes)", source)
    try:
        with zipfile.ZipFile(path) as archive:
            info = _member(archive, path, name, argument, source)
            with archive.open(info) as file:
                array = _read_stream(file, info.file_size, f"a .npy file as member {info.filename!r}", argument,
                                     source)
                _drain(file)
            return array
    except ZIP_ERRORS as error:
        raise invalid(argument, f"an intact .npz archive (zip: {_short(error)})", source) from None


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's files by array name: ``x.npy`` is the array ``x``, as ``numpy.load`` names it."""
    return {info.filename.removesuffix(".npy"): info for info in archive.infolist() if not info.is_dir()}


def _member(archive: zipfile.ZipFile, path: Path, name: str | None, argument: str, source: str) -> zipfile.ZipInfo:
    members = _members(archive)
    if name is None and len(members) != 1:
        listed = ", ".join(f"{source}:{n}" for n in members) or "none: the archive is empty"
        raise MivbError(f"{argument}: expected the name of one of the {len(members)} arrays in {source} "
                        f"({listed}), received {argument}={source!r}")
    info = members.get(name.removesuffix(".npy")) if name is not None else next(iter(members.values()))
    if info is None:
        listed = ", ".join(repr(n) for n in members)
        raise invalid(argument, f"an array name of {path} ({listed})", source)
    if not info.filename.endswith(".npy"):
        raise invalid(argument, f"an archive of .npy files, as numpy.savez writes (its member {info.filename!r} "
                      "is not one)", source)
    if info.flag_bits & 0x1:  # zipfile would ask for a password
        raise invalid(argument, f"an unencrypted .npz archive (its member {info.filename!r} is encrypted)", source)
    return info


def _drain(file: IO[bytes]) -> None:
    """Read a member to its end, in chunks: zipfile checks a member's CRC only once it reaches the end."""
    while file.read(CHUNK_BYTES):
        pass


def _read_stream(file: IO[bytes], size: int, what: str, argument: str, source: str) -> np.ndarray:
    """The array of the .npy data in ``file`` (``size`` bytes in all). numpy allocates the array its
    header declares before reading the data, so a damaged or hostile header declaring petabytes is
    refused first, by comparing the size it declares with the bytes that follow it."""
    with warnings.catch_warnings():  # a header's warnings (a Python 2 header, a deprecated dtype alias,
        warnings.simplefilter("ignore")  # an escape in a damaged one) would be more lines than the one error
        shape, dtype = _read_header(file, what, argument, source)
        if not dtype.hasobject:  # an object array is a pickle, of any size; read_array refuses it below
            _check_size(shape, dtype, size - file.tell(), what, argument, source)
        file.seek(0)
        return _read_member(lambda: np.lib.format.read_array(file, allow_pickle=False), argument, source)


def _read_header(file: IO[bytes], what: str, argument: str, source: str) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(file)
    except ValueError:
        raise invalid(argument, f"{what} (it does not start with NumPy's .npy header)", source) from None
    read_header = HEADER_READERS.get(version)
    if read_header is None:
        raise invalid(argument, f"{what} of a format version numpy reads (1.0, 2.0 or 3.0; it is "
                      f"{version[0]}.{version[1]})", source)
    try:
        shape, _, dtype = read_header(file)
    # numpy re-parses a bad header with tokenize, and parses some damaged dtypes ('<,8') with ast
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError) as error:
        raise invalid(argument, f"{what} with a readable header (numpy: {_short(error)})", source) from None
    return shape, dtype


def _check_size(shape: tuple[int, ...], dtype: np.dtype, available: int, what: str, argument: str,
                source: str) -> None:
    if any(size < 0 for size in shape):
        raise invalid(argument, f"{what} whose header declares no negative size (its shape is {shape})", source)
    needed = math.prod(shape) * dtype.itemsize  # Python integers: a declared size cannot overflow
    if needed > available:
        raise invalid(argument, f"{what} holding the data its header declares (shape {shape} of {dtype} is "
                      f"{needed} bytes; the file holds {available})", source)


def _read_member(read: Callable[[], np.ndarray], argument: str, source: str) -> np.ndarray:
    try:
        return read()
    except ValueError as error:  # an object array, which only pickle can load, or a damaged file
        raise invalid(argument, f"a numeric array that loads without pickle (numpy: {_short(error)})",
                      source) from None


def _read_csv(path: Path, argument: str, source: str, columns: str | None = None) -> np.ndarray:
    """Comma-separated numbers; a first line with no number in it is a header and is skipped.
    ``columns`` (``"a,b"``: header names or 0-based indices) selects columns, in that order."""
    lines = _read_text(path, argument, source).splitlines()
    first = next((i for i, line in enumerate(lines) if _is_data(line)), None)
    header = first is not None and not any(_is_number(field) for field in lines[first].split(","))
    if first is None or not any(_is_data(line) for line in lines[first + header:]):
        raise invalid(argument, "a CSV file with at least one row of numbers", source)
    names = [field.strip() for field in lines[first].split(",")] if header else []
    try:
        table = np.loadtxt(lines, delimiter=",", skiprows=first + header, ndmin=2, dtype=np.float64)
    except ValueError as error:
        raise invalid(argument, f"comma-separated numbers ({_short(error).rstrip('.')})", source) from None
    if columns is None:
        return table
    return table[:, [_column_index(column, names, table.shape[1], path, argument, source)
                     for column in columns.split(",")]]


def _column_index(column: str, names: list[str], count: int, path: Path, argument: str, source: str) -> int:
    """A column of a CSV named by its header's name or by its 0-based index."""
    column = column.strip()
    if column in names:
        return names.index(column)
    if column.isdigit() and int(column) < count:
        return int(column)
    header = f"a name of its header ({', '.join(names)}) or " if names else ""
    raise invalid(argument, f"columns of {path} named by {header}a 0-based index below {count}, "
                  f"separated by commas ({column!r} is neither)", source)


def _read_text(path: Path, argument: str, source: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:  # a spreadsheet's Latin-1 or UTF-16 export, or not text at all
        line = error.object.count(b"\n", 0, error.start) + 1
        raise invalid(argument, f"a UTF-8 text file (byte {error.object[error.start]:#04x} on line {line} is not "
                      "UTF-8: save the CSV as UTF-8)", source) from None


def _is_data(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _short(error: BaseException, limit: int = 160) -> str:
    """An error's message, cut: numpy quotes a whole damaged header, up to 10 kB of it."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
