"""Samples named in a table: ``estimate("age", ["x1", "x2"], data=frame)``.

``data`` is a pandas DataFrame (or anything with ``columns`` that indexes like one, such as a
polars DataFrame) or a mapping of names to arrays (a dict, an ``np.load`` archive). A name selects
one column (one feature) or one array of the mapping (as it is: (n,), (n, d) or images); a list
of names stacks them as features. The selected values then pass the checks any samples pass
(``mivb.samples.as_samples``): a column of strings or integers is refused like an array of
them, except as ``ba``'s labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import InvalidTypeError, invalid


def names_of(data: Any) -> list[str] | None:
    """The names ``data`` holds, or None when it is no table."""
    if hasattr(data, "columns") and hasattr(data, "__getitem__"):
        return [str(name) for name in data.columns]
    if isinstance(data, Mapping) or (hasattr(data, "files") and hasattr(data, "__getitem__")):  # NpzFile
        return [str(name) for name in (data.files if hasattr(data, "files") else data.keys())]
    return None


def select(data: Any, argument: str, names: Any) -> Any:
    """The values of ``data`` that ``names`` (a name or a list of names) selects for ``argument``."""
    available = names_of(data)
    if available is None:
        raise InvalidTypeError(f"data: expected a pandas DataFrame or a mapping of names to arrays (a dict, an "
                               f"np.load archive), received data={type(data).__name__}")
    single = isinstance(names, str)
    if not single and not (isinstance(names, Sequence) and names and all(isinstance(n, str) for n in names)):
        raise invalid(argument, "a name or a non-empty list of names in data", names)
    wanted = [names] if single else list(names)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise invalid(argument, f"names in data ({', '.join(map(repr, available))})", names)
    if hasattr(data, "columns"):  # a data frame: its columns, as one 2-D array (1-D for one name)
        return np.asarray(data[names].to_numpy()) if single else np.asarray(data[wanted].to_numpy())
    arrays = [np.asarray(data[name]) for name in wanted]
    if single:
        return arrays[0]
    if any(a.ndim > 2 or len(a) != len(arrays[0]) for a in arrays):
        raise invalid(argument, "names of 1-D or 2-D arrays of one length, to stack as features",
                      {name: a.shape for name, a in zip(wanted, arrays)})
    return np.column_stack(arrays)


def from_table(data: Any, **named: Any) -> dict[str, Any]:
    """Each of ``named`` (x, z, given: names, or None) selected from ``data``; ``data`` None: as given."""
    if data is None:
        return named
    return {argument: None if names is None else select(data, argument, names) for argument, names in named.items()}
