"""``mivb.estimate``: train a critic on part of the data, read the bound off the rest.

This module dispatches: a stream (``mivb.streams``), several bounds, conditional MI
(``mivb.conditional``), or one estimate, whose steps are ``mivb.pipeline``'s. The result and its
configuration live in ``mivb.result``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, overload

from ._progress import TrainingProgress
from .arguments import EstimateArguments
from .bounds import BOUNDS
from .catalogue import estimators
from .classical import CLASSICAL
from .conditional import conditional
from .copula import COPULA, auto, copula
from .critics import CriticConfig
from .errors import UnknownNameError, invalid, unknown_name
from .notes import note, warn
from .pipeline import classical, seed_or_drawn, trained, training_backends
from .protocol import CHUNK_STEPS, split_sizes
from .result import AUTO, NETWORK_BOUND, Estimate, EstimateConfig
from .streams import estimate_stream, is_stream
from .tables import from_table

__all__ = ["CHUNK_STEPS", "Estimate", "EstimateConfig", "estimate", "split_sizes", "training_backends"]


# Why these defaults (measured with benchmarks/accuracy.py and examples/, torch, CPU):
# - early stopping on a validation split: without it the default critic memorises small data; on
#   the 5x5 dense Gaussian task at n = 2000 the held-out InfoNCE fell to -2.84 nats after 2000
#   fixed steps, and is 0.68 (truth 0.83) with it. It also makes `steps` a ceiling, not a cost.
# - a check about once an epoch, patience 10 checks: slower critics (joint, conv) keep improving
#   for several epochs; shorter patience stopped them early on the image tasks.
# - bound None: the network's InfoNCE, and the Gaussian copula where the network's InfoNCE reads no
#   more than the copula's estimate on validation (mivb/copula.py): the copula reads 9.97 of 10 nats at d = 20 and 2.01 of
#   2 at d = 200 + 200 (20,000 pairs), where InfoNCE is capped near log(batch_size) and the network
#   needs many pairs per dimension (benchmarks/frontier.py).
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
def estimate(x: Any, z: Any = ..., *, bound: str | None = ..., **options: Any) -> Estimate: ...


@overload
def estimate(x: Any, z: Any = ..., *, bound: list[str] | tuple[str, ...], **options: Any) -> tuple[Estimate, ...]: ...


def estimate(
    x: Any,
    z: Any = None,
    *,
    bound: str | list[str] | tuple[str, ...] | None = None,
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
            test and validation (``mivb.streams``).
        bound: None (default, also ``"auto"``): a critic trained under ``infonce``, and the Gaussian
            copula of the same training pairs ([`mivb.copula`][]: each feature mapped to a
            normal, the MI of their joint Gaussian model, bias-corrected) wherever the critic's
            InfoNCE on the validation split reads no more than the copula's estimate. Then ``bound`` is
            ``"copula"``, ``kind`` ``"estimate"`` (no bound: it reads any MI, in hundreds of
            dimensions), and ``result.lower`` the network's held-out InfoNCE; else the network's
            InfoNCE, as with ``bound="infonce"``. Streams and ``given=`` run ``infonce``.
            ``copula`` alone: the copula, no network (``result.lower``: its critic's InfoNCE).
            Or a lower bound: ``infonce`` (low variance, but never above log(batch_size)),
            ``smile``, ``mine``, ``dv``, ``nwj``, ``js``, ``tuba`` or ``alpha``; an upper bound: ``club``
            (only while its q(z | x) is close to p(z | x)); ``l1out``, on the same q, an estimate (kind
            ``"estimate"``: an upper bound only for the exact q); for class
            labels z (integers, booleans or strings, shape (n,)): ``ba``, H(Z) + E log q(z | x) with
            a classifier q and H(Z) from the labels' counts (the information plane's I(T; Y)); a classical
            estimator, no training: ``ksg`` (k nearest neighbours, ``k=3``; low-dimensional vectors)
            or ``gaussian`` (a jointly Gaussian model); see ``mivb.estimators()``. A list of names
            runs each on the same split with the same seed and returns a tuple of estimates, for
            example ``["smile", "club"]``: a lower and an upper bound, the bracket the MI lies in.
        backend: ``torch``, ``jax`` or ``tensorflow``; by default the framework of the inputs,
            else the environment variable ``MIVB_BACKEND``, else the first installed of those.
        critic: ``separable``, ``joint``, ``bilinear``, ``conditional`` (a Gaussian q(z | x)), a mapping
            of [`mivb.CriticConfig`][] fields, or a ``CriticConfig``; None (default): ``conditional``
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
            reads more on the test split. See ``mivb.crosscheck``.
        progress: a progress bar (tqdm: on stderr in a terminal, a widget in a notebook) that ends
            with the reason training stopped; None (default) shows it only when stderr is a
            terminal or in a Jupyter notebook, True always (also on redirected stderr), False never.
        callback: a function called after each chunk of training (the steps between two
            validation checks, at most 100) with a [`mivb.TrainingProgress`][], a frozen
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
        An [`Estimate`][] with ``mi``, ``stderr``, ``history`` (training value per step),
            ``validation`` (the score at each check), ``best_step``, ``bound``, ``backend``,
            ``config`` and ``notes`` (for example, an InfoNCE value at its ceiling, or a diverged
            training); for a list of bounds, a tuple of them, one per bound.
    """
    if data is not None:
        x, z, given = from_table(data, x=x, z=z, given=given).values()
        data = None
    if bound in (None, AUTO) and (given is not None or is_stream(x, z)):
        bound = NETWORK_BOUND  # the copula needs all pairs at once, and one estimate
    arguments = EstimateArguments(
        bound=bound, backend=backend, critic=critic, steps=steps, batch_size=batch_size, learning_rate=learning_rate,
        negative_samples=negative_samples, ema_decay=ema_decay, test_fraction=test_fraction,
        validation_fraction=validation_fraction, early_stopping=early_stopping, patience=patience,
        transform=transform, seed=seed, device=device, devices=devices, precision=precision, compile=compile,
        linear_fallback=linear_fallback, progress=progress, callback=callback, folds=folds, level=level,
        given=given, bound_params=bound_params)
    if is_stream(x, z):
        if isinstance(bound, str) and bound not in estimators():
            raise unknown_name("bound", bound, estimators())
        if not (isinstance(bound, str) and bound in BOUNDS):
            raise invalid("bound", "one variational bound for a stream of batches, read once (classical estimators "
                          "and fitted models need every pair at once; a list would read the stream once per name)",
                          bound)
        return estimate_stream(x, arguments)
    if z is None:
        raise invalid("z", "samples paired with x (or x an iterable of (x, z) batches, with no z)", z)
    if isinstance(bound, (list, tuple)):
        return _several(x, z, arguments)
    if bound in (None, AUTO):
        return auto(x, z, arguments)
    if not isinstance(bound, str) or bound not in estimators():
        raise unknown_name("bound", bound, [AUTO, *estimators()])
    if bound == COPULA:
        return copula(x, z, arguments)
    if given is not None:
        return conditional(x, z, given, arguments)
    if bound in CLASSICAL:
        return classical(x, z, arguments)
    return trained(x, z, arguments)


def _several(x: Any, z: Any, arguments: EstimateArguments) -> tuple[Estimate, ...]:
    """One estimate per name of ``bound``, all with one seed: the same split, each its own critic;
    a lower bound above an upper bound is noted on both."""
    names = arguments.bound
    if not names or not all(isinstance(name, str) for name in names):
        raise invalid("bound", "a name, or a non-empty list of names of mivb.estimators()", names)
    catalogue = estimators()
    for name in names:
        if name not in catalogue:
            raise unknown_name("bound", name, catalogue)
    # What one estimate of the list would refuse after the others trained, refused before any trains.
    classifiers = [name for name in names if name in BOUNDS and BOUNDS[name].critic == "classifier"]
    if classifiers and len(classifiers) < len(names):
        raise invalid("bound", f"names that all take the same z: {', '.join(classifiers)} takes class labels, the "
                      f"others real-valued samples", names)
    if arguments.folds is not None and any(name in CLASSICAL for name in names):
        raise invalid("folds", f"None for a list with the classical estimators "
                      f"{', '.join(name for name in names if name in CLASSICAL)}, which run once on all pairs",
                      arguments.folds)
    params = arguments.bound_params
    for key in params:
        if not any(key in catalogue[name].params for name in names):
            taken = ", ".join(sorted({repr(p) for name in names for p in catalogue[name].params})) or "none"
            raise UnknownNameError(f"{key}: the estimators {', '.join(names)} take the parameters {taken}, "
                                   f"received {key}={params[key]!r}")
    options = arguments.options()
    seed = seed_or_drawn(arguments.seed)
    results = [estimate(x, z, bound=name, seed=seed, **options,
                        **{key: value for key, value in params.items() if key in catalogue[name].params})
               for name in names]
    notes: list[list[str]] = [[] for _ in results]
    for i, low in enumerate(results):
        for j, high in enumerate(results):
            gap = low.mi - high.mi
            if low.kind == "lower" and high.kind == "upper" and gap > 2 * math.hypot(low.stderr, high.stderr):
                crossed = note("crossed", low=low.bound, low_mi=low.mi, high=high.bound, high_mi=high.mi)
                warn([crossed], stacklevel=3)
                notes[i].append(crossed)
                notes[j].append(crossed)
    return tuple(replace(result, notes=(*result.notes, *extra), unreliable=True) if extra else result
                 for result, extra in zip(results, notes))
