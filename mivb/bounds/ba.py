"""``ba``: Barber & Agakov 2003, ``I(X; Z) >= H(Z) + mean(p)``, ``p_i = log q(z_i | x_i)`` of a
classifier q on class labels z (docs/bounds.md, "More lower bounds").

``entropy`` is H(Z) in nats, which ``mivb.estimate`` counts from the labels. The classifier gives
no density ratio per pair, so no pointwise MI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import invalid
from ..ops import Array
from ._core import Bound, Totals
from ._shared import positives_and_negative_sums


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``H(Z) + mean(p)``; the gradient follows the value."""
    value = t.mean("pos") + params["entropy"]
    return value, value


def check_params(params: Mapping[str, Any]) -> None:
    entropy = params["entropy"]
    if isinstance(entropy, bool) or not isinstance(entropy, (int, float)) or not 0 <= entropy < math.inf:
        raise invalid("entropy", "H(Z) in nats, a finite number >= 0 (mivb.estimate computes it from the labels' "
                      "counts)", entropy)


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value and its gradient with respect to (p, G) in float64."""
    n, k = np.shape(neg)
    return float(np.mean(pos)) + params["entropy"], np.full(n, 1.0 / n), np.zeros((n, k))


BOUND = Bound("ba", positives_and_negative_sums, value, "Barber-Agakov: H(Z) + E log q(z|x), a classifier q on labels z",
              "Barber & Agakov 2003", critic="classifier", params={"entropy": None}, check_params=check_params,
              reference=reference, cases=({"entropy": 1.5},))
