from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from mivb.bounds import check_bound_params, training_objective
from mivb.clipping import clip_scale, global_norm
from mivb.critics import CriticConfig, check_negative_samples, critic_config
from mivb.ema import EmaState, check_decay, ema_init
from mivb.errors import invalid
from mivb.schedule import batch_schedule, check_positive_int, feature_shape
from mivb.scores import split_full_matrix

from ._critics import build_critic
from ._ops import ops


class MIOutput(NamedTuple):
    mi: jax.Array
    mi_for_grads: jax.Array


class MIState(NamedTuple):
    """Everything training changes, as a pytree of arrays: jit it, checkpoint it, shard it."""

    params: eqx.Module  # the critic's arrays, ``eqx.filter(critic, eqx.is_array)``
    opt_state: optax.OptState
    log_ema: jax.Array  # MINE's moving average in log space; NaN until the first update
    key: jax.Array  # draws the derangements when negative_samples is set and no shifts are given


class MIEstimator:
    """A trainable MI estimator for JAX training code, as pure functions over an :class:`MIState`.

    The object holds only what never changes (bound, critic structure, optimiser); every method
    is a pure function of an explicit state, so it runs under ``jax.jit``, ``jax.vmap`` and
    ``jax.grad``. :meth:`apply` returns ``MIOutput(mi, mi_for_grads)``: the bound's value (no
    gradient) and the differentiable term to add to a loss, whose gradient is the one BOUNDS.md
    prescribes (for ``mine``, the surrogate with the EMA as this batch would update it; the state
    keeps the EMA as it was). :meth:`update` takes one Adam step on the critic, maximising the
    bound, and returns the new state, MINE's EMA included. :meth:`apply` and :meth:`update` on the
    same state draw the same sampled negatives.

    Args:
        dim_x, dim_z: feature sizes of x and z, or their shapes per sample ((H, W, C) for images).
        bound: ``dv``, ``mine``, ``nwj``, ``infonce``, ``js`` or ``smile``.
        critic: ``"joint"``, ``"separable"``, ``"bilinear"``, a mapping or a ``mivb.CriticConfig``.
        lr: the critic's Adam learning rate.
        ema_decay: MINE's moving-average decay, in (0, 1).
        **bound_params: ``clip`` for ``smile``.

    Example::

        estimator = MIEstimator(dim_x=2, dim_z=8, bound="mine")
        state = estimator.init(jax.random.key(0))
        update = jax.jit(estimator.update)
        for x, z in loader:
            grads_loss = jax.grad(loss_fn)(params, x)
            grads_mi = jax.grad(lambda p: estimator.apply(state, x, encoder(p, x)).mi_for_grads)(params)
            scale = adaptive_clip_scale(grads_loss, grads_mi)
            grads = jax.tree.map(lambda g, m: g - beta * scale * m, grads_loss, grads_mi)  # maximise MI
            ...
            state, mi = update(state, x, encoder(params, x))
    """

    def __init__(
        self,
        dim_x: int | tuple[int, ...],
        dim_z: int | tuple[int, ...],
        *,
        bound: str = "mine",
        critic: str | CriticConfig | dict[str, Any] = "separable",
        lr: float = 1e-4,
        ema_decay: float = 0.99,
        **bound_params: Any,
    ):
        self.bound = bound
        self.bound_params = check_bound_params(bound, bound_params)
        self.bound_params.pop("log_ema", None)
        self.config = critic_config(critic)
        self.ema_decay = check_decay(ema_decay)
        if not isinstance(lr, (int, float)) or not lr > 0:
            raise invalid("lr", "a positive learning rate", lr)
        self.lr, self.optimizer = lr, optax.adam(lr)
        self.shapes = (feature_shape("dim_x", dim_x), feature_shape("dim_z", dim_z))
        # The critic's non-array part (activations, layer structure), traced once without computing
        # anything; eqx.combine joins it with a state's params.
        skeleton = eqx.filter_eval_shape(build_critic, *self.shapes, self.config, jax.random.key(0))
        _, self.static = eqx.partition(skeleton, lambda leaf: isinstance(leaf, jax.ShapeDtypeStruct))

    def _identity(self) -> tuple:
        return (type(self), self.shapes, self.bound, tuple(sorted(self.bound_params.items())), self.config,
                self.lr, self.ema_decay)

    # Equal configurations share compiled code: train_steps and evaluate_batches take the estimator
    # as a static argument, so a second estimate with the same settings does not compile again.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, MIEstimator) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def init(self, key: jax.Array) -> MIState:
        """A fresh critic (initialised as torch initialises ``nn.Linear``), Adam state and unset EMA."""
        init_key, key = jax.random.split(key)
        params = eqx.filter(build_critic(*self.shapes, self.config, init_key), eqx.is_array)
        log_ema = ema_init(ops, jax.tree_util.tree_leaves(params)[0]).log_ema
        return MIState(params, self.optimizer.init(params), log_ema, key)

    def scores(self, state: MIState, x: jax.Array, z: jax.Array, shifts: jax.Array | None = None):
        """Positive (N,) and negative (N, K) scores of a batch."""
        critic = eqx.combine(state.params, self.static)
        k = self.config.negative_samples
        if k is None:
            return split_full_matrix(ops, critic(x, z))
        if shifts is None:
            check_negative_samples(self.config, x.shape[0])
            shifts = jax.random.permutation(jax.random.split(state.key)[1], x.shape[0] - 1)[:k] + 1
        return critic.sampled(x, z, shifts)

    def objective(self, state: MIState, x: jax.Array, z: jax.Array, shifts: jax.Array | None = None):
        """The batch's ``(value, mi_for_grads, ema)``, ``ema`` being what :meth:`update` would store."""
        _check_batch(x, z)
        pos, neg = self.scores(state, x, z, shifts)
        ema = EmaState(state.log_ema)
        return training_objective(ops, self.bound, pos, neg, self.bound_params, ema, self.ema_decay)

    def apply(self, state: MIState, x: jax.Array, z: jax.Array, shifts: jax.Array | None = None) -> MIOutput:
        value, mi_for_grads, _ = self.objective(state, x, z, shifts)
        return MIOutput(jax.lax.stop_gradient(value), mi_for_grads)

    def update(self, state: MIState, x: jax.Array, z: jax.Array,
               shifts: jax.Array | None = None) -> tuple[MIState, jax.Array]:
        """One critic step on the batch (maximising the bound); the new state and the value before it."""
        x, z = jax.lax.stop_gradient(x), jax.lax.stop_gradient(z)

        def negative_bound(params):
            value, mi_for_grads, ema = self.objective(state._replace(params=params), x, z, shifts)
            return -mi_for_grads, (value, ema)

        grads, (value, ema) = jax.grad(negative_bound, has_aux=True)(state.params)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        log_ema = ema.log_ema.astype(state.log_ema.dtype)
        return MIState(params, opt_state, log_ema, jax.random.split(state.key)[0]), value

    def fit(self, state: MIState, x: Any, z: Any, *, steps: int = 1000, batch_size: int = 128,
            seed: int | None = None) -> tuple[MIState, jax.Array]:
        """Train the critic on static data (NumPy or JAX arrays), compiled as one scan over the steps.

        Returns the new state and the bound's value at each step.
        """
        x, z = _as_array(x), _as_array(z)
        batches = batch_schedule(np.random.default_rng(seed), x.shape[0], batch_size, steps)
        return train_steps(self, state, x, z, jnp.asarray(batches), None)

    def evaluate(self, state: MIState, x: Any, z: Any, *, batch_size: int = 128) -> float:
        """The bound on new data, averaged over consecutive batches; the state is left untouched."""
        x, z = _as_array(x), _as_array(z)
        batch_size = min(check_positive_int("batch_size", batch_size), x.shape[0])
        batches = jnp.arange(x.shape[0] // batch_size * batch_size).reshape(-1, batch_size)
        return float(jnp.mean(evaluate_batches(self, state, x, z, batches, None)))


@partial(jax.jit, static_argnums=0)
def train_steps(estimator: MIEstimator, state: MIState, x: jax.Array, z: jax.Array, batches: jax.Array,
                shifts: jax.Array | None) -> tuple[MIState, jax.Array]:
    """:meth:`MIEstimator.update` on each row of sample indices in turn, compiled as one scan."""

    def step(state, schedule):
        index, step_shifts = schedule
        return estimator.update(state, x[index], z[index], step_shifts)

    return jax.lax.scan(step, state, (batches, shifts))


@partial(jax.jit, static_argnums=0)
def evaluate_batches(estimator: MIEstimator, state: MIState, x: jax.Array, z: jax.Array, batches: jax.Array,
                     shifts: jax.Array | None) -> jax.Array:
    """The bound's value on each row of sample indices; sampled negatives differ from batch to batch."""

    def value(schedule):
        number, index, batch_shifts = schedule
        batch_state = state._replace(key=jax.random.fold_in(state.key, number))
        return estimator.objective(batch_state, x[index], z[index], batch_shifts)[0]

    return jax.lax.map(value, (jnp.arange(batches.shape[0]), batches, shifts))


def _as_array(a: Any) -> jax.Array:
    array = jnp.asarray(a, dtype=jnp.float32)  # the critic's dtype
    return array[:, None] if array.ndim == 1 else array


def _check_batch(x: jax.Array, z: jax.Array) -> None:
    if x.ndim < 2 or z.ndim < 2 or x.shape[0] != z.shape[0]:
        raise invalid("x, z", "batches of shape (N, ...) with the same N", (tuple(x.shape), tuple(z.shape)))
    if x.shape[0] < 2:
        raise invalid("x", "a batch of N >= 2 samples", x)


def adaptive_clip_scale(grads_loss: Any, grads_mi: Any) -> jax.Array:
    """The factor of ``loss + beta * scale * mi`` (MINE's adaptive gradient clipping, BOUNDS.md).

    ``grads_loss`` and ``grads_mi`` are the gradient pytrees of the loss and of the MI term with
    respect to the same parameters (as ``jax.grad`` returns them); the factor carries no gradient.
    """
    structures = [jax.tree_util.tree_structure(grads) for grads in (grads_loss, grads_mi)]
    if structures[0] != structures[1]:
        raise invalid("grads_mi", "gradients over the same parameters as grads_loss (the same pytree structure)",
                      structures[1])
    return clip_scale(ops, *(global_norm(ops, jax.tree_util.tree_leaves(grads)) for grads in (grads_loss, grads_mi)))


def save_state(path: str, state: MIState) -> None:
    """Write a state's arrays to an ``.npz`` file (no pickle; the PRNG key as its raw key data)."""
    leaves = jax.tree_util.tree_leaves(state._replace(key=jax.random.key_data(state.key)))
    np.savez(path, *[np.asarray(leaf) for leaf in leaves])


def load_state(path: str, like: MIState) -> MIState:
    """Read a state written by :func:`save_state`; ``like`` (e.g. ``estimator.init(key)``) gives its structure."""
    template = like._replace(key=jax.random.key_data(like.key))
    treedef = jax.tree_util.tree_structure(template)
    with np.load(path, allow_pickle=False) as stored:
        leaves = [jnp.asarray(stored[f"arr_{i}"]) for i in range(len(stored.files))]
    if len(leaves) != treedef.num_leaves:
        raise invalid("path", f"a state of {treedef.num_leaves} arrays for this estimator", f"{len(leaves)} arrays")
    state = jax.tree_util.tree_unflatten(treedef, leaves)
    return state._replace(key=jax.random.wrap_key_data(state.key))
