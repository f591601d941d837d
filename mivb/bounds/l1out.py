"""``l1out``: Poole et al. 2019, eq. 17 (L1Out), ``mean_i[p_i - logsumexp_k G_ik] + log K`` on
log-densities of a variational q(z | x) (docs/bounds.md, "Upper bounds").

An upper bound only for the exact q(z | x); with q fitted by likelihood it is an estimate, often
below the MI. Normalised over the other pairs, ``log q(z | x)`` gives each pair's ratio.
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
from ._shared import log_likelihood


def statistics(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    rows = scores.row_logsumexp_negatives_of(scores.negatives())
    return {"pos": (scores.sum_positives(), SUM), "rows": (scores.ops.sum(rows), SUM)}


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``mean_i[p_i - logsumexp_k G_ik] + log K``; the gradient follows the value."""
    value = t.mean("pos") - t.mean("rows") + math.log(t.negatives_per_row)
    return value, value


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value and its gradient with respect to (p, G) in float64."""
    pos, neg = as_float64(pos, neg)
    n, k = neg.shape
    lse = logsumexp(neg, axis=1)
    return float(np.mean(pos - lse)) + math.log(k), np.full(n, 1.0 / n), -np.exp(neg - lse[:, None]) / n


BOUND = Bound("l1out", statistics, value, "leave-one-out: an upper bound only for the exact q(z|x), an estimate "
              "with q fitted by likelihood (often below the MI)", "Poole et al. 2019", kind="estimate",
              critic="conditional", fit=log_likelihood, gradient="the value (the critic fits q by likelihood)",
              reference=reference, log_ratio=normalised)
