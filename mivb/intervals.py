"""Intervals that cover the critic's training, by cross-fitting (``estimate(folds=K)``).

An estimate's ``stderr`` is the noise of averaging its test batches. Retraining the critic (another
seed, other training pairs) moves the number by more. Cross-fitting measures that: K critics, each
tested on its own fold after training on the others, give K estimates whose spread holds both.
Their mean is the estimate. The folds share training pairs, so their spread understates the
variance of the mean; Nadeau & Bengio (2003, "Inference for the generalization error") correct the
variance factor 1/K to 1/K + n_test/n_train = 1/K + 1/(K - 1), with a Student-t quantile on K - 1
degrees of freedom. ``benchmarks/calibration.py`` measures how often the interval covers.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import invalid
from .notes import note

if TYPE_CHECKING:
    from .result import Estimate, EstimateConfig

WIDE_FLOOR = 0.05  # nats: an interval narrower than this is informative whatever the estimate


def check_folds(folds: Any) -> int | None:
    if folds is not None and (isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2):
        raise invalid("folds", "None (one split) or an integer >= 2 (5 is a good choice)", folds)
    return None if folds is None else int(folds)


def check_fold_parts(x: np.ndarray, z: np.ndarray, config: EstimateConfig) -> None:
    """Every fold's parts hold at least 2 pairs, checked before any fold trains: copies of a pair stay
    in one part, so repeated pairs can leave a fold short of its share (or empty)."""
    from .protocol import random_streams, split_pairs

    validation = 2 if config.early_stopping else 0
    for fold in range(config.folds or 0):
        parts, _, _ = split_pairs(random_streams(config.seed, fold)[0], x, z, config, fold)
        train, held, test = (len(part) for part in parts)
        if train < 2 or held < validation or test < 2:
            raise invalid("folds", f"fewer folds for these {len(x)} pairs: fold {fold} would test {test} and train on "
                          f"{train} (copies of a pair stay in one fold)", config.folds)


def check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0.0 < level < 1.0:
        raise invalid("level", "a coverage strictly between 0 and 1, such as 0.95", level)
    return float(level)


def student_interval(center: float, values: np.ndarray, level: float) -> tuple[float, float]:
    """``center`` plus or minus the t-quantile times the corrected standard error of the mean of K
    cross-fitted ``values``."""
    from scipy.stats import t  # imported here: `import mivb` stays fast

    k = len(values)
    half = float(t.ppf((1 + level) / 2, k - 1)) * float(np.std(values, ddof=1)) * math.sqrt(1 / k + 1 / (k - 1))
    return center - half, center + half


def interval_notes(mi: float, interval: tuple[float, float], fold_values: np.ndarray, level: float) -> list[str]:
    low, high = interval
    if high - low <= max(abs(mi), WIDE_FLOOR):
        return []
    folds = ", ".join(f"{value:.3f}" for value in fold_values)
    return [note("wide-interval", level=level, low=low, high=high, folds=folds)]


def crossfit(config: EstimateConfig, per_fold: list[Estimate]) -> Estimate:
    """One estimate from the folds': the mean of their estimates (equal folds: every test pair counts
    alike, even where a fold reports a linear critic on fewer, larger batches), the interval from their
    spread; every test batch's value pooled for ``stderr`` and ``test_values``."""
    values = np.concatenate([fold.test_values for fold in per_fold])
    fold_values = np.array([fold.mi for fold in per_fold])
    mi = float(fold_values.mean())
    interval = student_interval(mi, fold_values, config.level)
    notes = list(dict.fromkeys(f"fold {k}: {note}" if len(per_fold) > 1 else note
                               for k, fold in enumerate(per_fold) for note in fold.notes))
    notes += interval_notes(mi, interval, fold_values, config.level)
    first = per_fold[0]
    return replace(first, mi=mi, stderr=float(values.std(ddof=1) / math.sqrt(len(values))), config=config,
                   test_values=values, interval=interval, per_fold=tuple(per_fold), notes=tuple(notes),
                   unreliable=any(fold.unreliable for fold in per_fold),
                   stop_reason=f"{len(per_fold)} folds: " + "; ".join(fold.stop_reason for fold in per_fold))
