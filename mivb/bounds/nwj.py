"""``nwj``: Nguyen, Wainwright & Jordan 2010, ``I(X; Z) >= mean(p) - exp(LME(G) - 1)`` (docs/bounds.md,
"The lower bounds").

The f-divergence bound of the KL divergence. Its optimal critic is ``1 + log r`` exactly, so each
pair's ratio is read off the critic; a fixed critic's value on a batch is a lower bound in
expectation, so the better of two critics chosen on other pairs may be reported (the linear
fallback).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ops import Array
from ..pointwise import critic_minus
from ._core import Bound, Totals
from ._float64 import as_float64, lme, logsumexp
from ._shared import positives_and_negatives


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``mean(p) - exp(LME(G) - 1)``; the gradient follows the value."""
    value = t.mean("pos") - t.ops.exp(t.log_mean_exp("neg") - 1.0)
    return value, value


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value and its gradient with respect to (p, G) in float64."""
    pos, neg = as_float64(pos, neg)
    n = neg.shape[0]
    weights = np.exp(neg - logsumexp(neg))  # d LME / d G: a softmax over all N*K negatives
    return (float(pos.mean()) - math.exp(lme(neg) - 1.0), np.full(n, 1.0 / n),
            -math.exp(lme(neg) - 1.0) * weights)


BOUND = Bound("nwj", positives_and_negatives, value, "Nguyen-Wainwright-Jordan f-divergence bound",
              "Nguyen et al. 2010", reference=reference, log_ratio=critic_minus(1.0), linear_crosscheck=True,
              linear_fallback=True, optimal_offset=1.0, tolerance="exponentiated")
