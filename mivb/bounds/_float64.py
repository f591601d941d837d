"""What the float64 references of the bounds share: plain NumPy, no framework and none of ``mivb.scores``'
reductions, so that a backend is checked against calculus, not against the code it runs."""

from __future__ import annotations

import math

import numpy as np

from ..scores import check_pos_neg


def logsumexp(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    peak = np.max(a, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)  # an infinite entry: the sum itself is 0 or inf
    out: np.ndarray = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


def sigmoid(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.exp(-np.logaddexp(0.0, -a))
    return out


def lme(neg: np.ndarray) -> float:
    """LME of docs/bounds.md: the log of the mean exp of all N * K negatives."""
    return float(logsumexp(neg) - math.log(neg.size))


def as_float64(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pos`` (N,) and ``neg`` (N, K) in float64, checked."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    check_pos_neg(pos, neg)
    return pos, neg

