"""``mine``: Belghazi et al. 2018 (MINE), ``dv``'s value with a bias-corrected gradient (docs/bounds.md,
"MINE's moving average").

The value is ``mean(p) - LME(G)``; the gradient follows ``mean(p) - exp(LME(G) - sg(log_ema))``,
where ``log_ema`` is a moving average of ``LME(G)`` over the training batches (the bound's state):
the gradient of ``LME`` on a batch is biased, that of its exp over a smoothed normaliser is not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ops import Array
from ..pointwise import normalised
from ._core import Bound, MovingAverage, Totals
from ._float64 import as_float64, lme, logsumexp
from ._shared import positives_and_negatives


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``dv``'s value; the gradient follows ``mean(p) - exp(LME(G) - sg(log_ema))``."""
    ops, lme = t.ops, t.log_mean_exp("neg")
    log_ema = state["log_ema"]
    average = ops.where(ops.isnan(log_ema), lme, log_ema)  # unset: the batch's own average stands in
    return t.mean("pos") - lme, t.mean("pos") - ops.exp(lme - ops.stop_gradient(average))


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value, and the surrogate's gradient with respect to (p, G) in float64, ``log_ema`` being
    the updated moving average (unset, NaN or absent: the batch's own LME)."""
    pos, neg = as_float64(pos, neg)
    n = neg.shape[0]
    given = state.get("log_ema")
    log_ema = None if given is None or math.isnan(given) else float(given)
    weights = np.exp(neg - logsumexp(neg))  # d LME / d G: a softmax over all N*K negatives
    average = lme(neg)
    return (float(pos.mean()) - lme(neg), np.full(n, 1.0 / n),
            -math.exp(average - (average if log_ema is None else log_ema)) * weights)


BOUND = Bound("mine", positives_and_negatives, value, "Donsker-Varadhan with MINE's bias-corrected gradient",
              "Belghazi et al. 2018", gradient="EMA surrogate", reference=reference, log_ratio=normalised,
              state=MovingAverage("log_ema", lambda t: t.log_mean_exp("neg")), linear_crosscheck=True,
              cases=({"log_ema": 0.7},))
