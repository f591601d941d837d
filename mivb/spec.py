"""One estimator specification, validated once, shared by ``estimate`` and every ``MIEstimator``.

Everything an estimator needs that is not a framework's: which bound with which parameters, which
critic, the optimiser's step size, MINE's decay, the seed; plus the framework-neutral steps of
each batch (which layout the critic's scores take, the objective, the schedules of ``fit`` and
``evaluate``). An adapter's estimator holds a [`EstimatorSpec`][] and adds only the network,
the optimiser and the state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bounds import BOUNDS, Bound, Gather, LogRatio, get_bound, objective
from .critics import CriticConfig, check_negative_samples, critic_config
from .ema import check_decay
from .errors import InvalidArgumentError, invalid
from .ops import Array, ArrayOps
from .pointwise import in_chunks
from .schedule import batch_schedule, check_positive_int
from .scores import MatrixScores, PairedScores, Scores


def check_learning_rate(argument: str, value: Any) -> float:
    """A finite positive number (a bool or a string is not one: ``True`` would train at lr 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or not value > 0:
        raise invalid(argument, "a finite number > 0", value)
    return float(value)


PRECISIONS = ("float32", "bfloat16", "float16")


def check_precision(precision: Any) -> str:
    """The dtype a critic computes in: float32, or a half precision with float32 parameters."""
    if precision not in PRECISIONS:
        raise invalid("precision", f"one of {', '.join(map(repr, PRECISIONS))}", precision)
    return str(precision)


def check_seed(seed: Any) -> int | None:
    """None or an integer every backend's generator takes."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or not 0 <= seed < 2**63):
        raise invalid("seed", "None or an integer in [0, 2**63)", seed)
    return None if seed is None else int(seed)


@dataclass(frozen=True)
class EstimatorSpec:
    """What defines an estimator, independent of its framework. Build it with [`create`][]."""

    bound: str = "mine"
    bound_params: Mapping[str, Any] = field(default_factory=dict)
    critic: CriticConfig = field(default_factory=CriticConfig)
    learning_rate: float = 1e-4
    ema_decay: float = 0.99
    seed: int | None = None
    precision: str = "float32"

    @classmethod
    def create(cls, bound: str, critic: str | CriticConfig | Mapping[str, Any] | None, learning_rate: Any,
               ema_decay: Any, seed: Any, bound_params: Mapping[str, Any], *,
               learning_rate_argument: str = "lr", precision: Any = "float32") -> EstimatorSpec:
        """Validate every argument; each mistake is a [`mivb.MivbError`][] naming it. ``critic``
        None: the critic the bound needs, else a separable one."""
        definition = get_bound(bound)
        config = critic_config(critic if critic is not None else definition.critic or "separable")
        if definition.critic is not None and config.kind != definition.critic:
            raise invalid("critic", f"{definition.critic!r} (or None) for bound {bound!r}, which reads the log-densities "
                          f"of a variational q(z | x)", config.kind)
        return cls(bound=definition.name, bound_params=definition.resolve_params(bound_params), critic=config,
                   learning_rate=check_learning_rate(learning_rate_argument, learning_rate),
                   ema_decay=check_decay(ema_decay), seed=check_seed(seed), precision=check_precision(precision))

    @property
    def definition(self) -> Bound:
        return get_bound(self.bound)

    def initial_state(self, ops: ArrayOps, like: Array) -> dict[str, Array]:
        """The bound's state before any step (for ``mine``, the unset moving average)."""
        return self.definition.initial_state(ops, like)

    @property
    def baseline(self) -> bool:
        """Whether the critic carries a baseline network (for ``tuba`` and ``alpha``)."""
        return self.definition.baseline

    def layout(self, ops: ArrayOps, critic: Any, x: Array, z: Array, shifts: Array | None) -> Scores:
        """The critic's scores of a batch: the full matrix, or K derangements (``shifts``, (K,)),
        with the critic's log-baseline of each row when it has one. Scores a half-precision critic
        computed are widened to float32 here, so that every bound reduces them in float32."""
        baseline = critic.row_baseline(x, z)
        baseline = None if baseline is None else ops.upcast(baseline)
        if self.critic.negative_samples is None:
            return MatrixScores(ops, ops.upcast(critic(x, z)), baseline=baseline)
        pos, neg = critic.sampled(x, z, shifts)
        return PairedScores(ops, ops.upcast(pos), ops.upcast(neg), baseline=baseline)

    def objective(self, scores: Scores, state: Mapping[str, Array], *, train: bool, critic_step: bool = False,
                  selection: bool = False, gather: Gather | None = None,
                  world_size: int = 1) -> tuple[Array, Array, dict[str, Array]]:
        """The batch's ``(value, mi_for_grads, state)``; ``train`` folds the batch into the bound's state;
        ``critic_step``: the gradient is the one the critic's own step follows; ``selection``: the
        value is the one that ranks critics on held-out data (``mivb.bounds.objective``)."""
        return objective(self.definition, scores, self.bound_params, state,
                         decay=self.ema_decay if train else None, gather=gather, world_size=world_size,
                         critic_step=critic_step, selection=selection)

    def pointwise(self, scores_of: Callable[[np.ndarray], tuple[Any, Any]], n: int) -> np.ndarray:
        """Each of ``n`` pairs' log density ratio (``mivb.pointwise``), from ``scores_of(indices)``:
        a chunk's full score matrix and log-baselines (None without), as NumPy arrays."""
        return in_chunks(log_ratio_rule(self.bound), scores_of, n, self.bound_params)

    def check_batch_size(self, n: int) -> None:
        check_negative_samples(self.critic, n)

    def identity(self, shapes: Sequence[Sequence[int]]) -> dict[str, Any]:
        """What a saved state must match to be loaded: the feature shapes and everything but the seed."""
        return {"shapes": [list(shape) for shape in shapes], "bound": self.bound,
                "bound_params": dict(self.bound_params), "critic": self.critic.to_dict(),
                "learning_rate": self.learning_rate, "ema_decay": self.ema_decay}

    def to_kwargs(self) -> dict[str, Any]:
        """Arguments that rebuild this specification in any backend's ``MIEstimator``."""
        return {"bound": self.bound, "critic": self.critic, "lr": self.learning_rate, "ema_decay": self.ema_decay,
                "seed": self.seed, "precision": self.precision, **self.bound_params}


def log_ratio_rule(bound: str) -> LogRatio:
    """How ``bound``'s critic gives each pair's log density ratio; an error for a bound whose does not."""
    rule = get_bound(bound).log_ratio
    if rule is None:
        with_ratio = ", ".join(repr(b.name) for b in BOUNDS.values() if b.log_ratio is not None)
        raise invalid("bound", f"a bound whose critic gives each pair's density ratio for pointwise MI "
                      f"({with_ratio}); {bound!r} does not", bound)
    return rule


def check_saved_identity(argument: str, saved: Any, expected: Mapping[str, Any]) -> None:
    """A saved state fits this estimator only if it was saved by one like it: say the first difference."""
    if not isinstance(saved, Mapping):
        raise invalid(argument, "a state saved by a mivb estimator", saved)
    for key, value in expected.items():
        if _plain(saved.get(key)) != _plain(value):
            raise InvalidArgumentError(f"{argument}: expected a state saved by an estimator with {key}={value!r}, "
                                       f"received {key}={saved.get(key)!r}")


def _plain(value: Any) -> Any:
    """Tuples and lists compare alike (a state read back from JSON or a checkpoint has lists)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def check_batch_shapes(x_shape: Sequence[int | None], z_shape: Sequence[int | None]) -> None:
    """Two batches of N >= 2 samples each (any feature shape)."""
    if len(x_shape) < 2 or len(z_shape) < 2 or x_shape[0] != z_shape[0]:
        raise invalid("x, z", "batches of shape (N, ...) with the same N", (tuple(x_shape), tuple(z_shape)))
    if x_shape[0] is None:
        raise invalid("x", "a batch of static size N (a traced function with no batch size cannot form the "
                      "N x N scores)", tuple(x_shape))
    if x_shape[0] < 2:
        raise invalid("x", "a batch of N >= 2 samples", tuple(x_shape))


def fit_schedule(n: int, steps: Any, batch_size: Any, seed: Any) -> np.ndarray:
    """(steps, batch_size) indices for ``MIEstimator.fit``: epochs of shuffled data."""
    steps, batch_size = check_positive_int("steps", steps), check_positive_int("batch_size", batch_size)
    if batch_size < 2:
        raise invalid("batch_size", "at least 2 pairs per batch", batch_size)
    return batch_schedule(np.random.default_rng(check_seed(seed)), n, batch_size, steps)


def evaluation_batches(n: int, batch_size: Any) -> np.ndarray:
    """Consecutive batches of ``batch_size`` (at most ``n``) indices for ``MIEstimator.evaluate``."""
    size = min(check_positive_int("batch_size", batch_size), n)
    if size < 2:
        raise invalid("x", "at least 2 samples to evaluate on", n)
    return np.arange(n // size * size).reshape(-1, size)
