"""``mivb.estimate``: train a critic on part of the data, read the bound off the rest."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .backends import BackendNotAvailableError, available_backends, backend_name_of, get_backend, registered
from .bounds import check_bound_params
from .critics import CriticConfig, check_negative_samples, critic_config
from .ema import check_decay
from .errors import invalid
from .samples import as_samples, check_paired, standardize
from .schedule import batch_schedule, check_positive_int, shift_schedule
from ._progress import Progress

TRAINING_BACKENDS = ("torch", "jax", "tensorflow")
CEILING_MARGIN = 0.25  # nats: an InfoNCE value this close to log(K + 1) is saturated
CHUNK_STEPS = 100  # steps per call into the backend: one host transfer each
RISING_MARGIN = 0.05  # nats gained over the last tenth of training that count as still rising
OVERFIT_MARGIN, OVERFIT_FRACTION = 0.3, 0.15  # a held-out value this far below training is overfitting


@dataclass(frozen=True)
class EstimateConfig:
    """Everything that determined an estimate; with the same data it reproduces the result."""

    bound: str
    bound_params: dict[str, Any]
    critic: CriticConfig
    backend: str
    device: str | None
    steps: int
    batch_size: int
    learning_rate: float
    ema_decay: float
    test_fraction: float
    standardize: bool
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    """The result of :func:`mivb.estimate`. ``mi`` is in nats; ``bits`` converts it."""

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

    @property
    def bits(self) -> float:
        return self.mi / math.log(2.0)

    def __float__(self) -> float:
        return self.mi

    def plot(self, path: str | None = None, ax: Any = None) -> Any:
        """Draw the training curve, the held-out estimate and InfoNCE's ceiling on ``ax`` (a new
        figure when None), writing it to ``path`` when given; returns the Axes. Needs matplotlib:
        ``pip install "mivb[plot]"``."""
        from .plotting import plot_estimate  # imported here so that ``import mivb`` never imports matplotlib

        return plot_estimate(self, ax=ax, path=path)

    def __repr__(self) -> str:
        notes = f", notes={list(self.notes)}" if self.notes else ""
        return (f"Estimate(mi={self.mi:.4f} nats ± {self.stderr:.4f}, bound={self.bound!r}, "
                f"backend={self.backend!r}, steps={len(self.history)}{notes})")


def estimate(
    x: Any,
    z: Any,
    *,
    bound: str = "infonce",
    backend: str | None = None,
    critic: str | CriticConfig | dict[str, Any] = "separable",
    steps: int = 2000,
    batch_size: int = 128,
    learning_rate: float = 5e-4,
    negative_samples: int | None = None,
    ema_decay: float = 0.99,
    test_fraction: float = 0.2,
    standardize_inputs: bool = True,
    seed: int | None = None,
    device: str | None = None,
    progress: bool | None = None,
    **bound_params: Any,
) -> Estimate:
    """Estimate the mutual information I(X; Z) in nats from paired samples.

    A critic is trained to maximise the bound on a training split of the pairs; the reported
    ``mi`` is the bound on the held-out split, which the critic never saw, averaged over batches
    of ``batch_size`` pairs (``stderr`` is the standard error of that mean).

    Args:
        x, z: paired samples, NumPy arrays or tensors of any installed framework, shape (n, d)
            (1-D means d = 1; images as (n, C, H, W)); the same n.
        bound: ``infonce`` (default: low variance, but never above log(batch_size)), ``smile``,
            ``mine``, ``dv``, ``nwj`` or ``js``; see ``mivb.BOUNDS``.
        backend: ``torch``, ``jax`` or ``tensorflow``; by default the framework of the inputs,
            else the first installed of those.
        critic: ``separable`` (default), ``joint``, ``bilinear``, a mapping of
            :class:`mivb.CriticConfig` fields, or a ``CriticConfig``.
        steps, batch_size, learning_rate: training length, pairs per step, Adam's step size.
        negative_samples: None scores all N - 1 negatives of the batch; K uses K derangements.
        ema_decay: MINE's moving-average decay (bound ``mine`` only).
        test_fraction: share of the pairs held out for the reported value.
        standardize_inputs: rescale each variable to zero mean and unit variance (MI is invariant).
        seed: makes the split, batches, initialisation and result reproducible; drawn at random and
            recorded in ``result.config.seed`` when None.
        device: ``"cpu"`` (default) or a GPU such as ``"cuda"``.
        progress: a progress bar on stderr; by default only when stderr is a terminal.
        **bound_params: ``clip`` for ``smile``.

    Returns:
        An :class:`Estimate` with ``mi``, ``stderr``, ``history`` (training value per step),
        ``bound``, ``backend``, ``config`` and ``notes`` (for example, an InfoNCE value at its ceiling).
    """
    config = _configure(locals(), x, z)
    x_all, z_all = as_samples("x", x), as_samples("z", z)
    check_paired(x_all, z_all)
    rng = np.random.default_rng(config.seed)
    x_train, x_test, z_train, z_test = _split(rng, x_all, z_all, config)
    if config.standardize:
        x_train, x_test = standardize(x_train, x_test, argument="x")
        z_train, z_test = standardize(z_train, z_test, argument="z")
    else:
        x_train, x_test, z_train, z_test = (a.astype(np.float32) for a in (x_train, x_test, z_train, z_test))

    trainer = get_backend(config.backend).Trainer(config, x_train, z_train)
    history, diverged_at = _train(trainer, rng, len(x_train), config, progress)
    eval_size = min(config.batch_size, len(x_test))
    test_batches = rng.permutation(len(x_test))[: len(x_test) // eval_size * eval_size].reshape(-1, eval_size)
    k = config.critic.negative_samples
    test_shifts = None if k is None else shift_schedule(rng, eval_size, min(k, eval_size - 1), len(test_batches))
    values = trainer.evaluate(x_test, z_test, test_batches, test_shifts)
    return _result(config, history, values, eval_size, diverged_at)


def _configure(arguments: dict[str, Any], x: Any, z: Any) -> EstimateConfig:
    bound = arguments["bound"]
    bound_params = check_bound_params(bound, arguments["bound_params"])
    bound_params.pop("log_ema", None)
    critic = critic_config(arguments["critic"], negative_samples=arguments["negative_samples"])
    batch_size = check_positive_int("batch_size", arguments["batch_size"])
    if batch_size < 2:
        raise invalid("batch_size", "at least 2 pairs per batch", batch_size)
    check_negative_samples(critic, batch_size)
    fraction = arguments["test_fraction"]
    if not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
        raise invalid("test_fraction", "a fraction strictly between 0 and 1", fraction)
    learning_rate = arguments["learning_rate"]
    if not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise invalid("learning_rate", "a positive number", learning_rate)
    seed = arguments["seed"]
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    return EstimateConfig(
        bound=bound,
        bound_params=bound_params,
        critic=critic,
        backend=_choose_backend(arguments["backend"], x, z),
        device=arguments["device"],
        steps=check_positive_int("steps", arguments["steps"]),
        batch_size=batch_size,
        learning_rate=float(learning_rate),
        ema_decay=check_decay(arguments["ema_decay"]),
        test_fraction=float(fraction),
        standardize=bool(arguments["standardize_inputs"]),
        seed=check_positive_int("seed", seed + 1) - 1,
    )


def _choose_backend(backend: str | None, x: Any, z: Any) -> str:
    if backend is None:
        owner = backend_name_of(x) or backend_name_of(z)
        if owner in TRAINING_BACKENDS:
            return owner
        installed = [name for name in TRAINING_BACKENDS if name in available_backends()]
        if not installed:
            hints = "; ".join(registered()[name].install for name in TRAINING_BACKENDS)
            raise BackendNotAvailableError(f"backend: estimate trains a critic and needs one of torch, jax or "
                                           f"tensorflow, none of which is installed; fix with one of: {hints}")
        return installed[0]
    adapter = get_backend(backend)
    if not adapter.differentiable:
        trainable = ", ".join(repr(name) for name in TRAINING_BACKENDS)
        raise invalid("backend", f"a backend that can train a critic ({trainable}); "
                      f"{backend!r} computes bounds only", backend)
    return backend


def _split(rng: np.random.Generator, x: np.ndarray, z: np.ndarray, config: EstimateConfig):
    n = len(x)
    n_test = int(round(n * config.test_fraction))
    if n_test < 2 or n - n_test < config.batch_size:
        need = max(config.batch_size / (1 - config.test_fraction), 2 / config.test_fraction)
        raise invalid("x", f"at least {math.ceil(need)} samples for batch_size={config.batch_size} and "
                      f"test_fraction={config.test_fraction}", x)
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], z[train], z[test]


def _train(trainer: Any, rng: np.random.Generator, n_train: int, config: EstimateConfig, progress: bool | None):
    """Run the schedule; on a non-finite value, stop and go back to the last critic known finite.

    A step's value is computed with the parameters the previous step left, so when the first
    non-finite value opens a chunk, the snapshot taken before the previous chunk is the safe one.
    """
    batches = batch_schedule(rng, n_train, config.batch_size, config.steps)
    k = config.critic.negative_samples
    shifts = None if k is None else shift_schedule(rng, config.batch_size, k, config.steps)
    bar = Progress(config.steps, progress, f"mivb {config.bound}/{config.backend}")
    history: list[np.ndarray] = []
    snapshots = [(0, trainer.snapshot())]
    for start in range(0, config.steps, CHUNK_STEPS):
        chunk = slice(start, start + CHUNK_STEPS)
        values = np.asarray(trainer.train(batches[chunk], None if shifts is None else shifts[chunk]), np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            step, snapshot = snapshots[0] if bad[0] == 0 else snapshots[-1]
            trainer.restore(snapshot)
            kept = np.concatenate(history + [values[: bad[0]]])[:step]
            return kept, start + int(bad[0])
        history.append(values)
        snapshots = [snapshots[-1], (start + len(values), trainer.snapshot())]
        bar.advance(len(values), float(values[-1]))
    return np.concatenate(history), None


def _result(
    config: EstimateConfig, history: np.ndarray, values: np.ndarray, eval_size: int, diverged_at: int | None
) -> Estimate:
    values = np.asarray(values, dtype=np.float64)
    mi = float(values.mean())
    stderr = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    ceiling = None
    if config.bound == "infonce":
        k = config.critic.negative_samples
        ceiling = math.log((eval_size - 1 if k is None else min(k, eval_size - 1)) + 1)
    notes = _diagnose(config, history, mi, ceiling, diverged_at)
    for note in notes:
        warnings.warn(note, stacklevel=3)
    return Estimate(mi=mi, stderr=stderr, history=history, bound=config.bound, backend=config.backend,
                    config=config, test_values=values, ceiling=ceiling, notes=tuple(notes), diverged_at=diverged_at)


def _diagnose(config: EstimateConfig, history: np.ndarray, mi: float, ceiling: float | None,
              diverged_at: int | None) -> list[str]:
    notes = []
    if diverged_at is not None:
        notes.append(f"training diverged (a non-finite value at step {diverged_at}); the estimate uses the "
                     f"critic from step {len(history)}; lower learning_rate or use a bounded objective (smile, infonce)")
    if ceiling is not None and mi > ceiling - CEILING_MARGIN:
        notes.append(f"InfoNCE is at its ceiling log(K + 1) = {ceiling:.3f} nats: the true MI may be "
                     f"larger; use a larger batch_size or another bound (smile, mine)")
    if not math.isfinite(mi):
        notes.append(f"the held-out value is {mi}: the critic's scores overflow on new pairs; use smile or infonce")
    window = len(history) // 10
    if window >= 20:
        last, previous = history[-window:], history[-2 * window : -window]
        rise = float(last.mean() - previous.mean())
        noise = float(np.hypot(last.std(), previous.std()) / math.sqrt(window))
        if rise > max(RISING_MARGIN, 3 * noise):
            notes.append(f"the training value was still rising when training stopped (+{rise:.3f} nats over the "
                         f"last {window} steps): more steps may raise the estimate")
        gap = float(last.mean()) - mi
        if math.isfinite(mi) and gap > max(OVERFIT_MARGIN, OVERFIT_FRACTION * abs(float(last.mean()))):
            notes.append(f"the held-out value is {gap:.3f} nats below the training value: the critic overfits "
                         f"the training pairs; use more samples, fewer steps or a smaller critic")
    return notes
