"""The variational bounds of BOUNDS.md, each a small pure function of the scores (p, G).

A bound function returns ``(value, surrogate)``: the value reported, and the quantity whose
gradient training follows. :func:`with_gradient_of` joins them into one differentiable scalar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .backends import backend_of
from .ema import EmaState, ema_update
from .errors import UnknownNameError, invalid, unknown_name
from .ops import Array, ArrayOps
from .scores import check_floating, check_full_matrix, check_pos_neg, split_full_matrix


def log_mean_exp(ops: ArrayOps, neg: Array) -> Array:
    n, k = neg.shape
    return ops.logsumexp(neg) - math.log(n * k)


def jensen_shannon(ops: ArrayOps, pos: Array, neg: Array) -> Array:
    """The f-GAN Jensen-Shannon objective (Nowozin et al. 2016), maximised by T = log r."""
    return ops.mean(-ops.softplus(-pos)) - ops.mean(ops.softplus(neg))


def dv(ops: ArrayOps, pos: Array, neg: Array) -> tuple[Array, Array]:
    value = ops.mean(pos) - log_mean_exp(ops, neg)
    return value, value


def mine(ops: ArrayOps, pos: Array, neg: Array, log_ema: Array | None = None) -> tuple[Array, Array]:
    lme = log_mean_exp(ops, neg)
    value = ops.mean(pos) - lme
    denominator = lme if log_ema is None else log_ema  # no history yet: the EMA starts at this batch
    return value, ops.mean(pos) - ops.exp(lme - ops.stop_gradient(denominator))


def nwj(ops: ArrayOps, pos: Array, neg: Array) -> tuple[Array, Array]:
    value = ops.mean(pos) - ops.exp(log_mean_exp(ops, neg) - 1.0)
    return value, value


def infonce(ops: ArrayOps, pos: Array, neg: Array) -> tuple[Array, Array]:
    n, k = neg.shape
    rows = ops.concat([ops.reshape(pos, (n, 1)), neg], axis=1)
    value = ops.mean(pos - ops.logsumexp(rows, axis=1)) + math.log(k + 1)
    return value, value


def js(ops: ArrayOps, pos: Array, neg: Array) -> tuple[Array, Array]:
    value = 1.0 + ops.mean(pos) - ops.exp(log_mean_exp(ops, neg))
    return value, jensen_shannon(ops, pos, neg)


def smile(ops: ArrayOps, pos: Array, neg: Array, clip: float | None = 5.0) -> tuple[Array, Array]:
    clipped = neg if clip is None else ops.clip(neg, -clip, clip)
    value = ops.mean(pos) - log_mean_exp(ops, clipped)
    return value, jensen_shannon(ops, pos, neg)


def with_gradient_of(ops: ArrayOps, value: Array, surrogate: Array) -> Array:
    """A scalar whose value is ``value`` exactly and whose gradient is that of ``surrogate``.

    Equal to BOUNDS.md's ``surrogate + stop_gradient(value - surrogate)``, but written so the
    forward value is bit-for-bit ``value`` (``s - s`` is exactly zero in IEEE arithmetic).
    """
    if value is surrogate:
        return value
    return ops.stop_gradient(value) + (surrogate - ops.stop_gradient(surrogate))


@dataclass(frozen=True)
class BoundSpec:
    name: str
    function: Callable[..., tuple[Array, Array]]
    summary: str
    gradient: str
    params: dict[str, Any] = field(default_factory=dict)


BOUNDS: dict[str, BoundSpec] = {
    spec.name: spec
    for spec in (
        BoundSpec("dv", dv, "Donsker-Varadhan", "the value"),
        BoundSpec("mine", mine, "Donsker-Varadhan, MINE's bias-corrected gradient (Belghazi et al. 2018)",
                  "EMA surrogate", {"log_ema": None}),
        BoundSpec("nwj", nwj, "Nguyen-Wainwright-Jordan f-divergence bound", "the value"),
        BoundSpec("infonce", infonce, "InfoNCE (van den Oord et al. 2018), at most log(K + 1)", "the value"),
        BoundSpec("js", js, "Jensen-Shannon critic, MI read off with NWJ at T + 1", "JSD"),
        BoundSpec("smile", smile, "SMILE (Song & Ermon 2020): DV on clipped negatives", "JSD", {"clip": 5.0}),
    )
}


def check_bound_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The bound's parameters with defaults filled in; unknown names and bad values are errors."""
    if name not in BOUNDS:
        raise unknown_name("bound", name, BOUNDS)
    spec = BOUNDS[name]
    for key in params:
        if key not in spec.params:
            choices = ", ".join(repr(p) for p in spec.params) or "none"
            raise UnknownNameError(f"{key}: bound {name!r} takes the parameters {choices}, received {key}={params[key]!r}")
    merged = {**spec.params, **params}
    clip = merged.get("clip")
    if name == "smile" and clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise invalid("clip", "None (no clipping) or a number > 0", clip)
    return merged


def bound(name: str, *scores: Array, **params: Any) -> Array:
    """A variational lower bound on I(X; Z) from critic scores, in nats.

    Call it as ``bound(name, scores)`` with the full (N, N) matrix ``scores[i, j] = T(x_i, z_j)``,
    or as ``bound(name, pos, neg)`` with the positive scores ``pos`` (N,) and the negative scores
    ``neg`` (N, K). The backend is that of the arrays (NumPy, torch, JAX or TensorFlow) and the
    result is a scalar of the same framework: its value is the bound of BOUNDS.md and, in the
    frameworks with autodiff, its gradient is the one training follows (for example ``js`` and
    ``smile`` follow the Jensen-Shannon objective, ``mine`` its EMA-corrected surrogate).

    Args:
        name: one of ``dv``, ``mine``, ``nwj``, ``infonce``, ``js``, ``smile``.
        *scores: either the full matrix, or ``pos`` and ``neg``.
        **params: ``clip`` for ``smile`` (default 5.0, None for none); ``log_ema`` for ``mine``
            (the updated moving average in log space, a scalar; None starts it at this batch).

    Example:
        >>> import numpy as np, mivb
        >>> round(float(mivb.bound("infonce", np.eye(3) * 2.0)), 6)
        0.859068
    """
    params = check_bound_params(name, params)
    if len(scores) == 1:
        adapter = backend_of(scores=scores[0])
        check_full_matrix(scores[0])
        pos, neg = split_full_matrix(adapter.ops, scores[0])
    elif len(scores) == 2:
        adapter = backend_of(pos=scores[0], neg=scores[1])
        pos, neg = scores
        check_pos_neg(pos, neg)
    else:
        raise invalid("scores", "one full (N, N) matrix, or pos (N,) and neg (N, K)", f"{len(scores)} arrays")
    check_floating(pos=pos, neg=neg)
    if isinstance(params.get("log_ema"), (int, float)):  # a plain number: a scalar of the scores' framework
        params["log_ema"] = adapter.ops.full_like(pos, float(params["log_ema"]))
    value, surrogate = BOUNDS[name].function(adapter.ops, pos, neg, **params)
    return with_gradient_of(adapter.ops, value, surrogate)


def training_objective(
    ops: ArrayOps, name: str, pos: Array, neg: Array, params: dict[str, Any], ema: EmaState, decay: float
) -> tuple[Array, Array, EmaState]:
    """One training step's ``(value, mi_for_grads, ema)``: what every estimator object computes.

    For ``mine`` the EMA first folds in this batch, then the surrogate divides by it (BOUNDS.md);
    every other bound leaves the state as it is.
    """
    if name == "mine":
        ema = ema_update(ops, ema, log_mean_exp(ops, neg), decay)
        params = {**params, "log_ema": ema.log_ema}
    value, surrogate = BOUNDS[name].function(ops, pos, neg, **params)
    return value, with_gradient_of(ops, value, surrogate), ema
