from __future__ import annotations

import json
import os
import zipfile
import zlib
from functools import partial
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from mivb.clipping import clip_scale, global_norm
from mivb.compression import check_separable, embed_in_chunks
from mivb.critics import CriticConfig
from mivb.errors import InvalidArgumentError, InvalidTypeError, describe, invalid
from mivb.files import atomic_write, with_suffix
from mivb.schedule import feature_shape
from mivb.scores import Scores
from mivb.spec import EstimatorSpec, check_batch_shapes, check_saved_identity, evaluation_batches, fit_schedule

from ._critics import build_critic
from ._ops import ops


class MIOutput(NamedTuple):
    mi: jax.Array
    mi_for_grads: jax.Array


class MIState(NamedTuple):
    """Everything training changes, as a pytree of arrays: jit it, checkpoint it, shard it."""

    params: eqx.Module  # the critic's arrays, ``eqx.filter(critic, eqx.is_array)``
    opt_state: optax.OptState
    bound_state: dict[str, jax.Array]  # the bound's state: for mine, {"log_ema": ...}, NaN until the first update
    key: jax.Array  # draws the derangements when negative_samples is set and no shifts are given


# A batch's (value, mi_for_grads, bound_state): what EstimatorSpec.objective returns, here on JAX arrays.
Objective = tuple[jax.Array, jax.Array, dict[str, jax.Array]]


class MIEstimator:
    """A trainable MI estimator for JAX training code, as pure functions over an [`MIState`][].

    The object holds only what never changes (bound, critic structure, optimiser); every method
    is a pure function of an explicit state, so it runs under ``jax.jit``, ``jax.vmap`` and
    ``jax.grad``. [`apply`][] returns ``MIOutput(mi, mi_for_grads)``: the bound's value (no
    gradient) and the differentiable term to add to a loss, whose gradient is the one [the contract][the-bounds]
    prescribes (for ``mine``, the surrogate with the EMA as this batch would update it; the state
    keeps the EMA as it was). [`update`][] takes one Adam step on the critic, maximising the
    bound, and returns the new state, MINE's EMA included. [`apply`][] and [`update`][] on the
    same state draw the same sampled negatives.

    Args:
        dim_x, dim_z: feature sizes of x and z, or their shapes per sample ((H, W, C) for images).
        bound: a name of ``mivb.BOUNDS``: ``dv``, ``mine``, ``nwj``, ``infonce``, ``js``, ``smile``, ``tuba``,
            ``alpha`` (lower bounds), ``club`` (an upper bound), ``l1out`` (an estimate, no bound).
        critic: ``"joint"``, ``"separable"``, ``"bilinear"``, ``"conditional"``, a mapping, a
            ``mivb.CriticConfig``, or your own ``equinox.Module``, called as ``module(x, z)`` on the batch and
            returning the (N, N) scores or embeddings ``(f(x), g(z))``: its arrays are the initial
            parameters; None (default): ``"conditional"`` for the upper bounds, else ``"separable"``.
        lr: the critic's Adam learning rate.
        ema_decay: MINE's moving-average decay, in (0, 1).
        precision: ``"float32"``, or ``"bfloat16"`` / ``"float16"``: each step casts the float32
            parameters and the samples to that dtype for the critic's computation (no loss scaling:
            prefer bfloat16).
        **bound_params: ``clip`` for ``smile``, ``alpha`` for ``alpha``.

    Examples:
        A training loop (a fragment: the data, the model and its loss are yours):

        ```python
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
        ```
    """

    def __init__(
        self,
        dim_x: int | tuple[int, ...],
        dim_z: int | tuple[int, ...],
        *,
        bound: str = "mine",
        critic: str | CriticConfig | dict[str, Any] | None = None,
        lr: float = 1e-4,
        ema_decay: float = 0.99,
        seed: int | None = None,
        precision: str = "float32",
        **bound_params: Any,
    ):
        self.spec = EstimatorSpec.create(bound, critic, lr, ema_decay, seed, bound_params, precision=precision)
        self.bound, self.config = self.spec.bound, self.spec.critic
        self.optimizer = optax.adam(self.spec.learning_rate)
        self.shapes = (feature_shape("dim_x", dim_x), feature_shape("dim_z", dim_z))
        # The critic's non-array part (activations, layer structure), traced once without computing
        # anything; eqx.combine joins it with a state's params.
        skeleton = eqx.filter_eval_shape(build_critic, *self.shapes, self.config, jax.random.key(0),
                                         baseline=self.spec.baseline)
        _, self.static = eqx.partition(skeleton, lambda leaf: isinstance(leaf, jax.ShapeDtypeStruct))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the arguments that rebuild it (optax's optimiser holds closures, which do not pickle)."""
        return _rebuilt, (self.shapes, self.spec.to_kwargs())

    def _identity(self) -> tuple[Any, ...]:
        spec = self.spec
        return (type(self), self.shapes, spec.bound, tuple(sorted(spec.bound_params.items())), spec.critic,
                spec.learning_rate, spec.ema_decay, spec.precision)

    # Equal configurations share compiled code: train_steps and batch_values take the estimator
    # as a static argument, so a second estimate with the same settings does not compile again.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, MIEstimator) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def init(self, key: jax.Array | None = None) -> MIState:
        """A fresh critic (initialised as torch initialises ``nn.Linear``), Adam state and unset bound
        state; ``key`` defaults to one made from the estimator's ``seed``."""
        if key is None:
            if self.spec.seed is None:
                raise invalid("key", "a jax.random key (or an estimator built with a seed)", key)
            key = jax.random.key(self.spec.seed)
        init_key, key = jax.random.split(key)
        params = eqx.filter(build_critic(*self.shapes, self.config, init_key, baseline=self.spec.baseline),
                            eqx.is_array)
        bound_state = self.spec.initial_state(ops, jax.tree_util.tree_leaves(params)[0])
        return MIState(params, self.optimizer.init(params), bound_state, key)

    def scores(self, state: MIState, x: jax.Array, z: jax.Array, shifts: jax.Array | None = None) -> Scores:
        """The batch's scores: a [`mivb.scores.MatrixScores`][] or [`PairedScores`][]."""
        critic = eqx.combine(state.params, self.static)
        if self.config.negative_samples is not None and shifts is None:
            self.spec.check_batch_size(x.shape[0])
            draw = jax.random.permutation(jax.random.split(state.key)[1], x.shape[0] - 1)
            shifts = draw[: self.config.negative_samples] + 1
        if self.spec.precision != "float32":
            critic, x, z = _in_precision((critic, x, z), jnp.dtype(self.spec.precision))
        return self.spec.layout(ops, critic, x, z, shifts)

    def objective(self, state: MIState, x: jax.Array, z: jax.Array, shifts: jax.Array | None = None, *,
                  train: bool = True, critic_step: bool = False, selection: bool = False) -> Objective:
        """The batch's ``(value, mi_for_grads, bound_state)``, ``bound_state`` being what [`update`][]
        would store; ``train=False`` (evaluation) reads the state without folding this batch in;
        ``critic_step``: ``mi_for_grads`` follows what the critic's step maximises (for the upper
        bounds, q(z | x)'s likelihood); ``selection``: the value is the one that ranks critics (for the
        upper bounds, that likelihood)."""
        check_batch_shapes(x.shape, z.shape)
        return self.spec.objective(self.scores(state, x, z, shifts), state.bound_state, train=train,
                                   critic_step=critic_step, selection=selection)

    def apply(self, state: MIState, x: jax.Array, z: jax.Array, shifts: jax.Array | None = None) -> MIOutput:
        value, mi_for_grads, _ = self.objective(state, x, z, shifts)
        return MIOutput(jax.lax.stop_gradient(value), mi_for_grads)

    def update(self, state: MIState, x: jax.Array, z: jax.Array,
               shifts: jax.Array | None = None) -> tuple[MIState, jax.Array]:
        """One critic step on the batch (maximising the bound); the new state and the value before it."""
        x, z = jax.lax.stop_gradient(x), jax.lax.stop_gradient(z)

        def negative_bound(params: eqx.Module) -> tuple[jax.Array, tuple[jax.Array, dict[str, jax.Array]]]:
            value, mi_for_grads, bound_state = self.objective(state._replace(params=params), x, z, shifts,
                                                              critic_step=True)
            return -mi_for_grads, (value, bound_state)

        grads, (value, bound_state) = jax.grad(negative_bound, has_aux=True)(state.params)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        bound_state = {key: new.astype(state.bound_state[key].dtype) for key, new in bound_state.items()}
        return MIState(params, opt_state, bound_state, jax.random.split(state.key)[0]), value

    def train_steps(self, state: MIState, x: jax.Array, z: jax.Array, batches: jax.Array,
                    shifts: jax.Array | None = None) -> tuple[MIState, jax.Array]:
        """One [`update`][] per row of ``batches`` (indices into x and z), compiled as one scan."""
        trained: tuple[MIState, jax.Array] = train_steps(self, state, x, z, batches, shifts)
        return trained

    def batch_values(self, state: MIState, x: jax.Array, z: jax.Array, batches: jax.Array,
                     shifts: jax.Array | None = None, selection: bool = False) -> jax.Array:
        """The bound on each row of ``batches`` (``selection``: what ranks critics), compiled; the state
        is left untouched."""
        values: jax.Array = batch_values(self, state, x, z, batches, shifts, selection)
        return values

    def fit(self, state: MIState, x: Any, z: Any, *, steps: int = 1000, batch_size: int = 128,
            seed: int | None = None) -> tuple[MIState, jax.Array]:
        """Train the critic on static data (NumPy or JAX arrays), compiled as one scan over the steps.

        Returns the new state and the bound's value at each step.
        """
        x, z = _as_array(x), _as_array(z)
        return self.train_steps(state, x, z, jnp.asarray(fit_schedule(x.shape[0], steps, batch_size, seed)))

    def evaluate(self, state: MIState, x: Any, z: Any, *, batch_size: int = 128) -> float:
        """The bound on new data, averaged over consecutive batches; the state is left untouched."""
        x, z = _as_array(x), _as_array(z)
        return float(jnp.mean(self.batch_values(state, x, z, jnp.asarray(evaluation_batches(x.shape[0], batch_size)))))

    def pointwise(self, state: MIState, x: Any, z: Any) -> np.ndarray:
        """Each pair's estimated log density ratio log p(x, z) / (p(x) p(z)) (``mivb.pointwise``)."""
        x, z = _as_array(x), _as_array(z)
        critic = eqx.combine(state.params, self.static)

        def full_scores(index: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            baseline = critic.row_baseline(x[index], z[index])
            return np.asarray(critic(x[index], z[index])), None if baseline is None else np.asarray(baseline)

        return self.spec.pointwise(full_scores, x.shape[0])

    def embed(self, state: MIState, x: Any, z: Any) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's embeddings under a separable critic, (f(x), g(z)) (the bilinear's (f(x) W, g(z))),
        float64, in chunks: what ``mivb.compression`` reads the copula on."""
        check_separable(self.config)
        x, z = _as_array(x), _as_array(z)
        return embed_in_chunks(lambda i: [np.asarray(a) for a in features(self, state, x[i], z[i])], x.shape[0])


class Trained(NamedTuple):
    """A trained JAX estimator: the estimator and its state (``estimator, state = result.estimator``)."""

    estimator: MIEstimator
    state: MIState

    def pointwise(self, x: Any, z: Any) -> np.ndarray:
        return self.estimator.pointwise(self.state, x, z)

    def embed(self, x: Any, z: Any) -> tuple[np.ndarray, np.ndarray]:
        return self.estimator.embed(self.state, x, z)


def _rebuilt(shapes: tuple[tuple[int, ...], tuple[int, ...]], kwargs: dict[str, Any]) -> MIEstimator:
    return MIEstimator(*shapes, **kwargs)


@partial(jax.jit, static_argnums=0)
def train_steps(estimator: MIEstimator, state: MIState, x: jax.Array, z: jax.Array, batches: jax.Array,
                shifts: jax.Array | None) -> tuple[MIState, jax.Array]:
    """[`MIEstimator.update`][] on each row of sample indices in turn, compiled as one scan."""

    def step(state: MIState, schedule: tuple[jax.Array, jax.Array | None]) -> tuple[MIState, jax.Array]:
        index, step_shifts = schedule
        return estimator.update(state, x[index], z[index], step_shifts)

    return jax.lax.scan(step, state, (batches, shifts))


@partial(jax.jit, static_argnums=0)
def features(estimator: MIEstimator, state: MIState, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The critic's features of x and z (a separable critic's embeddings), compiled: eagerly, a conv
    critic embedded 10,000 pictures in 12 s on 2 CPU cores."""
    features: tuple[jax.Array, jax.Array] = eqx.combine(state.params, estimator.static).features(x, z)
    return features


@partial(jax.jit, static_argnums=(0, 6))
def batch_values(estimator: MIEstimator, state: MIState, x: jax.Array, z: jax.Array, batches: jax.Array,
                 shifts: jax.Array | None, selection: bool) -> jax.Array:
    """The bound's value (``selection``: what ranks critics) on each row of sample indices; sampled
    negatives differ from batch to batch."""

    def value(schedule: tuple[jax.Array, jax.Array, jax.Array | None]) -> jax.Array:
        number, index, batch_shifts = schedule
        batch_state = state._replace(key=jax.random.fold_in(state.key, number))
        return estimator.objective(batch_state, x[index], z[index], batch_shifts, train=False,
                                   selection=selection)[0]

    values: jax.Array = jax.lax.map(value, (jnp.arange(batches.shape[0]), batches, shifts))
    return values


def _in_precision(tree: Any, dtype: jnp.dtype) -> Any:
    """Every floating-point array of ``tree`` in ``dtype`` (class labels and keys stay as they are)."""
    return jax.tree.map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, tree)


def _as_array(a: Any) -> jax.Array:
    array = jnp.asarray(a, dtype=jnp.float32)  # the critic's dtype
    return array[:, None] if array.ndim == 1 else array


def adaptive_clip_scale(grads_loss: Any, grads_mi: Any) -> jax.Array:
    """The factor of ``loss + beta * scale * mi`` (MINE's adaptive gradient clipping, docs/bounds.md).

    ``grads_loss`` and ``grads_mi`` are the gradient pytrees of the loss and of the MI term with
    respect to the same parameters (as ``jax.grad`` returns them); the factor carries no gradient.
    """
    # Any: jaxlib's PyTreeDef has no type information.
    structures: list[Any] = [jax.tree_util.tree_structure(grads) for grads in (grads_loss, grads_mi)]
    if structures[0] != structures[1]:
        raise invalid("grads_mi", "gradients over the same parameters as grads_loss (the same pytree structure)",
                      structures[1])
    scale: jax.Array = clip_scale(ops, *(global_norm(ops, jax.tree_util.tree_leaves(grads))
                                         for grads in (grads_loss, grads_mi)))
    return scale


def save_state(path: str | os.PathLike[str], state: MIState, estimator: MIEstimator) -> None:
    """Write ``state``, a state of ``estimator``, to an ``.npz`` file (no pickle; ``.npz`` is added
    to a path without it). The file is written beside the target and renamed over it, so a save
    that fails part-way leaves the previous file whole.

    Besides the arrays (the PRNG key as its raw key data) the file holds, as JSON, the estimator's
    identity: feature shapes, bound and its parameters, critic configuration, learning rate and
    EMA decay, which [`load_state`][] checks.
    """
    _check_estimator(estimator)
    raw = _raw_state("state", state)
    _check_leaves("state", _template(estimator, _key_impl(state.key)), raw, "a state")
    identity = json.dumps(estimator.spec.identity(estimator.shapes), sort_keys=True)
    arrays = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(raw)]
    atomic_write(with_suffix(path, ".npz"), lambda file: np.savez(
        file, *arrays, identity=np.asarray(identity), key_impl=np.asarray(_key_impl(state.key))))


def load_state(path: str | os.PathLike[str], estimator: MIEstimator) -> MIState:
    """Read a state written by [`save_state`][] for ``estimator``.

    The file must have been saved by an estimator like this one (same feature shapes, bound and
    parameters, critic configuration, learning rate and EMA decay; the seed may differ), and each
    of its arrays must have the shape and dtype ``estimator.init`` gives. Anything else, or a file
    that is missing, truncated or not written by [`save_state`][], is a
    [`mivb.InvalidArgumentError`][] naming what differs; nothing is loaded half-way.
    """
    _check_estimator(estimator)
    members = _read_npz(path)
    identity, key_impl = (_text_member(path, members, name) for name in ("identity", "key_impl"))
    try:
        saved = json.loads(identity)
    except ValueError:
        saved = None
    check_saved_identity("path", saved, estimator.spec.identity(estimator.shapes))
    try:
        template = _template(estimator, key_impl)
    except (TypeError, ValueError, KeyError):
        raise _mismatch("path", "a state whose PRNG key is of an implementation this JAX knows",
                        f"{_shown(path)} with key_impl={key_impl!r}") from None
    treedef: Any = jax.tree_util.tree_structure(template)  # jaxlib's PyTreeDef has no type information
    count = sum(1 for name in members if name.startswith("arr_"))
    if count != treedef.num_leaves or any(f"arr_{i}" not in members for i in range(count)):
        raise _mismatch("path", f"a state of {treedef.num_leaves} arrays for this estimator",
                        f"{_shown(path)} holding {count} arrays")
    state = jax.tree_util.tree_unflatten(treedef, [members[f"arr_{i}"] for i in range(count)])
    _check_leaves("path", template, state, _shown(path))
    loaded: MIState = jax.tree_util.tree_map(jnp.asarray, state)
    return loaded._replace(key=jax.random.wrap_key_data(loaded.key, impl=key_impl))


def _check_estimator(estimator: Any) -> None:
    if not isinstance(estimator, MIEstimator):
        raise invalid("estimator", "the MIEstimator the state belongs to", estimator, error=InvalidTypeError)


def _key_impl(key: Any) -> str:
    try:
        return str(jax.random.key_impl(key))
    except (TypeError, ValueError):
        raise invalid("state", "an MIState whose key is a typed PRNG key (jax.random.key)", key,
                      error=InvalidTypeError) from None


def _raw_state(argument: str, state: Any) -> MIState:
    """The state with its PRNG key as raw key data (plain arrays throughout)."""
    if not isinstance(state, MIState):
        raise invalid(argument, "an MIState", state, error=InvalidTypeError)
    return state._replace(key=jax.random.key_data(state.key))


def _template(estimator: MIEstimator, key_impl: str) -> MIState:
    """The shapes and dtypes of a raw state of ``estimator`` (nothing computed)."""
    template: MIState = jax.eval_shape(lambda: _raw_state("state", estimator.init(jax.random.key(0, impl=key_impl))))
    return template


def _check_leaves(argument: str, template: MIState, state: MIState, received: str) -> None:
    """Every array of ``state`` has the structure, shape and dtype of ``template``'s."""
    expected, treedef = jax.tree_util.tree_flatten_with_path(template)
    structure: Any = treedef  # jaxlib's PyTreeDef has no type information
    got = jax.tree_util.tree_leaves(state)
    if jax.tree_util.tree_structure(state) != structure:
        raise _mismatch(argument, f"a state of {structure.num_leaves} arrays for this estimator",
                        f"{received} of {len(got)} arrays")
    for (where, want), leaf in zip(expected, got):
        name, shape = jax.tree_util.keystr(where), tuple(np.shape(leaf))
        dtype = np.dtype(leaf.dtype) if hasattr(leaf, "dtype") else np.asarray(leaf).dtype
        if shape != tuple(want.shape) or dtype != want.dtype:
            raise _mismatch(argument, f"{name} of shape {tuple(want.shape)} and dtype {want.dtype} "
                            "(as this estimator's init gives)", f"{received} whose {name} has shape {shape} "
                            f"and dtype {dtype}")


def _shown(path: Any) -> str:
    """``path=...`` in full: a file's name is what the reader needs (a file object is described)."""
    try:
        return f"path={os.fspath(path)!r}"
    except TypeError:
        return f"path={describe(path)}"


def _mismatch(argument: str, expected: str, received: str) -> InvalidArgumentError:
    """``argument: expected ..., received ...``, the received side written out in full (no shortening)."""
    return InvalidArgumentError(f"{argument}: expected {expected}, received {received}")


def _read_npz(path: Any) -> dict[str, np.ndarray]:
    """Every member of the ``.npz`` at ``path``, read now; any file problem is an error naming ``path``."""
    if not os.path.exists(_name(path)) and os.path.exists(_name(with_suffix(path, ".npz"))):
        path = with_suffix(path, ".npz")  # save_state("ck") wrote ck.npz
    try:
        stored = np.load(path, allow_pickle=False)
        if not isinstance(stored, np.lib.npyio.NpzFile):  # a plain .npy file: one array, not an archive
            reason = "found a single array, not an .npz archive"
        else:
            with stored:
                return {name: stored[name] for name in stored.files}
    except FileNotFoundError:
        reason = "no such file"
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        reason = f"{type(error).__name__}: {error}"
    raise _mismatch("path", f"an .npz file written by mivb_jax.save_state ({reason})", _shown(path))


def _name(path: Any) -> str:
    """A path's name, or "" for a file object."""
    try:
        name: str = os.fspath(path)
    except TypeError:
        return ""
    return name


def _text_member(path: Any, members: dict[str, np.ndarray], name: str) -> str:
    value = members.get(name)
    if value is None or value.shape != () or value.dtype.kind != "U":
        raise _mismatch("path", f"an .npz file written by mivb_jax.save_state (its {name!r} is missing; "
                        "a file from an older mivb holds no identity and cannot be checked)", _shown(path))
    return str(value)
