"""Every estimator ``mivb.estimate`` can run, by name: the registered bounds and the classical estimators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .bounds import BOUNDS
from .classical import CLASSICAL


@dataclass(frozen=True)
class EstimatorInfo:
    """What ``mivb.estimators()`` and ``mivb bounds`` say of one estimator."""

    name: str
    kind: str  # "lower" or "upper" bound on I(X; Z), or "classical" (no bound, no training)
    summary: str
    paper: str
    params: Mapping[str, Any]


def estimators() -> dict[str, EstimatorInfo]:
    """Every name ``mivb.estimate``'s ``bound=`` takes, with its kind, summary, paper and parameters:
    the lower bounds, the upper bounds, then the classical estimators.

    Examples:
        >>> import mivb
        >>> {name: info.kind for name, info in mivb.estimators().items() if name in ("smile", "club", "ksg")}
        {'smile': 'lower', 'club': 'upper', 'ksg': 'classical'}
    """
    entries = [*BOUNDS.values(), *CLASSICAL.values()]
    order = {"lower": 0, "upper": 1, "classical": 2}
    return {entry.name: EstimatorInfo(entry.name, entry.kind, entry.summary, entry.paper, dict(entry.params))
            for entry in sorted(entries, key=lambda entry: order[entry.kind])}
