"""What an estimate says about itself: when it cannot be trusted, and why (``Estimate.notes``).

Every path that could return an absurd number ends here: a training run that blew up, a held-out
value outside what the data allows, a bound at its ceiling, a curve still rising, a critic that
overfits. Each gives a note; those that make the number untrustworthy set ``Estimate.unreliable``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .bounds import get_bound
from .notes import note

if TYPE_CHECKING:
    from .result import EstimateConfig

# nats: a bound with a ceiling is biased low near it. InfoNCE's bias grows as its value nears
# log(K + 1): on 20,000 pairs of d = 20 Gaussians with 8 nats of MI the default returned 4.47
# against a ceiling of 4.85; within this margin it says so. The same margin below log(test pairs)
# flags bounds without a ceiling, which overshoot as they near it (SMILE read 7.70 at a truth of 6
# from 4,000 test pairs, log 4000 = 8.29).
CEILING_MARGIN = 1.0
# What a bound on the MI of n pairs can read without a blown-up critic: MI is never negative, and
# a variational bound certifies at most about log n from n samples (McAllester & Stratos 2020);
# the slack covers DV-type bounds' upward noise at high MI (SMILE read 16 nats at a truth of 10).
# A training value outside it is divergence, even when finite (MINE at lr 0.01 read -159 nats).
SANE_BELOW, SANE_LOG_N_FACTOR, SANE_ABOVE = -10.0, 2.0, 10.0
RISING_MARGIN = 0.05  # nats gained over the last tenth of training that count as still rising
OVERFIT_MARGIN, OVERFIT_FRACTION = 0.3, 0.15  # a held-out value this far below training is overfitting


@dataclass
class TrainingRun:
    history: np.ndarray
    validation: np.ndarray
    best_step: int
    stopped_early: bool
    diverged_at: int | None
    ran_dry: bool = False  # the training data ran out before ``steps`` (a stream)


def sane_range(n_pairs: int, kind: str = "lower") -> tuple[float, float]:
    """The values a bound on the MI of ``n_pairs`` pairs can take without a blown-up critic (nats).
    The log n limit is on lower bounds; an upper bound may read any finite value above the floor
    (CLUB with the exact conditional reads 42.6 nats where the MI is 8.3)."""
    return SANE_BELOW, SANE_LOG_N_FACTOR * math.log(n_pairs) + SANE_ABOVE if kind == "lower" else math.inf


def sane(values: np.ndarray, n_pairs: int, kind: str = "lower") -> np.ndarray:
    low, high = sane_range(n_pairs, kind)
    within: np.ndarray = np.isfinite(values) & (values >= low) & (values <= high)
    return within


def diagnose(config: EstimateConfig, run: TrainingRun, mi: float, stderr: float, ceiling: float | None,
             n_pairs: int, x_is_z: bool, test_pairs: int) -> tuple[list[str], bool]:
    """The notes on an estimate of ``test_pairs`` held-out pairs (of ``n_pairs``), and whether it is
    unreliable (see [`mivb.Estimate`][])."""
    notes, unreliable = [], False
    if x_is_z:
        unreliable = True
        notes.append(note("same-array"))
    kind = get_bound(config.bound).kind
    # A held-out value above it is absurd for every kind: an upper bound that high certifies nothing
    # (CLUB read 234 nats on 800 pairs of z = x + 1e-4 noise, where its q(z | x) collapsed).
    held_out_high = sane_range(n_pairs)[1]
    if run.diverged_at is not None:
        unreliable = True
        notes.append(note("diverged", step=run.diverged_at, best=run.best_step))
    if ceiling is not None and mi > ceiling - CEILING_MARGIN:
        notes.append(note("ceiling", bound=config.bound, mi=mi, ceiling=ceiling))
    if not math.isfinite(mi):
        unreliable = True
        notes.append(note("overflow", mi=mi))
    elif mi < -1.0 - 3 * (stderr if math.isfinite(stderr) else 0.0) or mi > held_out_high:
        unreliable = True
        notes.append(note("outside", mi=mi, pairs=n_pairs, high=held_out_high) if kind == "lower" or mi < 0 else
                     note("vacuous", bound=config.bound, mi=mi, high=held_out_high, pairs=n_pairs,
                          kind="upper bound" if kind == "upper" else kind))
    elif ceiling is None and kind == "lower" and mi > math.log(test_pairs) - CEILING_MARGIN:
        certifiable = math.log(test_pairs)
        unreliable = mi > certifiable
        notes.append(note("certifiable", bound=config.bound, mi=mi, pairs=test_pairs, limit=certifiable,
                          where="above" if unreliable else f"within {CEILING_MARGIN:g} of"))
    if math.isfinite(mi) and -1.0 - 3 * (stderr if math.isfinite(stderr) else 0.0) <= mi < 0:
        notes.append(note("negative", mi=mi) if kind == "lower" else note("below-zero", mi=mi))
    rise = still_rising(config, run)
    if rise is not None:
        notes.append(note("rising", rise=rise))
    window = min(run.best_step, max(100, len(run.history) // 10))
    if window >= 20 and math.isfinite(mi):
        trained = float(run.history[run.best_step - window : run.best_step].mean())
        gap = trained - mi
        if gap > max(OVERFIT_MARGIN, OVERFIT_FRACTION * abs(trained)):
            notes.append(note("overfits", gap=gap))
    return notes, unreliable


def still_rising(config: EstimateConfig, run: TrainingRun) -> float | None:
    """How much the estimate rose at the end of a run that used every step, if it clearly did."""
    if run.stopped_early or run.diverged_at is not None:
        return None
    if config.early_stopping:
        if len(run.validation) < 4:
            return None
        rise = float(run.validation[-1] - np.max(run.validation[:-3]))
        return rise if rise > RISING_MARGIN else None
    window = len(run.history) // 10
    if window < 20:
        return None
    last, previous = run.history[-window:], run.history[-2 * window : -window]
    rise = float(last.mean() - previous.mean())
    noise = float(np.hypot(last.std(), previous.std()) / math.sqrt(window))
    return rise if rise > max(RISING_MARGIN, 3 * noise) else None

