"""MINE's exponential moving average of mean(exp(G)), kept in log space.

Belghazi et al. 2018 (MINE, section 3.2): the mini-batch gradient of log mean exp(T) is biased;
dividing by a moving average of mean(exp(T)) instead of the batch's own mean corrects it.
The state is one scalar ``log_ema``; NaN stands for "unset", so the update has no Python branch
on values and runs unchanged under jit.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .errors import invalid
from .ops import Array, ArrayOps


class EmaState(NamedTuple):
    log_ema: Array


def check_decay(decay: float) -> float:
    if not isinstance(decay, (int, float)) or not 0.0 < decay < 1.0:
        raise invalid("ema_decay", "a number strictly between 0 and 1", decay)
    return float(decay)


def ema_init(ops: ArrayOps, like: Array) -> EmaState:
    """The unset state, as a scalar of ``like``'s dtype and device."""
    return EmaState(ops.full_like(like, math.nan))


def ema_update(ops: ArrayOps, state: EmaState, batch_log_mean_exp: Array, decay: float) -> EmaState:
    """Fold one batch's ``LME(G)`` into the average; the batch value is taken without gradient."""
    m = ops.stop_gradient(batch_log_mean_exp)
    blended = ops.logsumexp(ops.stack([math.log(decay) + state.log_ema, math.log1p(-decay) + m]), axis=0)
    return EmaState(ops.where(ops.isnan(state.log_ema), m, blended))
