"""``alpha``: Poole et al. 2019, eq. 12 (I_alpha), ``1 + mean(p - B) - mean(exp(G - B))``, ``B``
mixing the leave-one-out scores and a learned log-baseline (docs/bounds.md, "More lower bounds").

Interpolates TUBA (``alpha`` = 0) and InfoNCE on K - 1 negatives (``alpha`` = 1); at most
``1 + log(K / alpha)``. Its optimal critic is ``log r + c(x)``: the pointwise ratio is normalised
over the other pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import invalid
from ..ops import Array
from ..pointwise import normalised
from ..scores import Scores
from ._core import LOGSUMEXP, SUM, Bound, Statistics, Totals
from ._float64 import as_float64, logsumexp
from ._shared import row_baseline


def statistics(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    """Poole et al. 2019, eq. 12, as their implementation estimates it on a batch: row i's
    normaliser for its positive mixes ``alpha`` times the mean of exp over its other K scores
    (leaving out one negative, each in turn) with ``1 - alpha`` times the baseline; for its
    negatives, the mean over the K negatives."""
    ops, alpha, k = scores.ops, params["alpha"], scores.negatives_per_row
    log_mix = math.log(alpha) - math.log(k) if alpha > 0 else -math.inf
    log_rest = math.log1p(-alpha) if alpha < 1 else -math.inf
    b = row_baseline(scores) + log_rest
    positives = ops.reshape(scores.positives(), (-1, 1))
    normaliser = ops.logaddexp(log_mix + scores.leave_one_out_logsumexp(), b)
    own = ops.logaddexp(log_mix + ops.reshape(scores.row_logsumexp_negatives_of(scores.negatives()), (-1, 1)), b)
    return {"joint": (scores.sum_negatives_of(positives - normaliser), SUM),
            "marginal": (scores.logsumexp_negatives_of(scores.negatives() - own), LOGSUMEXP)}


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``1 + mean(p - B) - mean(exp(G - B))``; the gradient follows the value."""
    value = 1.0 + t.mean_negatives("joint") - t.ops.exp(t.log_mean_exp("marginal"))
    return value, value


def check_params(params: Mapping[str, Any]) -> None:
    alpha = params["alpha"]
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise invalid("alpha", "a number in [0, 1] (0: TUBA, 1: InfoNCE on K - 1 negatives)", alpha)


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any], state: Mapping[str, Any],
              baseline: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """``(value, d_pos, d_neg, d_baseline)`` in float64; the gradient is the value's. Written naively
    (every leave-one-out sum formed explicitly), so that it shares nothing with the prefix-and-suffix
    logsumexps of mivb.scores."""
    alpha = params["alpha"]
    pos, neg = as_float64(pos, neg)
    n, k = neg.shape
    b = np.zeros(n) if baseline is None else np.asarray(baseline, np.float64)
    log_mix = math.log(alpha) - math.log(k) if alpha > 0 else -math.inf
    rest = (math.log1p(-alpha) if alpha < 1 else -math.inf) + b  # (n,)
    rows = np.concatenate([pos[:, None], neg], axis=1)  # (n, K + 1): the positive in column 0
    d_rows, d_b = np.zeros_like(rows), np.zeros(n)
    joint = 0.0
    for j in range(1, k + 1):  # leave negative j out of its row: the positive's normaliser
        kept = np.delete(rows, j, axis=1)
        loo = logsumexp(kept, axis=1)
        normaliser = np.logaddexp(log_mix + loo, rest)
        mix = np.exp(log_mix + loo - normaliser)  # the share of the mixture in the normaliser
        joint += float(np.sum(pos - normaliser))
        d_kept = -(mix[:, None] * np.exp(kept - loo[:, None]))
        d_kept[:, 0] += 1.0
        d_rows[:, [c for c in range(k + 1) if c != j]] += d_kept
        d_b -= 1.0 - mix
    lse = logsumexp(neg, axis=1)
    own = np.logaddexp(log_mix + lse, rest)
    share = np.exp(lse - own)  # each row's sum of exp(neg - own)
    rest_weight = 1.0 - np.exp(log_mix + lse - own)
    d_rows[:, 1:] -= (share * rest_weight)[:, None] * np.exp(neg - lse[:, None])
    d_b += share * rest_weight
    value = 1.0 + joint / (n * k) - float(share.sum()) / (n * k)
    return value, d_rows[:, 0] / (n * k), d_rows[:, 1:] / (n * k), d_b / (n * k)


BOUND = Bound("alpha", statistics, value, "I_alpha: interpolates TUBA (alpha=0) and InfoNCE (alpha=1)",
              "Poole et al. 2019", baseline=True, params={"alpha": 0.01}, check_params=check_params,
              reference=reference,
              max_value=lambda k, params: 1.0 + math.log(k / params["alpha"]) if params["alpha"] > 0 else None,
              ceiling_formula="1 + log(K / alpha)", log_ratio=normalised, tolerance="exponentiated",
              param_help={"alpha": "the weight of InfoNCE against TUBA"},
              cases=({"alpha": 0.0}, {"alpha": 0.5}, {"alpha": 1.0}))
