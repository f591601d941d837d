"""``js``: Hjelm et al. 2019, read off as Poole et al. 2019: the critic trains on the Jensen-Shannon
objective and the MI is read with NWJ at ``T + 1``, ``1 + mean(p) - exp(LME(G))`` (docs/bounds.md,
"The lower bounds").

The Jensen-Shannon critic's optimum is ``log r`` exactly, so each pair's ratio is read off it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ops import Array
from ..pointwise import critic_minus
from ..scores import Scores
from ._core import Bound, Statistics, Totals
from ._float64 import as_float64, lme, sigmoid
from ._shared import jensen_shannon, jensen_shannon_statistics, positives_and_negatives


def statistics(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    return {**positives_and_negatives(scores, params), **jensen_shannon_statistics(scores)}


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``1 + mean(p) - exp(LME(G))``; the gradient follows the Jensen-Shannon objective."""
    return 1.0 + t.mean("pos") - t.ops.exp(t.log_mean_exp("neg")), jensen_shannon(t)


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value, and the Jensen-Shannon objective's gradient with respect to (p, G), in float64."""
    pos, neg = as_float64(pos, neg)
    n, k = neg.shape
    return 1.0 + float(pos.mean()) - math.exp(lme(neg)), sigmoid(-pos) / n, -sigmoid(neg) / (n * k)


BOUND = Bound("js", statistics, value, "Jensen-Shannon critic, MI read off with NWJ at T + 1",
              "Hjelm et al. 2019; Poole et al. 2019", gradient="JSD", reference=reference,
              log_ratio=critic_minus(0.0), linear_crosscheck=True, tolerance="exponentiated")
