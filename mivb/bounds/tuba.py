"""``tuba``: Poole et al. 2019 (TUBA), ``1 + mean(p - b) - exp(LME(G - b))`` with a learned
log-baseline ``b = log a(x)`` of each row (docs/bounds.md, "More lower bounds").

NWJ's bound with the constant ``e`` replaced by a baseline that the estimators learn beside the
critic. Its optimal critic is ``1 + log r + b(x)``: each pair's ratio is read off the critic less
its baseline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ops import Array
from ..pointwise import critic_minus
from ..scores import Scores
from ._core import LOGSUMEXP, SUM, Bound, Statistics, Totals
from ._float64 import as_float64, lme, logsumexp
from ._shared import row_baseline


def statistics(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    b = row_baseline(scores)
    return {"pos": (scores.sum_positives() - scores.ops.sum(b), SUM),
            "neg": (scores.logsumexp_negatives_of(scores.negatives() - b), LOGSUMEXP)}


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``1 + mean(p - b) - exp(LME(G - b))``; the gradient follows the value."""
    value = 1.0 + t.mean("pos") - t.ops.exp(t.log_mean_exp("neg"))
    return value, value


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any], state: Mapping[str, Any],
              baseline: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """``(value, d_pos, d_neg, d_baseline)`` in float64; the gradient is the value's."""
    pos, neg = as_float64(pos, neg)
    n = neg.shape[0]
    b = np.zeros(n) if baseline is None else np.asarray(baseline, np.float64)
    shifted = neg - b[:, None]
    weights = np.exp(shifted - logsumexp(shifted)) * math.exp(lme(shifted))  # d exp(LME) / d neg
    return (1.0 + float(np.mean(pos - b)) - math.exp(lme(shifted)), np.full(n, 1.0 / n), -weights,
            -1.0 / n + weights.sum(axis=1))


BOUND = Bound("tuba", statistics, value, "TUBA: NWJ-type bound with a learned baseline a(x)", "Poole et al. 2019",
              baseline=True, reference=reference, log_ratio=critic_minus(1.0), tolerance="exponentiated")
