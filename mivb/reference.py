"""The NumPy float64 reference: the oracle of the conformance suite.

Each bound's reference is written directly from [the bounds contract][the-bounds] in its own module
(``mivb/bounds/<name>.py``, ``Bound.reference``), independently of the generic bound code that
computes its value: values in plain NumPy, and the training gradients with respect to the scores
in closed form, so an adapter's autodiff is checked against calculus, not against itself. This
module calls them by name, and holds what the checks share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .bounds import get_bound
from .bounds._float64 import lme as _lme
from .bounds._float64 import logsumexp, sigmoid
from .errors import invalid
from .scores import check_full_matrix

__all__ = ["clip_scale", "ema_after", "full_matrix_gradient", "full_matrix_of", "gradient", "logsumexp", "oracle",
           "sigmoid", "split", "value"]


def split(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    check_full_matrix(scores)
    n = scores.shape[0]
    off = ~np.eye(n, dtype=bool)
    return np.diag(scores).copy(), scores[off].reshape(n, n - 1)


def oracle(name: str, pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any], state: Mapping[str, Any],
           baseline: np.ndarray | None = None) -> tuple[Any, ...]:
    """``(value, d_pos, d_neg)`` of a registered bound with a reference, and ``d_baseline`` for those
    with a baseline: what the ``reference`` of a [`mivb.Bound`][] returns."""
    bound = get_bound(name)
    if bound.reference is None:
        raise invalid("name", "a bound with a float64 reference", name)
    return bound.reference(pos, neg, params, state, **({"baseline": baseline} if bound.baseline else {}))


def value(name: str, pos: np.ndarray, neg: np.ndarray, clip: float | None = 5.0) -> float:
    """The reported value of bound ``name`` in float64 (``clip``: for a bound with that parameter)."""
    bound = get_bound(name)
    params = bound.resolve_params({"clip": clip} if "clip" in bound.params else {})
    return float(oracle(name, pos, neg, params, {})[0])


def gradient(name: str, pos: np.ndarray, neg: np.ndarray, log_ema: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """d(training quantity)/d(pos, neg) in closed form; ``log_ema`` is MINE's updated average."""
    bound = get_bound(name)
    state = {} if log_ema is None else {"log_ema": log_ema}
    _, d_pos, d_neg, *_ = oracle(name, pos, neg, bound.resolve_params({}), state)
    return d_pos, d_neg


def full_matrix_gradient(name: str, scores: np.ndarray, log_ema: float | None = None) -> np.ndarray:
    return full_matrix_of(*gradient(name, *split(scores), log_ema))


def full_matrix_of(d_pos: np.ndarray, d_neg: np.ndarray) -> np.ndarray:
    """The (N, N) matrix whose diagonal is ``d_pos`` and whose rows without it are ``d_neg``: how a
    gradient with respect to (p, G) reads with respect to the full matrix they were taken from."""
    n = d_pos.shape[0]
    grad = np.zeros((n, n))
    grad[~np.eye(n, dtype=bool)] = d_neg.reshape(-1)
    grad[np.diag_indices(n)] = d_pos
    return grad


def ema_after(batches: Sequence[np.ndarray], decay: float) -> float:
    """MINE's ``log_ema`` after folding in each negative-score batch in turn."""
    log_ema = None
    for neg in batches:
        m = _lme(np.asarray(neg, np.float64))
        log_ema = m if log_ema is None else float(np.logaddexp(math.log(decay) + log_ema, math.log(1 - decay) + m))
    return math.nan if log_ema is None else log_ema


def clip_scale(grads_loss: Sequence[np.ndarray], grads_mi: Sequence[np.ndarray]) -> float:
    norm_loss = math.sqrt(sum(float(np.sum(np.square(np.asarray(g, np.float64)))) for g in grads_loss))
    norm_mi = math.sqrt(sum(float(np.sum(np.square(np.asarray(g, np.float64)))) for g in grads_mi))
    return 1.0 if norm_mi == 0 else min(norm_loss, norm_mi) / norm_mi
