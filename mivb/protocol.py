"""The held-out protocol behind ``mivb.estimate``: split the pairs, train a critic on one part,
stop on another, score the third.

``fit`` is everything up to the trained critic (``Fitted``); ``estimate`` scores its test
split once, ``independence_test`` also scores it with z shuffled, and cross-fitting calls it once
per fold.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ._progress import Monitor, TrainingProgress
from .backends import Trainer, get_backend
from .bounds import get_bound
from .crosscheck import (
    GaussianCritic,
    clearly_above,
    fit_linear_critic,
    linear_batch_size,
    linear_values,
)
from .diagnosis import TrainingRun, sane
from .errors import InvalidArgumentError, invalid
from .notes import note
from .samples import PairTransform, prepare
from .schedule import Batches, shift_schedule

if TYPE_CHECKING:
    from .result import EstimateConfig

DEVICE_VARIABLE = "MIVB_DEVICE"  # the default device, "cuda" for example
CHUNK_STEPS = 100  # the most steps per call into the backend: one host transfer each
VALIDATION_LIMIT = 4096  # validation pairs scored per check: enough to rank critics, cheap every chunk
# The most pairs per held-out batch a network's bound is read on with more negatives (reads_wider):
# InfoNCE's ceiling log(4096) = 8.3 nats, for one 4096 x 4096 float32 score matrix (64 MiB) at a time.
WIDE_BATCH = 4096


class BatchSource(Protocol):
    """Where training batches come from (``mivb.schedule.Batches``, a stream's next pairs)."""

    def take(self, steps: int) -> np.ndarray:
        """The next ``steps`` batches, each a row of indices into the trainer's "train" split (fewer
        rows when the source runs dry)."""
        ...


@dataclass(frozen=True, kw_only=True)
class Fitted:
    """A critic trained by ``fit``, and what scoring it needs.

    ``config`` is the configuration as run (a batch lowered to small data; a fold's own seed);
    ``test_seed`` seeds the test batches, so that a statistic and its permutations share them
    (``test_pairs``: the test split as the critic sees it);
    ``prepare_new`` maps new raw pairs as the training pairs were mapped (for pointwise MI);
    ``linear_critic`` is the Gaussian critic of the training pairs (``mivb.crosscheck``), scored
    against the network on ``validation_pairs`` with batches from ``comparison_seed``; ``train_pairs``
    (transformed, as the critic saw them) fit the copula's critics (``mivb.copula``).
    """

    trainer: Trainer
    config: EstimateConfig
    run: TrainingRun
    stop_reason: str
    notes: list[str]
    test_size: int
    test_seed: int
    test_pairs: tuple[np.ndarray, np.ndarray]
    n_pairs: int
    x_is_z: bool
    prepare_new: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    linear_critic: GaussianCritic | None = None
    train_pairs: tuple[np.ndarray, np.ndarray] | None = None
    validation_pairs: tuple[np.ndarray, np.ndarray] | None = None
    comparison_seed: int = 0


def fit(x: np.ndarray, z: np.ndarray, config: EstimateConfig, labels: bool, progress: bool | None,
        callback: Callable[[TrainingProgress], Any] | None, fold: int | None = None) -> Fitted:
    """Split (``fold``: test on that fold of ``config.folds``), transform, train with early stopping.

    Independent streams: the split, the training batches, and each held-out scoring never draw
    from one another, so raising ``steps`` cannot change the first steps or the split. Every fold
    shares the split's stream (one partition into folds) and has its own streams and critic seed.
    """
    split_rng, train_rng, validation_rng, test_rng, critic_seed = random_streams(config.seed, fold)
    if critic_seed is not None:
        config = replace(config, seed=critic_seed)
    indices, config, notes = split_pairs(split_rng, x, z, config, fold)
    parts = [(x[part], z[part]) for part in indices]
    z_transform = None if labels else config.transform
    xs = prepare(config.transform, *(x for x, _ in parts), argument="x")
    zs = prepare(z_transform, *(z for _, z in parts), argument="z")
    splits = dict(zip(("train", "validation", "test"), zip(xs, zs)))
    trainer = new_trainer(config, (xs[0].shape[1:], zs[0].shape[1:]), splits)
    run, reason = train(trainer, train_rng, validation_rng, len(xs[0]), len(xs[1]), config, progress, callback)
    prepare_new = PairTransform(config.transform, z_transform, x, z, indices[0])

    x_is_z = x.shape == z.shape and np.array_equal(x, z)
    linear_critic = fit_linear_critic(config.bound, config.critic.negative_samples, xs[0], zs[0])
    return Fitted(trainer=trainer, config=config, run=run, stop_reason=reason, notes=notes, test_size=len(xs[2]),
                  test_seed=int(test_rng.integers(2**63)), test_pairs=(xs[2], zs[2]), n_pairs=len(x), x_is_z=x_is_z,
                  prepare_new=prepare_new, linear_critic=linear_critic, train_pairs=(xs[0], zs[0]),
                  validation_pairs=(xs[1], zs[1]),
                  comparison_seed=int(validation_rng.integers(2**63)))


def new_trainer(config: EstimateConfig, shapes: tuple[tuple[int, ...], tuple[int, ...]], splits: Any) -> Any:
    """The backend's Trainer; a bad device taken from ``MIVB_DEVICE`` is an error naming the variable."""
    try:
        return get_backend(config.backend).Trainer(config, shapes, splits)
    except InvalidArgumentError as error:
        variable = os.environ.get(DEVICE_VARIABLE)
        if not str(error).startswith("device:") or variable is None or config.device != variable:
            raise
        message = str(error).replace("device:", f"{DEVICE_VARIABLE}:", 1).replace("received device=",
                                                                                  f"received {DEVICE_VARIABLE}=", 1)
        raise InvalidArgumentError(message) from None


def split_sizes(n: int, test_fraction: float, validation_fraction: float) -> tuple[int, int, int]:
    """How many of ``n`` pairs go to training, validation and test."""
    n_test = round(n * test_fraction)
    n_validation = round(n * validation_fraction)
    return n - n_test - n_validation, n_validation, n_test


def random_streams(seed: int, fold: int | None = None) -> tuple[np.random.Generator, np.random.Generator,
                                                              np.random.Generator, np.random.Generator, int | None]:
    """The split's generator, then the training, validation and test ones, from ``seed``; a fold has
    its own three (the split's is shared) and its own critic seed, None without a fold."""
    split_stream, *streams = np.random.SeedSequence(seed).spawn(4)
    critic_seed = None
    if fold is not None:
        *streams, critic_stream = np.random.SeedSequence(seed, spawn_key=(4 + fold,)).spawn(4)
        critic_seed = int(critic_stream.generate_state(1, np.uint64)[0] >> np.uint64(1))
    training, validation, test = (np.random.default_rng(s) for s in streams)
    return np.random.default_rng(split_stream), training, validation, test, critic_seed


def split_pairs(rng: np.random.Generator, x: np.ndarray, z: np.ndarray, config: EstimateConfig,
                fold: int | None = None) -> tuple[list[np.ndarray], EstimateConfig, list[str]]:
    """The indices of the train, validation and test parts; the configuration as run (a batch no larger than the
    training part); notes on the data. Copies of one pair always fall in one part, so a repeated
    pair can never be scored on the held-out parts after training on it. With ``fold``, the test
    part is that fold of ``config.folds`` (every fold from one shuffle); validation is taken from
    the rest."""
    validation_fraction = config.validation_fraction if config.early_stopping else 0.0
    test_fraction = config.test_fraction if fold is None or config.folds is None else 1 / config.folds
    n_train, n_validation, n_test = split_sizes(len(x), test_fraction, validation_fraction)
    if n_test < 2 or n_train < 2 or (config.early_stopping and n_validation < 2):
        held = test_fraction + validation_fraction
        need = 2 / min(test_fraction, validation_fraction or 1, 1 - held)
        test = f"test_fraction={config.test_fraction}" if fold is None else f"folds={config.folds}"
        raise invalid("x", f"at least {math.ceil(need)} samples for {test}"
                      + (f" and validation_fraction={config.validation_fraction}" if config.early_stopping else ""),
                      x)
    notes = []
    groups = pair_groups(x, z)
    if len(groups) < len(x):
        notes.append(note("repeats", repeats=len(x) - len(groups), pairs=len(x), distinct=len(groups)))
    shuffled = [groups[g] for g in rng.permutation(len(groups))]
    order = np.concatenate(shuffled)
    if fold is None:
        indices = np.split(order, np.cumsum([n_train, n_validation]))
    else:  # whole groups to each fold, by where each group starts in the shuffled order
        sizes = np.array([len(group) for group in shuffled])
        in_fold = np.repeat((np.cumsum(sizes) - sizes) * config.folds // len(x), sizes) == fold
        rest = order[~in_fold]
        n_train = len(rest) - n_validation
        indices = [rest[:n_train], rest[n_train:], order[in_fold]]
    if n_train < config.batch_size:
        notes.append(note("small-batch", requested=config.batch_size, used=n_train, limit=math.log(n_train)))
        config = replace(config, batch_size=n_train)
    return indices, config, notes


def pair_groups(x: np.ndarray, z: np.ndarray) -> list[np.ndarray]:
    """The indices of each distinct (x, z) pair, in order of first appearance."""
    rows = np.ascontiguousarray(np.concatenate([x.reshape(len(x), -1), z.reshape(len(z), -1)], axis=1))
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, group_of = np.unique(keys, return_index=True, return_inverse=True)
    if len(first) == len(x):
        return list(np.arange(len(x))[:, None])
    order = np.argsort(first)  # groups numbered by first appearance: the split does not depend on values
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    group_of = renumber[group_of.ravel()]
    members = np.argsort(group_of, kind="stable")
    return np.split(members, np.cumsum(np.bincount(group_of))[:-1])


def score(trainer: Trainer, rng: np.random.Generator, split: str, n: int, config: EstimateConfig,
           limit: int | None = None, selection: bool = False) -> tuple[np.ndarray, int]:
    """The bound on batches of a held-out split (never one n x n matrix), and their size;
    ``selection``: the value that ranks critics instead."""
    batches = held_out_batches(rng, n, config, limit)
    size = batches.shape[1]
    count = len(batches)
    k = config.critic.negative_samples
    shifts = None if k is None else shift_schedule(rng, size, min(k, size - 1), count)
    return np.asarray(trainer.values(split, batches, shifts, selection) if selection else
                      trainer.values(split, batches, shifts), np.float64), size


def wide_batch_size(n: int, batch_size: int) -> int:
    """Pairs per batch for reading a bound with more negatives from ``n`` held-out pairs: at most
    WIDE_BATCH, at least two batches, never fewer than ``batch_size``."""
    return max(min(batch_size, n), min(WIDE_BATCH, n // 2))


def reads_wider(fitted: Fitted) -> bool:
    """Whether the network's bound reads clearly more on wide validation batches (``wide_batch_size``)
    than on batches of the training size: InfoNCE of a fixed critic is at most log(batch size), so a
    critic that learned more than that shows it only with more negatives. InfoNCE and NWJ, whose
    value of a fixed critic is a lower bound at any batch size, with the default critic and all the
    batch's negatives (``linear_fallback`` also decides this: a critic you chose is read as trained)."""
    config = fitted.config
    if (not get_bound(config.bound).linear_fallback or config.critic.negative_samples is not None
            or not config.linear_fallback or fitted.validation_pairs is None):
        return False
    n = len(fitted.validation_pairs[0])
    wide = wide_batch_size(min(n, VALIDATION_LIMIT), config.batch_size)
    if wide <= config.batch_size:
        return False
    narrow, wider = (score(fitted.trainer, np.random.default_rng(fitted.comparison_seed), "validation", n,
                           replace(config, batch_size=size), VALIDATION_LIMIT)[0] for size in (config.batch_size, wide))
    return len(narrow) >= 2 and len(wider) >= 2 and clearly_above(narrow, wider)


def linear_reads_more(fitted: Fitted, wide: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """The network's bound on validation batches (``wide`` ones where it is read so: ``reads_wider``)
    and the linear critic's on larger ones (``mivb.crosscheck.linear_batch_size``, or the network's
    when wider), when the linear
    critic reads clearly more, on either batch size, and may be reported instead
    (``linear_fallback``); else None."""
    config = fitted.config
    if (fitted.linear_critic is None or fitted.validation_pairs is None or not config.linear_fallback
            or not get_bound(config.bound).linear_fallback):
        return None
    n = len(fitted.validation_pairs[0])
    if n < 4:  # no validation split (early_stopping=False), or too few pairs for two batches
        return None
    network_size = wide_batch_size(min(n, VALIDATION_LIMIT), config.batch_size) if wide else config.batch_size
    larger = max(network_size, linear_batch_size(n, config.batch_size))  # the linear critic's, as wide as the network's
    network, _ = score(fitted.trainer, np.random.default_rng(fitted.comparison_seed), "validation", n,
                       replace(config, batch_size=network_size), VALIDATION_LIMIT)
    if len(network) < 2:
        return None
    # Paired on the network's own batches (the sharper test where the gap is the critic's), or on
    # larger batches (where the gap is also the negatives'): either way the linear critic reads more.
    linear = {size: linear_values(fitted.linear_critic, *fitted.validation_pairs,
                                  held_out_batches(np.random.default_rng(fitted.comparison_seed), n,
                                                   replace(config, batch_size=size), VALIDATION_LIMIT),
                                  config.bound, config.bound_params)
              for size in dict.fromkeys((config.batch_size, larger))}
    reported = linear[larger]
    return (network, reported) if any(clearly_above(network, values) for values in linear.values()) else None


def held_out_batches(rng: np.random.Generator, n: int, config: EstimateConfig, limit: int | None = None) -> np.ndarray:
    """The (count, size) indices ``score`` draws first from ``rng``: disjoint batches of a held-out split."""
    size = min(config.batch_size, n)
    count = min(n, limit or n) // size
    return rng.permutation(n)[: count * size].reshape(count, size)


def train(trainer: Trainer, rng: np.random.Generator, validation_rng: np.random.Generator, n_train: int,
           n_validation: int, config: EstimateConfig, progress: bool | None,
           callback: Callable[[TrainingProgress], Any] | None = None,
           source: BatchSource | None = None) -> tuple[TrainingRun, str]:
    """Train (``train_chunks``) under a ``Monitor``: the run, and why it stopped. ``source``
    gives the training batches (``take(steps)``: their indices into the trainer's training split);
    None: epochs of the ``n_train`` training pairs (``mivb.schedule.Batches``)."""
    monitor = Monitor(config, progress, callback)
    source = Batches(rng, n_train, config.batch_size) if source is None else source
    try:
        run = train_chunks(trainer, source, rng, validation_rng, n_train, n_validation, config, monitor)
    except BaseException:  # an interrupt, or the callback's own error: end the bar's line first
        monitor.close()
        raise
    return run, monitor.finish(run)


def train_chunks(trainer: Trainer, source: BatchSource, rng: np.random.Generator, validation_rng: np.random.Generator,
                 n_train: int, n_validation: int, config: EstimateConfig, monitor: Monitor) -> TrainingRun:
    """Run the schedule in chunks, keep the critic that scores best on validation, stop early.

    On a training value that is not finite, or outside what a bound on this data can take
    (``sane``), training stops and goes back to a critic known sane: the best one so far with
    early stopping; else the one before the chunk (or, when the chunk opens with the bad value,
    before the previous chunk: a step's value uses the previous step's critic). After each sane
    chunk the monitor reports it; its callback may end training like early stopping does. A
    source that runs dry (a stream) ends training as early stopping does.
    """
    k = config.critic.negative_samples
    fits = get_bound(config.bound).fit is not None  # critics ranked by their fit (an upper bound's likelihood)
    kind = get_bound(config.bound).kind
    validation_seed = int(validation_rng.integers(2**63))  # the same validation batches at every check
    # A check about once an epoch on small data, every CHUNK_STEPS on large data.
    interval = min(CHUNK_STEPS, max(20, n_train // config.batch_size)) if config.early_stopping else CHUNK_STEPS
    history: list[np.ndarray] = []
    scores: list[float] = []
    recent = [(0, trainer.snapshot())]
    best_score, best_step, best_check = -math.inf, 0, 0
    for start in range(0, config.steps, interval):
        count = min(interval, config.steps - start)
        shifts = None if k is None else shift_schedule(rng, config.batch_size, k, count)
        rows = source.take(count)
        if len(rows) == 0:
            break
        values = np.asarray(trainer.train(rows, None if shifts is None else shifts[: len(rows)]), np.float64)
        bad = np.flatnonzero(~sane(values, n_train, kind))
        if bad.size:
            history.append(values[: bad[0]])
            step, snapshot = recent[0] if bad[0] == 0 and not config.early_stopping else recent[-1]
            trainer.restore(snapshot)
            return TrainingRun(np.concatenate(history), np.asarray(scores), step, False, start + int(bad[0]))
        history.append(values)
        end = start + len(values)
        if not config.early_stopping:
            recent = [recent[-1], (end, trainer.snapshot())]
            if monitor.chunk(end, values, None, end):
                return TrainingRun(np.concatenate(history), np.asarray(scores), end, True, None)
            continue
        check = float(np.mean(score(trainer, np.random.default_rng(validation_seed), "validation", n_validation,
                                    config, VALIDATION_LIMIT, selection=fits)[0]))
        scores.append(check if (math.isfinite(check) if fits else sane(np.asarray(check), n_train)) else -math.inf)
        if scores[-1] > best_score:
            best_score, best_step, best_check = scores[-1], end, len(scores)
            recent = [(end, trainer.snapshot())]
        if monitor.chunk(end, values, scores[-1], best_step) or len(scores) - best_check >= config.patience:
            trainer.restore(recent[-1][1])
            return TrainingRun(np.concatenate(history), np.asarray(scores), best_step, True, None)
    steps = np.concatenate(history)
    if config.early_stopping:
        trainer.restore(recent[-1][1])
        end = best_step
    dry = len(steps) < config.steps  # the loop ends early only when the source runs dry
    return TrainingRun(steps, np.asarray(scores), end, dry, None, ran_dry=dry)


