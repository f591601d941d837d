"""What [`mivb.estimate`][mivb.estimate.estimate] returns ([`Estimate`][mivb.Estimate]) and the
configuration that made it ([`EstimateConfig`][mivb.EstimateConfig]).

The ground floor of ``estimate``: the protocol, the diagnosis, the intervals, the plots and the
steps of ``estimate`` all read these records, and this module imports none of them (plotting only
when a plot is drawn), so that no import runs in a circle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .critics import CriticConfig
from .crosscheck import GaussianCritic
from .errors import invalid
from .notes import explain
from .samples import as_samples, check_paired
from .spec import EstimatorSpec, log_ratio_rule

AUTO = "auto"  # estimate's default, bound=None, by name (the CLI's, a config's)
# The bound the default's network trains under, beside the Gaussian copula (mivb.copula.auto);
# streams and given= run it alone.
NETWORK_BOUND = "infonce"

__all__ = ["Estimate", "EstimateConfig"]


@dataclass(frozen=True)
class EstimateConfig:
    """Everything that determined an estimate; with the same data it reproduces the result.

    The defaults are those of [`estimate`][mivb.estimate.estimate]; an adapter's ``Trainer`` reads the training fields.
    """

    bound: str = "infonce"
    bound_params: dict[str, Any] = field(default_factory=dict)
    critic: CriticConfig = field(default_factory=CriticConfig)
    backend: str = "torch"
    device: str | None = None
    devices: int | str | None = None
    steps: int = 5000
    batch_size: int = 128
    learning_rate: float = 5e-4
    ema_decay: float = 0.99
    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    early_stopping: bool = True
    patience: int = 10
    transform: str | None = "auto"
    seed: int = 0
    folds: int | None = None
    level: float = 0.95
    precision: str = "float32"
    compile: bool = False
    linear_fallback: bool = True  # as resolved: estimate's None means True with the default critic

    def to_kwargs(self) -> dict[str, Any]:
        """The arguments of [`estimate`][mivb.estimate.estimate] that reproduce the result on the same data:
        ``mivb.estimate(x, z, **result.config.to_kwargs())``."""
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "bound_params"},
                **self.bound_params}

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "critic": self.critic.to_dict(),
                "bound_params": dict(self.bound_params)}

    @property
    def spec(self) -> EstimatorSpec:
        """The estimator part of the configuration, as every backend's ``MIEstimator`` takes it."""
        bound = NETWORK_BOUND if self.bound == AUTO else self.bound  # the default's network
        return EstimatorSpec(bound, self.bound_params, self.critic, self.learning_rate, self.ema_decay, self.seed,
                             self.precision)


@dataclass(frozen=True)
class Estimate:
    """The result of [`mivb.estimate`][mivb.estimate.estimate]. ``mi`` is in nats; ``bits`` converts it.

    ``unreliable`` is True, with a note saying why, when the number cannot be trusted as an
    estimate: training diverged (a non-finite value, or a finite one no bound on this many pairs
    can take: ``diverged_at`` says when, and the estimate then comes from the last sane critic),
    or the held-out value itself is non-finite or outside what the data allows (below -1 nat, or
    above ``2 log n + 10``, for every kind: an upper bound that high says nothing n pairs can
    show), or a stream was seen to start over (its critic trained on its held-out pairs), or a
    lower bound without a ceiling (``smile``, ``dv``, ...) reads more
    than log(test pairs), about the most its held-out pairs can certify, where DV-type estimates
    overshoot, or so many held-out pairs have a log ratio above ``smile``'s clip that the clip
    lifts the value by over 0.5 nats (a note from 0.25). Other notes (a ceiling, a rising curve,
    overfitting, a linear critic reading more than the trained one on the same test batches) leave
    it False.

    ``kind`` says what the number is: ``"lower"`` or ``"upper"`` (a bound on I(X; Z), to the extent
    its critic allows: a lower bound's held-out value is a lower bound on the MI of the data's
    distribution; an upper bound's, only while its q(z | x) is close to p(z | x)),
    ``"classical"`` (an estimate, no bound: ``ksg``, ``gaussian``), ``"estimate"`` (a held-out
    estimate of a fitted model, no bound: ``l1out``, an upper bound only for the exact q(z | x),
    which reads below the MI on most benchmark tasks; ``copula``, which ``estimate``'s default
    reports where the
    network reads no more than it; [`mivb.copula`][mivb.copula]) or ``"difference"`` (conditional
    MI, ``given=``: the difference of two estimates of one kind, no bound; ``terms`` holds them).

    ``stderr``: the standard error of the mean over the test batches; with one test batch, the
    jackknife's over its pairs (each left out in turn); NaN, with a note, below 3 test pairs. A
    negative estimate has a note saying what it means. An ``Estimate`` pickles, its trained critic
    included, on every backend.

    ``lower`` (with ``kind="estimate"``): the held-out lower bound read beside the estimate, as an
    ``Estimate`` of its own (the trained network's InfoNCE under ``estimate``'s default, or the
    copula critic's): what the pairs certify whatever the model, with its own notes.

    ``interval`` (with ``folds``): a ``(low, high)`` interval at ``config.level`` for the value this
    procedure returns on data sets like this one, covering both the critic's training (its seed and
    its training pairs) and the test noise; ``per_fold`` holds each fold's estimate. It does not
    cover the bound's bias: a lower bound's interval lies below the MI wherever its bias exceeds
    the noise (README, "How sure is the number"). With folds, ``history``, ``validation``,
    ``best_step``, ``ceiling`` and ``estimator`` are the first fold's.

    ``linear_critic`` is set when ``mi`` and ``test_values`` are not the network's but those of
    the Gaussian critic that read clearly more on the validation split (``linear_fallback``, a note
    says so); [`pointwise`][mivb.Estimate.pointwise] then reads the ratio off it. ``estimator`` is still the network.

    ``estimator`` is the trained estimator, framework-native (a torch or TensorFlow
    ``MIEstimator``; for JAX ``mivb_jax.Trained``, a named tuple ``(estimator, state)``), on
    inputs transformed as the training pairs were: ``prepare_new(x, z)`` maps raw pairs so, and
    [`pointwise`][mivb.Estimate.pointwise] does it for you.

    ``stopped_early`` is True when training ended before ``config.steps``: early stopping, or a
    ``callback`` that returned True. ``stop_reason`` says why training ended, in the words the
    progress bar ends with: ``"stopped early at step 609 (best at 390)"``, ``"stopped by the
    callback at step 300 (best at 300)"``, ``"diverged at step 13"`` or ``"all 5000 steps (best at
    4900)"`` (``best at``: with early stopping, the step of the critic kept).
    """

    mi: float
    stderr: float
    history: np.ndarray
    bound: str
    backend: str
    config: EstimateConfig
    test_values: np.ndarray = field(repr=False)
    ceiling: float | None = None
    notes: tuple[str, ...] = ()
    diverged_at: int | None = None
    validation: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    best_step: int = 0
    stopped_early: bool = False
    unreliable: bool = False
    stop_reason: str = ""
    kind: str = "lower"
    interval: tuple[float, float] | None = None
    per_fold: tuple[Estimate, ...] = field(default=(), repr=False)
    terms: tuple[Estimate, ...] = field(default=(), repr=False)
    estimator: Any = field(default=None, repr=False, compare=False)
    linear_critic: GaussianCritic | None = field(default=None, repr=False, compare=False)
    prepare_new: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = field(
        default=None, repr=False, compare=False)
    lower: Estimate | None = field(default=None, repr=False, compare=False)

    @property
    def bits(self) -> float:
        return self.mi / math.log(2.0)

    def __float__(self) -> float:
        return self.mi

    def explain(self, code: str | None = None) -> str:
        """The long explanation of each of the result's notes (what it means, why, what to do), by the
        code each note ends with (``[ceiling]``); with ``code``, that code's alone, noted here or not.
        The codes are listed in the docs' page of notes (``mivb.notes.NOTES``)."""
        return explain(self.notes, code)

    def plot(self, path: str | None = None, ax: Any = None) -> Any:
        """Draw the training curve, the held-out estimate and InfoNCE's ceiling on ``ax`` (a new
        figure when None), writing it to ``path`` when given; returns the Axes. With ``folds``, the
        interval as a band (and the first fold's curve); for conditional MI, each term's curve and
        held-out value beside their difference. Needs matplotlib: ``pip install "mivb[plot]"``."""
        from .plotting import plot_estimate  # imported here so that ``import mivb`` never imports matplotlib

        return plot_estimate(self, ax=ax, path=path)

    def pointwise(self, x: Any, z: Any) -> np.ndarray:
        """Each pair's estimated log density ratio log p(x, z) / (p(x) p(z)) in nats, from the trained
        critic (its mean over pairs of the joint estimates the MI), as a float64 NumPy array.

        ``x`` and ``z`` are raw pairs like those given to [`estimate`][mivb.estimate.estimate]: the transform fitted on
        the training pairs is applied first. How each bound's critic gives the ratio is in
        ``mivb.pointwise``: ``nwj``, ``js`` and ``tuba`` read it off the critic; ``dv``, ``mine``,
        ``smile``, ``infonce``, ``alpha``, ``club`` and ``l1out`` normalise it over the other pairs
        given (at least 2; many give a better normaliser); ``ba`` and the classical estimators have
        none. With ``folds``, the first fold's critic.
        """
        if (self.estimator is None and self.linear_critic is None) or self.prepare_new is None:
            what = "a conditional estimate (use result.terms[0] and [1])" if self.terms else f"{self.bound!r}"
            raise invalid("bound", "an estimate with a trained critic for pointwise MI (a variational bound)", what)
        if self.linear_critic is None:
            log_ratio_rule(self.bound)  # the bound's refusal first: ba's labels would fail the sample checks
        x_all, z_all = as_samples("x", x), as_samples("z", z)
        check_paired(x_all, z_all)
        if self.linear_critic is not None:  # the critic mi was read from (linear_fallback, copula)
            return self.linear_critic.log_ratio(*self.prepare_new(x_all, z_all))
        ratios: np.ndarray = self.estimator.pointwise(*self.prepare_new(x_all, z_all))
        return ratios

    def __repr__(self) -> str:
        notes = f", notes={list(self.notes)}" if self.notes else ""
        unreliable = ", unreliable=True" if self.unreliable else ""
        interval = (f", {self.config.level:.0%} interval=({self.interval[0]:.4f}, {self.interval[1]:.4f})"
                    if self.interval else "")
        lower = f", lower={self.lower.mi:.4f}" if self.lower is not None else ""
        return (f"Estimate(mi={self.mi:.4f} nats ± {self.stderr:.4f}{interval}{lower}, bound={self.bound!r}, "
                f"kind={self.kind!r}, backend={self.backend!r}, steps={len(self.history)}{unreliable}{notes})")
