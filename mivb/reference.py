"""The NumPy float64 reference: the oracle of the conformance suite.

Written directly from [the bounds contract][the-bounds], independently of the generic bound code in ``mivb.bounds``:
values in plain NumPy, and the training gradients with respect to the scores in closed form, so
an adapter's autodiff is checked against calculus, not against itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import unknown_name
from .scores import check_full_matrix, check_pos_neg

BOUNDS = ("dv", "mine", "nwj", "infonce", "js", "smile")  # value() and gradient(); the rest below


def logsumexp(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    peak = np.max(a, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)  # an infinite entry: the sum itself is 0 or inf
    out: np.ndarray = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


def sigmoid(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.exp(-np.logaddexp(0.0, -a))
    return out


def split(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    check_full_matrix(scores)
    n = scores.shape[0]
    off = ~np.eye(n, dtype=bool)
    return np.diag(scores).copy(), scores[off].reshape(n, n - 1)


def _lme(neg: np.ndarray) -> float:
    return float(logsumexp(neg) - math.log(neg.size))


def value(name: str, pos: np.ndarray, neg: np.ndarray, clip: float | None = 5.0) -> float:
    """The reported value of bound ``name`` in float64."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    check_pos_neg(pos, neg)
    k = neg.shape[1]
    if name in ("dv", "mine"):
        return float(pos.mean()) - _lme(neg)
    if name == "nwj":
        return float(pos.mean()) - math.exp(_lme(neg) - 1.0)
    if name == "infonce":
        return float(np.mean(pos - np.logaddexp(pos, logsumexp(neg, axis=1)))) + math.log(k + 1)
    if name == "js":
        return 1.0 + float(pos.mean()) - math.exp(_lme(neg))
    if name == "smile":
        return float(pos.mean()) - _lme(neg if clip is None else np.clip(neg, -clip, clip))
    raise unknown_name("name", name, BOUNDS)


def gradient(name: str, pos: np.ndarray, neg: np.ndarray, log_ema: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """d(training quantity)/d(pos, neg) in closed form; ``log_ema`` is MINE's updated average."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    check_pos_neg(pos, neg)
    n, k = neg.shape
    weights = np.exp(neg - logsumexp(neg))  # d LME / d G: a softmax over all N*K negatives
    d_pos = np.full(n, 1.0 / n)
    if name == "dv":
        return d_pos, -weights
    if name == "mine":
        lme = _lme(neg)
        return d_pos, -math.exp(lme - (lme if log_ema is None else log_ema)) * weights
    if name == "nwj":
        return d_pos, -math.exp(_lme(neg) - 1.0) * weights
    if name == "infonce":
        rows = np.concatenate([pos[:, None], neg], axis=1)
        soft = np.exp(rows - logsumexp(rows, axis=1)[:, None])
        return (1.0 - soft[:, 0]) / n, -soft[:, 1:] / n
    if name in ("js", "smile"):
        return sigmoid(-pos) / n, -sigmoid(neg) / (n * k)
    raise unknown_name("name", name, BOUNDS)


def oracle(name: str, pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any], state: Mapping[str, Any],
           baseline: np.ndarray | None = None) -> tuple[Any, ...]:
    """``(value, d_pos, d_neg)`` of a built-in bound, and ``d_baseline`` for those with a baseline:
    what the ``reference`` of a [`mivb.Bound`][] returns."""
    if name in WITH_BASELINE:
        return baseline_oracle(name, pos, neg, baseline, **params)
    if name in UPPER:
        return upper_oracle(name, pos, neg)
    if name in LABELS:
        n, k = np.shape(neg)
        return float(np.mean(pos)) + params["entropy"], np.full(n, 1.0 / n), np.zeros((n, k))
    log_ema = state.get("log_ema")
    log_ema = None if log_ema is None or math.isnan(log_ema) else float(log_ema)
    return (value(name, pos, neg, **({"clip": params["clip"]} if "clip" in params else {})),
            *gradient(name, pos, neg, log_ema))


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


# ---- The bounds with a learned baseline, and the upper bounds -------------------------------------
# Written naively (every leave-one-out sum formed explicitly), so that they share nothing with the
# prefix-and-suffix logsumexps of mivb.scores.

WITH_BASELINE = ("tuba", "alpha")
UPPER = ("club", "l1out")
LABELS = ("ba",)


def baseline_oracle(name: str, pos: np.ndarray, neg: np.ndarray, baseline: np.ndarray | None,
                    alpha: float = 0.01) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """``(value, d_pos, d_neg, d_baseline)`` of ``tuba`` or ``alpha`` in float64; the gradient is the value's."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    check_pos_neg(pos, neg)
    n, k = neg.shape
    b = np.zeros(n) if baseline is None else np.asarray(baseline, np.float64)
    if name == "tuba":
        shifted = neg - b[:, None]
        weights = np.exp(shifted - logsumexp(shifted)) * math.exp(_lme(shifted))  # d exp(LME) / d neg
        return (1.0 + float(np.mean(pos - b)) - math.exp(_lme(shifted)), np.full(n, 1.0 / n), -weights,
                -1.0 / n + weights.sum(axis=1))
    if name != "alpha":
        raise unknown_name("name", name, WITH_BASELINE)
    log_mix = math.log(alpha) - math.log(k) if alpha > 0 else -math.inf
    rest = (math.log1p(-alpha) if alpha < 1 else -math.inf) + b  # (n,)
    rows = np.concatenate([pos[:, None], neg], axis=1)  # (n, K + 1): the positive in column 0
    d_rows, d_b = np.zeros_like(rows), np.zeros(n)
    joint = 0.0
    for j in range(1, k + 1):  # leave negative j out of its row: the positive's normaliser
        kept = np.delete(rows, j, axis=1)
        loo = logsumexp(kept, axis=1)
        normaliser = np.logaddexp(log_mix + loo, rest)
        mix = np.exp(log_mix + loo - normaliser)  # the share of the mixture in the normaliser
        joint += float(np.sum(pos - normaliser))
        d_kept = -(mix[:, None] * np.exp(kept - loo[:, None]))
        d_kept[:, 0] += 1.0
        d_rows[:, [c for c in range(k + 1) if c != j]] += d_kept
        d_b -= 1.0 - mix
    lse = logsumexp(neg, axis=1)
    own = np.logaddexp(log_mix + lse, rest)
    share = np.exp(lse - own)  # each row's sum of exp(neg - own)
    rest_weight = 1.0 - np.exp(log_mix + lse - own)
    d_rows[:, 1:] -= (share * rest_weight)[:, None] * np.exp(neg - lse[:, None])
    d_b += share * rest_weight
    value = 1.0 + joint / (n * k) - float(share.sum()) / (n * k)
    return value, d_rows[:, 0] / (n * k), d_rows[:, 1:] / (n * k), d_b / (n * k)


def upper_oracle(name: str, pos: np.ndarray, neg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """``(value, d_pos, d_neg)`` of ``club`` or ``l1out`` in float64, ``neg[i]`` being ``log q(z_i | x_j)``
    for other x_j; the gradient is the value's (what a model upstream of x and z follows)."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    check_pos_neg(pos, neg)
    n, k = neg.shape
    if name == "club":
        return float(pos.mean() - neg.mean()), np.full(n, 1.0 / n), np.full((n, k), -1.0 / (n * k))
    if name == "l1out":
        lse = logsumexp(neg, axis=1)
        return (float(np.mean(pos - lse)) + math.log(k), np.full(n, 1.0 / n),
                -np.exp(neg - lse[:, None]) / n)
    raise unknown_name("name", name, UPPER)
