"""``mivb.estimate``: train a critic on part of the data, read the bound off the rest."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, overload

import numpy as np

from ._progress import TrainingProgress, check_callback, check_progress
from .backends import BackendNotAvailableError, available_backends, backend_name_of, get_backend, installed, registered
from .bounds import get_bound
from .catalogue import estimators
from .classical import CLASSICAL, ClassicalEstimator
from .critics import CriticConfig, check_critic_takes, check_negative_samples
from .crosscheck import GaussianCritic, fallback_note, linear_batch_size, linear_note, linear_values, plug_in_note
from .diagnosis import CLIP_CHECK_PAIRS, clip_note, diagnose
from .errors import UnknownNameError, invalid, unknown_name
from .intervals import check_folds, check_level, crossfit
from .protocol import CHUNK_STEPS, Fitted, fit, held_out_batches, linear_reads_more, score, split_sizes
from .samples import as_labels, as_samples, check_paired, check_transform, label_entropy, prepare
from .schedule import check_positive_int
from .spec import EstimatorSpec, log_ratio_rule
from .streams import estimate_stream, is_stream
from .tables import from_table

__all__ = ["CHUNK_STEPS", "Estimate", "EstimateConfig", "estimate", "split_sizes", "training_backends"]

BACKEND_VARIABLE = "MIVB_BACKEND"  # the default backend, like KERAS_BACKEND
DEVICE_VARIABLE = "MIVB_DEVICE"  # the default device, "cuda" for example

@dataclass(frozen=True)
class EstimateConfig:
    """Everything that determined an estimate; with the same data it reproduces the result.

    The defaults are those of :func:`estimate`; an adapter's ``Trainer`` reads the training fields.
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
        """The arguments of :func:`estimate` that reproduce the result on the same data:
        ``mivb.estimate(x, z, **result.config.to_kwargs())``."""
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "bound_params"},
                **self.bound_params}

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "critic": self.critic.to_dict(),
                "bound_params": dict(self.bound_params)}

    @property
    def spec(self) -> EstimatorSpec:
        """The estimator part of the configuration, as every backend's ``MIEstimator`` takes it."""
        return EstimatorSpec(self.bound, self.bound_params, self.critic, self.learning_rate, self.ema_decay, self.seed,
                             self.precision)


@dataclass(frozen=True)
class Estimate:
    """The result of :func:`mivb.estimate`. ``mi`` is in nats; ``bits`` converts it.

    ``unreliable`` is True, with a note saying why, when the number cannot be trusted as an
    estimate: training diverged (a non-finite value, or a finite one no bound on this many pairs
    can take: ``diverged_at`` says when, and the estimate then comes from the last sane critic),
    or the held-out value itself is non-finite or outside what the data allows (below -1 nat, or
    above ``2 log n + 10``), or a lower bound without a ceiling (``smile``, ``dv``, ...) reads more
    than log(test pairs), about the most its held-out pairs can certify, where DV-type estimates
    overshoot, or so many held-out pairs have a log ratio above ``smile``'s clip that the clip
    lifts the value by over 0.5 nats (a note from 0.25). Other notes (a ceiling, a rising curve,
    overfitting, a linear critic reading more than the trained one on the same test batches) leave
    it False.

    ``kind`` says what the number is: ``"lower"`` or ``"upper"`` (a bound on I(X; Z), to the extent
    its critic allows: a lower bound's held-out value is a lower bound on the MI of the data's
    distribution; an upper bound's, only while its q(z | x) is close to p(z | x)),
    ``"classical"`` (an estimate, no bound: ``ksg``, ``gaussian``) or ``"difference"`` (conditional
    MI, ``given=``: the difference of two estimates of one kind, no bound; ``terms`` holds them).

    ``interval`` (with ``folds``): a ``(low, high)`` interval at ``config.level`` for the value this
    procedure returns on data sets like this one, covering both the critic's training (its seed and
    its training pairs) and the test noise; ``per_fold`` holds each fold's estimate. It does not
    cover the bound's bias: a lower bound's interval lies below the MI wherever its bias exceeds
    the noise (README, "How sure is the number"). With folds, ``history``, ``validation``,
    ``best_step``, ``ceiling`` and ``estimator`` are the first fold's.

    ``linear_critic`` is set when ``mi`` and ``test_values`` are not the network's but those of
    the Gaussian critic that read clearly more on the validation split (``linear_fallback``, a note
    says so); :meth:`pointwise` then reads the ratio off it. ``estimator`` is still the network.

    ``estimator`` is the trained estimator, framework-native (a torch or TensorFlow
    ``MIEstimator``; for JAX ``mivb_jax.Trained``, a named tuple ``(estimator, state)``), on
    inputs transformed as the training pairs were: ``prepare_new(x, z)`` maps raw pairs so, and
    :meth:`pointwise` does it for you.

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

    @property
    def bits(self) -> float:
        return self.mi / math.log(2.0)

    def __float__(self) -> float:
        return self.mi

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

        ``x`` and ``z`` are raw pairs like those given to :func:`estimate`: the transform fitted on
        the training pairs is applied first. How each bound's critic gives the ratio is in
        :mod:`mivb.pointwise`: ``nwj``, ``js`` and ``tuba`` read it off the critic; ``dv``, ``mine``,
        ``smile``, ``infonce``, ``alpha``, ``club`` and ``l1out`` normalise it over the other pairs
        given (at least 2; many give a better normaliser); ``ba`` and the classical estimators have
        none. With ``folds``, the first fold's critic.
        """
        if self.estimator is None or self.prepare_new is None:
            what = "a conditional estimate (use result.terms[0] and [1])" if self.terms else f"{self.bound!r}"
            raise invalid("bound", "an estimate with a trained critic for pointwise MI (a variational bound)", what)
        log_ratio_rule(self.bound)  # the bound's refusal first: ba's labels would fail the sample checks
        x_all, z_all = as_samples("x", x), as_samples("z", z)
        check_paired(x_all, z_all)
        if self.linear_critic is not None:  # the critic mi was read from (linear_fallback)
            return self.linear_critic.log_ratio(*self.prepare_new(x_all, z_all))
        return self.estimator.pointwise(*self.prepare_new(x_all, z_all))

    def __repr__(self) -> str:
        notes = f", notes={list(self.notes)}" if self.notes else ""
        unreliable = ", unreliable=True" if self.unreliable else ""
        interval = (f", {self.config.level:.0%} interval=({self.interval[0]:.4f}, {self.interval[1]:.4f})"
                    if self.interval else "")
        return (f"Estimate(mi={self.mi:.4f} nats ± {self.stderr:.4f}{interval}, bound={self.bound!r}, "
                f"kind={self.kind!r}, backend={self.backend!r}, steps={len(self.history)}{unreliable}{notes})")


# Why these defaults (measured with benchmarks/accuracy.py and examples/, torch, CPU):
# - early stopping on a validation split: without it the default critic memorises small data; on
#   the 5x5 dense Gaussian task at n = 2000 the held-out InfoNCE fell to -2.84 nats after 2000
#   fixed steps, and is 0.68 (truth 0.83) with it. It also makes `steps` a ceiling, not a cost.
# - a check about once an epoch, patience 10 checks: slower critics (joint, conv) keep improving
#   for several epochs; shorter patience stopped them early on the image tasks.
# - infonce: the lowest-variance bound (0.06 to 0.2 nats over the staircase), biased only near its
#   ceiling log(batch_size), which `notes` reports; smile is the choice for larger MI.
# - batch 128: InfoNCE's optimal-critic bias at 3 nats is -0.30 at 128 and -0.19 at 256 (measured
#   with the analytic critic), for twice the cost per step; 128 keeps small data sets usable.
# - transform "auto" gaussianizes vector marginals: with plain standardisation a Cauchy-tailed
#   feature (Student-t, 1 dof, n = 5000, truth 0.37 nats) made smile report 137 nats and InfoNCE
#   0.14; Gaussian tasks are unchanged by it (MI is invariant to monotone maps of each feature).
# - learning rate 5e-4 (Adam) and the separable 2 x 256 critic with 32-d embeddings: the settings
#   of Poole et al. (2019) and Song & Ermon (2020), which the staircase reproduces.
@overload
def estimate(x: Any, z: Any = ..., *, bound: str = ..., **options: Any) -> Estimate: ...


@overload
def estimate(x: Any, z: Any = ..., *, bound: list[str] | tuple[str, ...], **options: Any) -> tuple[Estimate, ...]: ...


def estimate(
    x: Any,
    z: Any = None,
    *,
    bound: str | list[str] | tuple[str, ...] = "infonce",
    backend: str | None = None,
    critic: str | CriticConfig | dict[str, Any] | None = None,
    steps: int = 5000,
    batch_size: int = 128,
    learning_rate: float = 5e-4,
    negative_samples: int | None = None,
    ema_decay: float = 0.99,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.1,
    early_stopping: bool = True,
    patience: int = 10,
    transform: str | None = "auto",
    seed: int | None = None,
    device: str | None = None,
    devices: int | str | None = None,
    precision: str = "float32",
    compile: bool = False,
    linear_fallback: bool | None = None,
    progress: bool | None = None,
    callback: Callable[[TrainingProgress], Any] | None = None,
    folds: int | None = None,
    level: float = 0.95,
    given: Any = None,
    data: Any = None,
    **bound_params: Any,
) -> Estimate | tuple[Estimate, ...]:
    """Estimate the mutual information I(X; Z) in nats from paired samples.

    The pairs are split three ways. A critic is trained to maximise the bound on the training
    split; about once an epoch (at most every 100 steps) it is scored on the validation split, and training stops once that
    score has not improved for ``patience`` checks, keeping the best critic (early stopping: a
    critic trained too long on finite data memorises its pairs). The reported ``mi`` is the bound
    on the test split, which took no part in training or stopping, averaged over batches of
    ``batch_size`` pairs (``stderr`` is the standard error of that mean).

    Args:
        x, z: paired samples, NumPy arrays or tensors of any installed framework, shape (n, d)
            (1-D means d = 1; images as (n, C, H, W)); the same n. Or, for data that does not fit
            in memory, x an iterable of (x, z) batches (a torch ``DataLoader``, a
            ``tf.data.Dataset``, a generator) and no z: read once, its first pairs held out for
            test and validation (:mod:`mivb.streams`).
        bound: a lower bound: ``infonce`` (default: low variance, but never above log(batch_size)),
            ``smile``, ``mine``, ``dv``, ``nwj``, ``js``, ``tuba`` or ``alpha``; an upper bound: ``club``
            or ``l1out`` (upper bounds only while their q(z | x) is close to p(z | x)); for class
            labels z (integers, booleans or strings, shape (n,)): ``ba``, H(Z) + E log q(z | x) with
            a classifier q and H(Z) from the labels' counts (the information plane's I(T; Y)); a classical
            estimator, no training: ``ksg`` (k nearest neighbours, ``k=3``; low-dimensional vectors)
            or ``gaussian`` (a jointly Gaussian model); see ``mivb.estimators()``. A list of names
            runs each on the same split with the same seed and returns a tuple of estimates, for
            example ``["smile", "club"]``: a lower and an upper bound, the bracket the MI lies in.
        backend: ``torch``, ``jax`` or ``tensorflow``; by default the framework of the inputs,
            else the environment variable ``MIVB_BACKEND``, else the first installed of those.
        critic: ``separable``, ``joint``, ``bilinear``, ``conditional`` (a Gaussian q(z | x)), a mapping
            of :class:`mivb.CriticConfig` fields, or a ``CriticConfig``; None (default): ``conditional``
            for the upper bounds, ``separable`` for the others.
        steps, batch_size, learning_rate: the most training steps, pairs per step, Adam's step size.
        negative_samples: None scores all N - 1 negatives of the batch; K uses K derangements.
        ema_decay: MINE's moving-average decay (bound ``mine`` only).
        test_fraction: share of the pairs held out for the reported value.
        validation_fraction, early_stopping, patience: the share of pairs that decides when to
            stop, whether to stop early at all (False trains all ``steps``), and how many checks
            without improvement end training.
        transform: an invertible map of each feature fitted on the training split, which leaves
            the MI unchanged: ``"gaussianize"`` (ranks to normal quantiles: tames heavy tails),
            ``"standardize"`` (zero mean, unit variance), ``"auto"`` (gaussianize vectors,
            standardize images; the default) or None.
        seed: makes the split, batches, initialisation and result reproducible; drawn at random and
            recorded in ``result.config.seed`` when None.
        device: ``"cpu"`` or a GPU such as ``"cuda"``; by default the device of torch tensors, else
            the environment variable ``MIVB_DEVICE``, else ``"cpu"``.
        devices: data parallelism over this many devices of ``device``'s kind (``"all"``: every
            local one): each batch is split across them and the negatives span the whole batch,
            with the same result as one device. JAX (a sharded jit) only; ``batch_size`` must be a
            multiple of it. For torch, use ``mivb_torch.DistributedMIEstimator`` under torchrun;
            for TensorFlow, ``mivb_tensorflow.replica_objective`` inside ``strategy.run``.
        precision: the dtype the critic computes in: ``"float32"`` (default), or mixed precision,
            ``"bfloat16"`` or ``"float16"``: the critic's parameters, the optimiser and every
            bound's reductions stay in float32 (torch autocast, Keras mixed-precision policies,
            JAX params cast per step; float16 steps use dynamic loss scaling where the framework
            has one: torch and Keras). Faster on GPUs with tensor cores; on CPUs usually slower.
            See docs/gpu.md.
        compile: torch only: ``torch.compile`` the training step (critic, bound, gradient and Adam
            step). Its compilation costs a minute or more before the first step; it pays on GPUs
            and long runs. JAX and TensorFlow always compile theirs (``jax.jit``, ``tf.function``).
        linear_fallback: with ``infonce`` or ``nwj`` on vectors, the log density ratio of a
            Gaussian fitted to the training pairs is scored beside the network on the validation
            split; when it reads clearly more there (the network missed dependence that linear
            correlation shows: many dimensions, few pairs), ``mi`` is the linear critic's test
            value, with a note, and ``result.linear_critic`` is set. None (default): so with the
            default critic, never with a ``critic`` you chose (its value is what you asked for);
            True or False: always or never. Without it a note still says when the linear critic
            reads more on the test split. See :mod:`mivb.crosscheck`.
        progress: a progress bar (tqdm: on stderr in a terminal, a widget in a notebook) that ends
            with the reason training stopped; None (default) shows it only when stderr is a
            terminal or in a Jupyter notebook, True always (also on redirected stderr), False never.
        callback: a function called after each chunk of training (the steps between two
            validation checks, at most 100) with a :class:`mivb._progress.TrainingProgress`, a frozen
            record of ``step``, ``steps``, ``value`` (the chunk's last training value), ``mean`` (its
            mean), ``validation`` (this check's score; None without early stopping) and
            ``best_step``. Returning ``True`` stops training there (``result.stopped_early`` is True
            and ``result.stop_reason`` says the callback stopped it; with early stopping the best
            critic so far is kept); any other return value, None included, goes on. An exception it
            raises propagates out of ``estimate``. Not called for a chunk in which training diverged.
            See docs/logging.md (TensorBoard, Weights & Biases). Progress is also logged on the
            standard ``logging`` logger ``"mivb"``: DEBUG after each chunk, INFO with the reason
            when training ends.
        folds: cross-fitting for an interval that covers training: the pairs are cut into ``folds``
            parts (at least 2; 5 is a good choice), and each part in turn is the test split of a
            critic trained (with its own seed) on the others, so ``folds`` times the cost of one
            estimate. ``mi`` is the mean of the folds' estimates, ``interval`` a Student-t
            interval from the spread of the folds' estimates, widened for their shared training
            pairs (Nadeau & Bengio 2003: variance factor 1/K + 1/(K - 1)); ``test_fraction`` is
            then 1/folds. None (default): one split, no interval.
        level: the interval's coverage, in (0, 1); 0.95 by default.
        given: samples y paired with x and z, shape (n, d) or (n,): the conditional MI
            I(X; Z | Y) = I(X; (Z, Y)) - I(X; Y) (the chain rule), both terms estimated with the
            same bound, split, folds and seed (``result.terms``), so that their errors share the
            split and partly cancel. ``kind`` is then ``"difference"``: no bound. z must be vectors.
        data: a pandas DataFrame or a mapping of names to arrays (a dict, an ``np.load``
            archive); x, z and ``given`` are then names in it, each a name (one column, or one
            array of the mapping) or a list of names (stacked as features):
            ``estimate("age", ["income", "rent"], data=frame)``.
        **bound_params: ``clip`` for ``smile``.

    Returns:
        An :class:`Estimate` with ``mi``, ``stderr``, ``history`` (training value per step),
        ``validation`` (the score at each check), ``best_step``, ``bound``, ``backend``, ``config``
        and ``notes`` (for example, an InfoNCE value at its ceiling, or a diverged training).
    """
    if data is not None:
        x, z, given = from_table(data, x=x, z=z, given=given).values()
        data = None
    arguments = {key: value for key, value in locals().items() if key not in ("x", "z")}
    if is_stream(x, z) and isinstance(bound, str) and bound not in CLASSICAL:
        return estimate_stream(x, arguments)
    if z is None:
        raise invalid("z", "samples paired with x (or x an iterable of (x, z) batches, with no z)", z)
    if isinstance(bound, (list, tuple)):
        return _several(x, z, arguments)
    if not isinstance(bound, str) or bound not in estimators():
        raise unknown_name("bound", bound, estimators())
    if given is not None:
        from .conditional import conditional  # it calls estimate back, once per term

        return conditional(x, z, given, arguments)
    if bound in CLASSICAL:
        return _classical(x, z, arguments)
    return _trained(x, z, arguments)


def trained_inputs(x: Any, z: Any, arguments: dict[str, Any]) -> tuple[EstimateConfig, np.ndarray, np.ndarray, bool]:
    """The configuration and the checked samples for a bound's critic; whether z holds class labels."""
    check_progress(arguments["progress"])
    check_callback(arguments["callback"])
    labels = get_bound(arguments["bound"]).critic == "classifier"
    if labels:  # z holds class labels: one-hot rows, and H(Z) from their counts
        z, counts = as_labels("z", z)
        arguments = {**arguments, "bound_params": {"entropy": label_entropy(counts), **arguments["bound_params"]}}
    config = _configure(arguments, x, z)
    x_all, z_all = as_samples("x", x), as_samples("z", z)
    check_paired(x_all, z_all)
    check_critic_takes(config.critic, x_all, z_all)
    return config, x_all, z_all, labels


def _trained(x: Any, z: Any, arguments: dict[str, Any]) -> Estimate:
    """A bound's estimate: train a critic, read the bound off the test split (each fold's in turn)."""
    config, x_all, z_all, labels = trained_inputs(x, z, arguments)
    if config.folds is None:
        return result(fit(x_all, z_all, config, labels, arguments["progress"], arguments["callback"]))
    per_fold = [result(fit(x_all, z_all, config, labels, arguments["progress"], arguments["callback"], fold),
                       warn=False) for fold in range(config.folds)]
    combined = crossfit(config, per_fold)
    for note in combined.notes:
        warnings.warn(note, stacklevel=3)
    return combined


def _several(x: Any, z: Any, arguments: dict[str, Any]) -> tuple[Estimate, ...]:
    """One estimate per name of ``bound``, all with one seed: the same split, each its own critic;
    a lower bound above an upper bound is noted on both."""
    names = arguments["bound"]
    if not names or not all(isinstance(name, str) for name in names):
        raise invalid("bound", "a name, or a non-empty list of names of mivb.estimators()", names)
    catalogue = estimators()
    for name in names:
        if name not in catalogue:
            raise unknown_name("bound", name, catalogue)
    params = arguments["bound_params"]
    for key in params:
        if not any(key in catalogue[name].params for name in names):
            taken = ", ".join(sorted({repr(p) for name in names for p in catalogue[name].params})) or "none"
            raise UnknownNameError(f"{key}: the estimators {', '.join(names)} take the parameters {taken}, "
                                   f"received {key}={params[key]!r}")
    options = {key: value for key, value in arguments.items() if key not in ("bound", "bound_params", "seed")}
    seed = seed_or_drawn(arguments["seed"])
    results = [estimate(x, z, bound=name, seed=seed, **options,
                        **{key: value for key, value in params.items() if key in catalogue[name].params})
               for name in names]
    notes: list[list[str]] = [[] for _ in results]
    for i, low in enumerate(results):
        for j, high in enumerate(results):
            gap = low.mi - high.mi
            if low.kind == "lower" and high.kind == "upper" and gap > 2 * math.hypot(low.stderr, high.stderr):
                note = (f"the lower bound {low.bound} ({low.mi:.3f}) reads above the upper bound {high.bound} "
                        f"({high.mi:.3f}) by {gap:.3f} nats, beyond their noise: at least one of them is not a "
                        f"bound here (an upper bound holds only while its q(z | x) is close to p(z | x))")
                warnings.warn(note, stacklevel=3)
                notes[i].append(note)
                notes[j].append(note)
    return tuple(replace(result, notes=(*result.notes, *extra), unreliable=True) if extra else result
                 for result, extra in zip(results, notes))


def classical_inputs(x: Any, z: Any, arguments: dict[str, Any]) -> tuple[ClassicalEstimator, dict[str, Any],
                                                                         np.ndarray, np.ndarray, str | None]:
    """A classical estimator, its parameters, the transformed samples, and the transform."""
    estimator = CLASSICAL[arguments["bound"]]
    if arguments["folds"] is not None:
        raise invalid("folds", f"None for the classical estimator {estimator.name!r}, which trains nothing and "
                      f"runs once on all pairs", arguments["folds"])
    params = estimator.resolve_params(arguments["bound_params"])
    x_all, z_all = as_samples("x", x), as_samples("z", z)
    check_paired(x_all, z_all)
    transform = check_transform(arguments["transform"])
    xs, zs = prepare(transform, x_all, argument="x")[0], prepare(transform, z_all, argument="z")[0]
    return estimator, params, xs, zs, transform


def _classical(x: Any, z: Any, arguments: dict[str, Any]) -> Estimate:
    """A classical estimator on all pairs, after the transform: no training, no split."""
    estimator, params, xs, zs, transform = classical_inputs(x, z, arguments)
    mi, stderr = estimator.function(xs, zs, **params)
    config = EstimateConfig(bound=estimator.name, bound_params=params, backend="numpy", steps=0,
                            transform=transform, seed=seed_or_drawn(arguments["seed"]))
    notes, unreliable = [], not math.isfinite(mi)
    if unreliable:
        notes.append(f"{estimator.name} gives {mi}: the data do not suit it")
    for note in notes:
        warnings.warn(note, stacklevel=3)
    return Estimate(mi=mi, stderr=stderr, history=np.zeros(0), bound=estimator.name, backend="numpy", config=config,
                    test_values=np.array([mi]), notes=tuple(notes), unreliable=unreliable, kind="classical",
                    stop_reason="none (a classical estimator, on all pairs)")


def seed_or_drawn(seed: Any) -> Any:
    """The seed given, or one drawn at random (recorded in the result's config)."""
    return int(np.random.SeedSequence().generate_state(1)[0] >> 1) if seed is None else seed


def _configure(arguments: dict[str, Any], x: Any, z: Any) -> EstimateConfig:
    seed = seed_or_drawn(arguments["seed"])
    spec = EstimatorSpec.create(arguments["bound"], arguments["critic"], arguments["learning_rate"],
                                arguments["ema_decay"], seed, arguments["bound_params"],
                                learning_rate_argument="learning_rate", precision=arguments["precision"])
    critic = spec.critic
    if arguments["negative_samples"] is not None:
        critic = replace(critic, negative_samples=arguments["negative_samples"])
    batch_size = check_positive_int("batch_size", arguments["batch_size"])
    if batch_size < 2:
        raise invalid("batch_size", "at least 2 pairs per batch", batch_size)
    check_negative_samples(critic, batch_size)
    fractions = {name: arguments[name] for name in ("test_fraction", "validation_fraction")}
    for name, fraction in fractions.items():
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
            raise invalid(name, "a fraction strictly between 0 and 1", fraction)
    if sum(fractions.values()) >= 1.0:
        raise invalid("validation_fraction", f"at most 1 - test_fraction = {1 - fractions['test_fraction']:g}",
                      fractions["validation_fraction"])
    _check_bool("early_stopping", arguments["early_stopping"])
    devices = arguments["devices"]
    if devices not in (None, 1, "all") and (isinstance(devices, bool) or not isinstance(devices, int) or devices < 1):
        raise invalid("devices", "None (one device), 'all' or a positive number of devices", devices)
    backend = _choose_backend(arguments["backend"], x, z)
    if devices not in (None, 1) and "shards" not in get_backend(backend).capabilities:
        sharding = ", ".join(repr(name) for name in available_backends() if "shards" in get_backend(name).capabilities)
        raise invalid("devices", f"None with backend {backend!r}, which runs estimate on one device (data "
                      f"parallelism in estimate: {sharding or 'no installed backend'}; see README, many devices)",
                      devices)
    device = arguments["device"]
    if device is None and backend == "torch" and backend_name_of(x) == "torch":
        device = str(x.device)  # the tensors' own device: CUDA tensors train on their GPU
    device = device or os.environ.get(DEVICE_VARIABLE) or None
    return EstimateConfig(
        bound=spec.bound,
        bound_params=dict(spec.bound_params),
        critic=critic,
        backend=backend,
        device=device,
        devices=devices,
        steps=check_positive_int("steps", arguments["steps"]),
        batch_size=batch_size,
        learning_rate=spec.learning_rate,
        ema_decay=spec.ema_decay,
        test_fraction=float(fractions["test_fraction"]),
        validation_fraction=float(fractions["validation_fraction"]),
        early_stopping=arguments["early_stopping"],
        patience=check_positive_int("patience", arguments["patience"]),
        transform=check_transform(arguments["transform"]),
        seed=spec.seed,
        folds=check_folds(arguments["folds"]),
        level=check_level(arguments["level"]),
        precision=spec.precision,
        compile=_check_bool("compile", arguments["compile"]),
        linear_fallback=(arguments["critic"] is None if arguments["linear_fallback"] is None
                         else _check_bool("linear_fallback", arguments["linear_fallback"])),
    )


def _check_bool(argument: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(argument, "True or False", value)
    return value


def training_backends() -> list[str]:
    """The installed backends that can train a critic, in registration order."""
    return [name for name in available_backends() if "trains" in get_backend(name).capabilities]


def _choose_backend(backend: str | None, x: Any, z: Any) -> str:
    """The argument; else the inputs' framework; else ``MIVB_BACKEND``; else the first installed that trains."""
    if backend is None:
        owner = backend_name_of(x) or backend_name_of(z)
        if owner is not None and "trains" in get_backend(owner).capabilities:
            return owner
        if os.environ.get(BACKEND_VARIABLE):
            return _training_backend(BACKEND_VARIABLE, os.environ[BACKEND_VARIABLE])
        for name in available_backends():  # imports one framework at most: the first that trains
            if "trains" in get_backend(name).capabilities:
                return name
        hints = "; ".join(f"{spec.name}: {spec.install}" for spec in registered().values()
                          if not installed(spec.framework))
        raise BackendNotAvailableError(f"backend: estimate trains a critic and needs a framework that can, none "
                                       f"of which is installed; fix with one of: {hints}")
    return _training_backend("backend", backend)


def _training_backend(argument: str, backend: str) -> str:
    if backend not in registered():
        raise unknown_name(argument, backend, registered())
    adapter = get_backend(backend)
    if "trains" not in adapter.capabilities:
        raise invalid(argument, f"a backend that can train a critic ({', '.join(map(repr, training_backends()))} "
                      f"are installed here); {backend!r} computes bounds only", backend)
    return backend


def result(fitted: Fitted, warn: bool = True) -> Estimate:
    """The estimate of a fitted critic: the bound on its test split, with the notes on it."""
    config, run = fitted.config, fitted.run
    values, eval_size = score(fitted.trainer, np.random.default_rng(fitted.test_seed), "test", fitted.test_size,
                              config)
    validation, crosscheck = None, []
    if fitted.linear_critic is not None and np.isfinite(values).all():
        validation = linear_reads_more(fitted)
        # The network's test batches for the note; larger ones when the linear critic is reported.
        size = eval_size if validation is None else linear_batch_size(fitted.test_size, config.batch_size)
        batches = held_out_batches(np.random.default_rng(fitted.test_seed), fitted.test_size,
                                   replace(config, batch_size=size))
        linear = linear_values(fitted.linear_critic, *fitted.test_pairs, batches, config.bound, config.bound_params)
        if validation is None:
            crosscheck = [note for note in [linear_note(config.bound, values, linear)] if note]
        else:
            crosscheck = [fallback_note(config.bound, validation, float(values.mean()), eval_size, size)]
            values, eval_size = linear, size
    mi = float(values.mean())
    stderr = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    k = config.critic.negative_samples
    ceiling = get_bound(config.bound).ceiling(eval_size - 1 if k is None else min(k, eval_size - 1),
                                              config.bound_params)
    notes, unreliable = diagnose(config, run, mi, stderr, ceiling, fitted.n_pairs, fitted.x_is_z,
                                 fitted.test_size)
    clip = get_bound(config.bound).resolve_params(config.bound_params)["clip"] if config.bound == "smile" else None
    if clip is not None and fitted.test_size >= 2 and math.isfinite(mi):
        network_ratios = fitted.trainer.trained().pointwise(*(a[:CLIP_CHECK_PAIRS] for a in fitted.test_pairs))
        note, clip_decides = clip_note(config.bound, clip, network_ratios)
        notes += [note] if note else []
        unreliable = unreliable or clip_decides
    if validation is not None:
        log_ratios = fitted.linear_critic.log_ratio(*fitted.test_pairs)
        crosscheck += [note for note in [plug_in_note(config.bound, mi, fitted.linear_critic, log_ratios, eval_size)]
                       if note]
    notes = fitted.notes + notes + crosscheck
    if warn:
        for note in notes:
            warnings.warn(note, stacklevel=4)  # estimate's caller: estimate -> _trained -> result
    return Estimate(mi=mi, stderr=stderr, history=run.history, bound=config.bound, backend=config.backend,
                    kind=get_bound(config.bound).kind,
                    config=config, test_values=values, ceiling=ceiling, notes=tuple(notes),
                    diverged_at=run.diverged_at, validation=run.validation, best_step=run.best_step,
                    stopped_early=run.stopped_early, unreliable=unreliable, stop_reason=fitted.stop_reason,
                    estimator=fitted.trainer.trained(), prepare_new=fitted.prepare_new,
                    linear_critic=fitted.linear_critic if validation is not None else None)
