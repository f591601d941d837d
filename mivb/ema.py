"""MINE's exponential moving average of mean(exp(G)), kept in log space.

Belghazi et al. 2018 (MINE, section 3.2): the mini-batch gradient of log mean exp(T) is biased;
dividing by a moving average of mean(exp(T)) instead of the batch's own mean corrects it.
The state is one scalar ``log_ema``; NaN stands for "unset", so the update has no Python branch
on values and runs unchanged under jit.
"""

from __future__ import annotations

import math

from .errors import invalid
from .ops import Array, ArrayOps


def check_decay(decay: float) -> float:
    if not isinstance(decay, (int, float)) or not 0.0 < decay < 1.0:
        raise invalid("ema_decay", "a number strictly between 0 and 1", decay)
    return float(decay)


def ema_init(ops: ArrayOps, like: Array) -> Array:
    """The unset average (NaN), as a scalar of ``like``'s dtype and device."""
    return ops.full_like(like, math.nan)


def ema_update(ops: ArrayOps, log_ema: Array, batch_log_mean: Array, decay: float) -> Array:
    """Fold one batch's log-mean (MINE: ``LME(G)``) into the average, without its gradient."""
    m = ops.stop_gradient(batch_log_mean)
    blended = ops.logsumexp(ops.stack([math.log(decay) + log_ema, math.log1p(-decay) + m]), axis=0)
    return ops.where(ops.isnan(log_ema), m, blended)
