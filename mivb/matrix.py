"""``mivb.mi_matrix``: the MI between every two variables of a table (columns, or named groups of
columns), one task of ``mivb.estimate_many`` per pair, so it runs on the same executors and gives
the same matrix on every one."""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np

from .errors import Shown, invalid
from .many import TaskFailure, check_options, estimate_task, run_tasks
from .notes import NoteWarning
from .tables import as_table, from_table, names_of, variables

__all__ = ["mi_matrix"]


def mi_matrix(table: Any, columns: list[Any] | None = None, *, groups: Mapping[Any, list[Any]] | None = None,
              names: list[Any] | None = None, executor: Any = None, workers: int | None = None, seed: int = 0,
              cache_dir: Any = None, progress: bool | None = None, **options: Any) -> Any:
    """The MI between every two variables of a table, as a symmetric matrix (nats).

    Each pair is one task of [`mivb.estimate_many`][mivb.estimate_many], seeded from ``seed`` and the
    pair, so the matrix is the same on every executor. Two single columns run KSG
    (``bound="ksg"``: no training, at its best in few dimensions), unless ``options`` name a
    ``bound``; a pair with a group runs [`mivb.estimate`][mivb.estimate.estimate]'s default. The
    diagonal is NaN (a variable's MI with itself is infinite for continuous data). A pair that
    failed is NaN, and a pair whose estimate carries notes is named in one ``mivb.NoteWarning``:
    for every estimate with its notes and kind, run ``estimate_many`` on the pairs.

    Args:
        table: a pandas DataFrame, a mapping of names to arrays, or a 2-D NumPy array with ``names``.
        columns: the columns, each one variable (default: every column, when ``groups`` is None).
        groups: named lists of columns, each one variable (stacked as features), after ``columns``.
        names: the column names of a NumPy ``table``.
        executor, workers, seed, cache_dir, progress: as for [`mivb.estimate_many`][mivb.estimate_many].
        **options: any option of [`mivb.estimate`][mivb.estimate.estimate], the same for every pair.

    Returns:
        A pandas DataFrame indexed by the variables on both axes (where pandas is installed; else
            a dict of ``names``, the variables, and ``mi``, the matrix as a NumPy array).

    Examples:
        >>> import numpy as np, mivb
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=2000)
        >>> table = {"a": a, "b": a + rng.normal(size=2000), "c": rng.normal(size=2000)}
        >>> matrix = mivb.mi_matrix(table, executor="serial", progress=False)
        >>> matrix.round(2)  # I(a; b) = log(2) / 2 = 0.347; c is independent of both
              a     b     c
        a   NaN  0.35 -0.02
        b  0.35   NaN  0.01
        c -0.02  0.01   NaN
    """
    data = as_table(table, names)
    chosen = variables("columns", columns, groups, default=names_of(data) or [])
    if len(chosen) < 2:
        raise invalid("columns", "at least two variables (columns or groups) to pair", Shown(repr(list(chosen))))
    keys = list(chosen)
    check_options(options)
    # One pool and one bar for all pairs: each pair's own options (KSG for two columns) ride in its payload.
    payloads = {}
    for a, b in combinations(keys, 2):
        columns_only = not isinstance(chosen[a], list) and not isinstance(chosen[b], list)
        selected = from_table(data, x=chosen[a], z=chosen[b])
        payloads[(a, b)] = (selected["x"], selected["z"], {"bound": "ksg"} if columns_only else {})
    results = run_tasks(pair_task, payloads, options, executor=executor, workers=workers, seed=seed,
                        cache_dir=cache_dir, progress=progress, label="pairs")
    matrix = np.full((len(keys), len(keys)), math.nan)
    failed, noted = [], []
    for (a, b), found in results.items():
        i, j = keys.index(a), keys.index(b)
        if isinstance(found, TaskFailure):
            failed.append(f"({a!r}, {b!r}): {found.error}")
            continue
        first = found[0] if isinstance(found, tuple) else found
        matrix[i, j] = matrix[j, i] = first.mi
        if first.notes:
            noted.append(f"({a!r}, {b!r}): {' '.join(first.notes)}")
    if failed:
        warnings.warn(f"mi_matrix: {len(failed)} pairs failed, left NaN: " + "; ".join(failed), RuntimeWarning,
                      stacklevel=2)
    if noted:
        warnings.warn(f"mi_matrix: {len(noted)} pairs carry notes:\n" + "\n".join(noted), NoteWarning, stacklevel=2)
    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        return {"names": keys, "mi": matrix}
    return pandas.DataFrame(matrix, index=keys, columns=keys)


def pair_task(payload: tuple[Any, Any, dict[str, Any]], seed: int, options: dict[str, Any]) -> Any:
    """One pair's estimate: ``estimate_many``'s task, with the pair's own options under the call's."""
    x, z, own = payload
    return estimate_task((x, z), seed, {**own, **options})
