"""``dv``: Donsker & Varadhan 1983, ``I(X; Z) >= mean(p) - LME(G)`` (docs/bounds.md, "The lower bounds").

The Donsker-Varadhan representation of the KL divergence, read on a batch: the mean positive score
less the log of the mean exp of the negatives. Its optimal critic is ``log r + c`` for any constant
``c``, so the pointwise ratio is normalised over the other pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ops import Array
from ..pointwise import normalised
from ._core import Bound, Totals
from ._float64 import as_float64, lme, logsumexp
from ._shared import positives_and_negatives


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``mean(p) - LME(G)``; the gradient follows the value."""
    value = t.mean("pos") - t.log_mean_exp("neg")
    return value, value


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value and its gradient with respect to (p, G) in float64: ``1/N`` and minus the softmax
    of all N * K negatives."""
    pos, neg = as_float64(pos, neg)
    n = neg.shape[0]
    weights = np.exp(neg - logsumexp(neg))  # d LME / d G: a softmax over all N*K negatives
    return float(pos.mean()) - lme(neg), np.full(n, 1.0 / n), -weights


BOUND = Bound("dv", positives_and_negatives, value, "Donsker-Varadhan", "Donsker & Varadhan 1983",
              reference=reference, log_ratio=normalised, linear_crosscheck=True)
