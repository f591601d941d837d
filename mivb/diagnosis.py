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
# smile's clip: where a share s of the held-out pairs has a log density ratio above the clip c, the
# clipped partition function misses their mass (E_q[min(r, e^c)] is about P_p(log r <= c)), which
# lifts the value by about -log(1 - s) nats above the unclipped DV of the same critic (Song & Ermon
# 2020). Measured with the defaults (torch, seed 0, clip 5; s from the critic's normalised ratios of
# CLIP_CHECK_PAIRS test pairs): on 20,000 pairs of d = 20 Gaussians, truths 2, 3, 4, 5, 6 and 10
# nats gave s = 0.06, 0.19, 0.32, 0.48, 0.61 and 0.90, and smile read 1.68, 2.76, 4.37, 6.38, 7.70
# and 17.1; on the 12 tasks of benchmarks/tasks.py (5,000 pairs, truths up to 1.1) s <= 0.002.
# Above CLIP_BIAS_NOTE nats of lift, a note (from 4 nats there, where smile read 9% high; `mivb
# demo`'s accurate 2.97 at 3 nats has 0.17); above CLIP_BIAS_UNRELIABLE (from 5 nats, 28% high)
# the estimate is unreliable.
CLIP_BIAS_NOTE, CLIP_BIAS_UNRELIABLE = 0.25, 0.5
CLIP_CHECK_PAIRS = 512  # held-out pairs whose ratios are read (normalised over the other 511)
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
        notes.append("x and z are the same array: their MI is infinite for continuous data (the entropy, for "
                     "discrete data), so no finite estimate is the answer; the value shows only how far this "
                     "bound and critic can go")
    kind = get_bound(config.bound).kind
    low, high = sane_range(n_pairs, kind)
    # A held-out value above it is absurd for every kind: an upper bound that high certifies nothing
    # (CLUB read 234 nats on 800 pairs of z = x + 1e-4 noise, where its q(z | x) collapsed).
    held_out_high = sane_range(n_pairs)[1]
    if run.diverged_at is not None:
        unreliable = True
        notes.append(f"training diverged at step {run.diverged_at} (a training value that is not finite or "
                     f"outside [{low:g}, {high:.3g}] nats, which no bound on {n_pairs} pairs reaches); the "
                     f"estimate uses the critic from step {run.best_step}; lower learning_rate or use a bounded "
                     f"objective (smile, infonce)")
    if ceiling is not None and mi > ceiling - CEILING_MARGIN:
        notes.append(f"{config.bound} is near its ceiling {ceiling:.3f} nats (within {CEILING_MARGIN:g}): "
                     f"it is biased low there and the true MI may be much larger; use a larger batch_size or "
                     f"another bound (smile, mine)")
    if not math.isfinite(mi):
        unreliable = True
        notes.append(f"the held-out value is {mi}: the critic's scores overflow on new pairs; use smile or infonce")
    elif mi < -1.0 - 3 * (stderr if math.isfinite(stderr) else 0.0) or mi > held_out_high:
        unreliable = True
        notes.append(f"the held-out value {mi:.4g} nats is outside what {n_pairs} pairs allow "
                     f"([-1, {held_out_high:.3g}]): the critic does not generalise; lower learning_rate or use another "
                     f"bound" if kind == "lower" or mi < 0 else
                     f"{config.bound} reads {mi:.4g} nats, above the {held_out_high:.3g} that {n_pairs} pairs can show, "
                     f"so as an {'upper bound' if kind == 'upper' else kind} it says nothing (its q(z | x) may be far from "
                     f"p(z | x))")
    elif ceiling is None and kind == "lower" and mi > math.log(test_pairs) - CEILING_MARGIN:
        certifiable = math.log(test_pairs)
        where = f"above log {test_pairs} = {certifiable:.2f}" if mi > certifiable else \
            f"within {CEILING_MARGIN:g} of log {test_pairs} = {certifiable:.2f}"
        unreliable = mi > certifiable
        notes.append(f"{config.bound} reads {mi:.3f} nats from {test_pairs} held-out pairs, {where}, about the most "
                     f"a lower bound can certify from them (McAllester & Stratos 2020); DV-type estimates overshoot "
                     f"near it (smile read 7.70 and 17.1 nats at truths of 6 and 10 on 20,000 pairs of d = 20 "
                     f"Gaussians): the MI is large, but this number may be far above it; more pairs lift the limit")
    if math.isfinite(mi) and -1.0 - 3 * (stderr if math.isfinite(stderr) else 0.0) <= mi < 0:
        notes.append(f"a lower bound below 0 ({mi:.3f} nats) certifies only that the MI is at least 0: the critic "
                     f"found no dependence that holds on held-out pairs" if kind == "lower" else
                     f"the value {mi:.3f} is below 0, which MI never is: read it as estimation error around a small MI")
    rise = still_rising(config, run)
    if rise is not None:
        notes.append(f"the estimate was still rising when training stopped (+{rise:.3f} nats at the end): "
                     f"more steps may raise it")
    window = min(run.best_step, max(100, len(run.history) // 10))
    if window >= 20 and math.isfinite(mi):
        trained = float(run.history[run.best_step - window : run.best_step].mean())
        gap = trained - mi
        if gap > max(OVERFIT_MARGIN, OVERFIT_FRACTION * abs(trained)):
            notes.append(f"the held-out value is {gap:.3f} nats below the training value: the critic overfits "
                         f"the training pairs; use more samples, fewer steps or a smaller critic")
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


def clip_note(bound: str, clip: float, log_ratios: np.ndarray) -> tuple[str | None, bool]:
    """A note when many held-out pairs' log ratios exceed ``clip``, so that the clip, not the critic,
    makes much of the value; and whether that makes the estimate unreliable."""
    share = float(np.mean(log_ratios > clip))
    lift = -math.log1p(-share) if share < 1 else math.inf
    if not lift > CLIP_BIAS_NOTE:
        return None, False
    return (f"{share:.0%} of {len(log_ratios)} held-out pairs have a log density ratio above {bound}'s clip "
            f"{clip:g}: the clipped negatives then miss about {lift:.2f} nats of the partition function, so the "
            f"estimate may lie that much or more above the MI (smile read 6.38 and 7.70 nats at truths of 5 and "
            f"6 on d = 20 Gaussians); the default bound, infonce, gives a lower bound whose notes say when it "
            f"is capped"), \
        lift > CLIP_BIAS_UNRELIABLE
