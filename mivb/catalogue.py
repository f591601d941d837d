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
    kind: str  # "lower" or "upper" bound on I(X; Z), "classical" (no bound, no training) or "estimate"
    summary: str
    paper: str
    params: Mapping[str, Any]


# The fitted models whose held-out value is an estimate, not a bound (mivb/copula.py).
MODELS = (EstimatorInfo("copula", "estimate", "Gaussian copula: each feature to a normal (and each block's log "
                        "radius), the MI of their joint Gaussian, bias-corrected; reads any MI in hundreds of "
                        "dimensions, misses other dependence; the default's estimate", "Butakov et al. 2024; Misra et al. 2005", {}),)


def estimators() -> dict[str, EstimatorInfo]:
    """Every name ``mivb.estimate``'s ``bound=`` takes, with its kind, summary, paper and parameters:
    the lower bounds, the upper bounds, the classical estimators, then the fitted models (``copula``).

    Examples:
        >>> import mivb
        >>> {name: info.kind for name, info in mivb.estimators().items() if name in ("smile", "club", "ksg")}
        {'smile': 'lower', 'club': 'upper', 'ksg': 'classical'}
    """
    entries = [*(EstimatorInfo(bound.name, bound.kind, bound.summary, bound.paper, dict(bound.params))
                 for bound in BOUNDS.values()),
               *(EstimatorInfo(classical.name, classical.kind, classical.summary, classical.paper,
                               dict(classical.params)) for classical in CLASSICAL.values()),
               *MODELS]
    order = {"lower": 0, "upper": 1, "classical": 2, "estimate": 3}
    return {entry.name: entry for entry in sorted(entries, key=lambda entry: order[entry.kind])}
