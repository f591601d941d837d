"""Samples named in a table: ``estimate("age", ["x1", "x2"], data=frame)``.

``data`` is a pandas DataFrame (or anything with ``columns`` that indexes like one, such as a
polars DataFrame) or a mapping of names to arrays (a dict, an ``np.load`` archive). A name selects
one column (one feature) or one array of the mapping (as it is: (n,), (n, d) or images); a list
of names stacks them as features. The selected values then pass the checks any samples pass
(``mivb.samples.as_samples``): a column of strings or integers is refused like an array of
them, except as ``ba``'s labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InvalidTypeError, Shown, invalid


def names_of(data: Any) -> list[Any] | None:
    """The names ``data`` holds (column labels or keys, as they are: strings, or integers such as a
    DataFrame's default labels), or None when it is no table."""
    if hasattr(data, "columns") and hasattr(data, "__getitem__"):
        return list(data.columns)
    if isinstance(data, Mapping) or (hasattr(data, "files") and hasattr(data, "__getitem__")):  # NpzFile
        return list(data.files if hasattr(data, "files") else data.keys())
    return None


def _label(argument: str, name: Any, available: list[Any], names: Any) -> Any:
    """The label of ``available`` that ``name`` means: itself, or the one label whose string it is
    ("0" for a DataFrame's default label 0)."""
    matches = [label for label in available if type(label) is type(name) and label == name]
    if not matches and isinstance(name, str):
        matches = [label for label in available if str(label) == name]
    if not matches:
        expected = (f"names in data ({', '.join(map(repr, available))})" if isinstance(name, str)
                    else "a name or a non-empty list of names in data")
        raise invalid(argument, expected, names)
    if len(matches) > 1:
        raise invalid(argument, f"names that select one column each (data has {len(matches)} columns named "
                      f"{matches[0]!r})", names)
    return matches[0]


def _array(data: Any, argument: str, label: Any) -> np.ndarray:
    """One array of a mapping, read now: an archive's problems are errors naming ``argument``."""
    try:
        return np.asarray(data[label])
    except ValueError as error:  # an np.load archive's object member: refused without pickle
        raise invalid(argument, f"numeric arrays in data ({label!r} could not be read: {error})",
                      Shown(repr(label))) from None
    except AttributeError:  # an np.load archive after close()
        raise invalid("data", "an open np.load archive (read it inside its with block, or before close())",
                      data) from None


def select(data: Any, argument: str, names: Any) -> Any:
    """The values of ``data`` that ``names`` (a name or a list of names) selects for ``argument``."""
    available = names_of(data)
    if available is None:
        raise InvalidTypeError(f"data: expected a pandas DataFrame or a mapping of names to arrays (a dict, an "
                               f"np.load archive), received data={type(data).__name__}")
    single = not isinstance(names, (list, tuple))
    if not single and not names:
        raise invalid(argument, "a name or a non-empty list of names in data", names)
    wanted = [_label(argument, name, available, names) for name in ([names] if single else names)]
    if hasattr(data, "columns"):  # a data frame: its columns, as one 2-D array (1-D for one name)
        return np.asarray(data[wanted[0]].to_numpy()) if single else np.asarray(data[wanted].to_numpy())
    arrays = [_array(data, argument, name) for name in wanted]
    if single:
        return arrays[0]
    if any(a.ndim > 2 or len(a) != len(arrays[0]) for a in arrays):
        raise invalid(argument, "names of 1-D or 2-D arrays of one length, to stack as features",
                      {name: a.shape for name, a in zip(wanted, arrays)})
    return np.column_stack(arrays)


def variables(argument: str, names: Any, groups: Any, *, default: list[Any]) -> dict[Any, Any]:
    """The variables of a table that ``mi_matrix`` pairs or ``screen`` screens: each one's name and its
    selection, a column's name (``names``, the ``argument``; ``default`` when neither is given) or a
    group's list of names (``groups``, a mapping)."""
    if names is None and groups is None:
        names = default
    if names is not None and not isinstance(names, (list, tuple)):
        raise invalid(argument, "a list of column names", names, error=InvalidTypeError)
    if groups is not None and not isinstance(groups, Mapping):
        raise invalid("groups", "a mapping of names to lists of column names", groups, error=InvalidTypeError)
    chosen: dict[Any, Any] = {name: name for name in names or []}
    for name, group in (groups or {}).items():
        if name in chosen:
            raise invalid("groups", f"names apart from the {argument}' ({name!r} is both)", name)
        chosen[name] = list(group) if isinstance(group, (list, tuple)) else group
    return chosen


def from_table(data: Any, **named: Any) -> dict[str, Any]:
    """Each of ``named`` (x, z, given: names, or None) selected from ``data``; ``data`` None: as given."""
    if data is None:
        return named
    return {argument: None if names is None else select(data, argument, names) for argument, names in named.items()}


def as_table(table: Any, names: list[Any] | None) -> Any:
    """``table`` as something ``select`` reads: a 2-D NumPy array, with one name per column, becomes
    a dict of its columns; a DataFrame or a mapping stays as it is."""
    if isinstance(table, np.ndarray):
        if table.ndim != 2 or names is None or len(names) != table.shape[1]:
            raise invalid("names", "one name per column of a 2-D NumPy table", names if table.ndim == 2 else
                          Shown(f"a table of shape {table.shape}"))
        return {name: table[:, i] for i, name in enumerate(names)}
    if names is not None:
        raise invalid("names", "None for a table that names its columns (names are for a NumPy table)", names)
    if names_of(table) is None:
        raise invalid("table", "a pandas DataFrame, a mapping of names to arrays, or a 2-D NumPy array with names",
                      table, error=InvalidTypeError)
    return table
