"""``club``: Cheng et al. 2020 (CLUB), ``I(X; Z) <= mean(p) - mean(G)`` on log-densities of a
variational q(z | x) fitted by likelihood (docs/bounds.md, "Upper bounds").

The scores are ``log q(z_i | x_j)``; the critic step maximises the likelihood of the pairs, and the
bound is read off q. Normalised over the other pairs, ``log q(z | x)`` gives each pair's ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ops import Array
from ..pointwise import normalised
from ._core import Bound, Totals
from ._float64 import as_float64
from ._shared import log_likelihood, positives_and_negative_sums


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``mean(p) - mean(G)``; the gradient follows the value."""
    value = t.mean("pos") - t.mean_negatives("neg")
    return value, value


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value and its gradient with respect to (p, G) in float64, ``neg[i]`` being ``log q(z_i | x_j)``
    for other x_j (what a model upstream of x and z follows)."""
    pos, neg = as_float64(pos, neg)
    n, k = neg.shape
    return float(pos.mean() - neg.mean()), np.full(n, 1.0 / n), np.full((n, k), -1.0 / (n * k))


BOUND = Bound("club", positives_and_negative_sums, value,
              "CLUB: contrastive log-ratio upper bound, q(z|x) fitted by likelihood", "Cheng et al. 2020",
              kind="upper", critic="conditional", fit=log_likelihood,
              gradient="the value (the critic fits q by likelihood)", reference=reference, log_ratio=normalised)
