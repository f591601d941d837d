"""``infonce``: van den Oord et al. 2018, ``I(X; Z) >= mean_i[p_i - logsumexp(p_i, G_i)] + log(K + 1)``
(docs/bounds.md, "The lower bounds").

Each row's positive classified against its K negatives. The value is at most ``log(K + 1)`` (its
ceiling), and a fixed critic's value on a batch is a lower bound in expectation, so the better of
two critics chosen on other pairs may be reported (the linear fallback). Its optimal critic is
``log r + c(x)``: the pointwise ratio is normalised over the other pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ops import Array
from ..pointwise import normalised
from ..scores import Scores
from ._core import SUM, Bound, Statistics, Totals
from ._float64 import as_float64, logsumexp


def statistics(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    """The sum over rows of the positive's log-softmax among its row."""
    return {"rows": (scores.sum_log_softmax_positives(), SUM)}


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``mean_i[p_i - logsumexp(p_i, G_i)] + log(K + 1)``; the gradient follows the value."""
    value = t.mean("rows") + math.log(t.negatives_per_row + 1)
    return value, value


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value and its gradient with respect to (p, G) in float64: each row's softmax."""
    pos, neg = as_float64(pos, neg)
    n, k = neg.shape
    value = float(np.mean(pos - np.logaddexp(pos, logsumexp(neg, axis=1)))) + math.log(k + 1)
    rows = np.concatenate([pos[:, None], neg], axis=1)
    soft = np.exp(rows - logsumexp(rows, axis=1)[:, None])
    return value, (1.0 - soft[:, 0]) / n, -soft[:, 1:] / n


BOUND = Bound("infonce", statistics, value, "InfoNCE, at most log(K + 1)", "van den Oord et al. 2018",
              reference=reference, max_value=lambda k, params: math.log(k + 1), ceiling_formula="log(K + 1)",
              log_ratio=normalised, linear_crosscheck=True, linear_fallback=True)
