from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from mivb.clipping import clip_scale, global_norm
from mivb.compression import check_separable, embed_in_chunks
from mivb.critics import CriticConfig
from mivb.errors import InvalidArgumentError, invalid
from mivb.schedule import feature_shape
from mivb.scores import Scores
from mivb.spec import EstimatorSpec, check_batch_shapes, check_saved_identity, evaluation_batches, fit_schedule

from ._critics import build_critic
from ._ops import ops


class MIOutput(NamedTuple):
    mi: tf.Tensor
    mi_for_grads: tf.Tensor


class SavedIdentity(tf.train.experimental.PythonState):
    """What a checkpoint of an [`MIEstimator`][] must match to be restored into another, as JSON.

    ``tf.train.Checkpoint`` restores Python state before any variable, so a checkpoint of another
    estimator is refused (``deserialize`` raises) while every variable still holds its value.
    """

    def __init__(self, expected: dict[str, Any]):
        self.expected = expected

    def serialize(self) -> str:
        return json.dumps(self.expected, sort_keys=True)

    def deserialize(self, string_value: Any) -> None:
        text = string_value.decode() if isinstance(string_value, bytes) else str(string_value)
        try:
            saved = json.loads(text)
        except ValueError:
            raise InvalidArgumentError("checkpoint: expected the identity of a mivb estimator, "
                                       f"received {text[:80]!r}") from None
        check_saved_identity("checkpoint", saved, self.expected)


class MIEstimator(tf.Module):
    """A trainable MI estimator for TensorFlow training code, eager or inside ``tf.function``.

    Calling it on a batch returns ``MIOutput(mi, mi_for_grads)``: the bound's value (no gradient)
    and the differentiable term to add to a loss, whose gradient is the one [the contract][the-bounds] prescribes
    (for ``mine``, the EMA-corrected surrogate). [`update`][] takes one Adam step on the critic
    and stores MINE's EMA. The critic (a Keras layer), its optimiser, the EMA (variable
    ``log_ema`` for ``mine``, NaN while unset) and the sampler of negatives are all saved by
    ``tf.train.Checkpoint(estimator=...)``. Batches need a static size N inside ``tf.function``.

    A checkpoint also records the estimator's identity (feature shapes, bound and its parameters,
    critic configuration, learning rate, EMA decay; not the seed). ``Checkpoint.restore`` into an
    estimator that differs raises [`mivb.InvalidArgumentError`][] naming the first difference,
    before any variable of the checkpoint is assigned, wherever the estimator sits in the
    checkpoint (beside a model, in a ``tf.train.CheckpointManager``); nothing needs calling after
    ``restore``. Checkpoints written before mivb recorded the identity restore unchecked (the
    status's ``assert_consumed`` then names the missing identity; ``expect_partial`` accepts it).

    Args:
        dim_x, dim_z: feature sizes of x and z, or their shapes per sample ((H, W, C) for images).
        bound: a name of ``mivb.BOUNDS``: ``dv``, ``mine``, ``nwj``, ``infonce``, ``js``, ``smile``, ``tuba``,
            ``alpha`` (lower bounds), ``club`` (an upper bound), ``l1out`` (an estimate, no bound).
        critic: ``"joint"``, ``"separable"``, ``"bilinear"``, ``"conditional"``, a mapping, a
            ``mivb.CriticConfig``, or your own Keras layer, called as ``layer(x, z)`` and returning the
            (N, N) scores or embeddings ``(f(x), g(z))``: its trainable variables are trained in place;
            None (default): ``"conditional"`` for the upper bounds, else ``"separable"``.
        lr: the critic's Adam learning rate.
        ema_decay: MINE's moving-average decay, in (0, 1).
        seed: fixes the initial weights and the sampled negatives; global seeds are left alone.
        **bound_params: ``clip`` for ``smile``, ``alpha`` for ``alpha``.

    Examples:
        A training loop (a fragment: the data, the model and its loss are yours):

        ```python
        estimator = MIEstimator(dim_x=2, dim_z=8, bound="mine")

        @tf.function
        def step(x, z):
            with tf.GradientTape(persistent=True) as tape:
                loss = ...
                mi, mi_for_grads = estimator(x, z)
            grads_loss = tape.gradient(loss, model.trainable_variables)
            grads_mi = tape.gradient(mi_for_grads, model.trainable_variables)
            scale = adaptive_clip_scale(grads_loss, grads_mi)
            optimizer.apply_gradients(zip([gl - beta * scale * gm for gl, gm in zip(grads_loss, grads_mi)],
                                          model.trainable_variables))  # maximise MI
            estimator.update(x, z)
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
        super().__init__(name="mi_estimator")
        self.spec = EstimatorSpec.create(bound, critic, lr, ema_decay, seed, bound_params, precision=precision)
        self.bound, self.config = self.spec.bound, self.spec.critic
        self.shapes = (feature_shape("dim_x", dim_x), feature_shape("dim_z", dim_z))
        self.critic = build_critic(*self.shapes, self.config, seed, baseline=self.spec.baseline)
        if self.spec.precision != "float32":
            policy = keras.DTypePolicy(f"mixed_{self.spec.precision}")
            for layer in self.critic._flatten_layers(include_self=True):  # Keras's walk over nested layers
                layer.dtype_policy = policy
        for key, value in self.spec.initial_state(ops, tf.zeros(())).items():
            setattr(self, key, tf.Variable(value, trainable=False, name=key))  # the bound's state, checkpointed
        # torch's and optax's Adam: betas (0.9, 0.999), eps 1e-8 (Keras' default is 1e-7), no weight decay,
        # a constant rate. Keras adds eps to sqrt(v) before the bias correction, torch after: the same
        # eps weighs 1/sqrt(1 - 0.999^t) more here, a difference gone after the first few thousand steps.
        self.optimizer = keras.optimizers.Adam(learning_rate=self.spec.learning_rate, epsilon=1e-8)
        if self.spec.precision == "float16":
            self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
        self.optimizer.build(self.critic.trainable_variables)
        generator = tf.random.Generator
        self.negatives = generator.from_non_deterministic_state() if seed is None else generator.from_seed(seed)
        self.identity = SavedIdentity(self.spec.identity(self.shapes))  # checked first on restore

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the arguments that rebuild it and the values of its variables (critic, optimiser,
        bound state, sampler), in the order a rebuilt estimator lists them: Keras layers do not pickle."""
        return _rebuilt, (self.shapes, self.spec.to_kwargs(), [variable.numpy() for variable in _variables(self)])

    @property
    def bound_state(self) -> dict[str, tf.Tensor]:
        return {key: tf.convert_to_tensor(getattr(self, key)) for key in self.spec.definition.state_names}

    def assign_bound_state(self, state: dict[str, tf.Tensor]) -> None:
        for key, value in state.items():
            getattr(self, key).assign(value)

    @property
    def training_variables(self) -> list[tf.Variable]:
        """Every variable that training changes: the critic, its optimiser, the bound's state, the sampler."""
        state = [getattr(self, key) for key in self.spec.definition.state_names]
        return [*self.critic.weights, *self.optimizer.variables, *state, self.negatives.state]

    def scores(self, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor | None = None) -> Scores:
        """The batch's scores: a [`mivb.scores.MatrixScores`][] or [`PairedScores`][]."""
        k = self.config.negative_samples
        if k is not None and shifts is None:
            self.spec.check_batch_size(x.shape[0])
            shifts = tf.argsort(self.negatives.uniform([x.shape[0] - 1]))[:k] + 1  # K distinct shifts
        return self.spec.layout(ops, self.critic, x, z, shifts)

    def objective(self, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor | None = None, *, train: bool = True,
                  critic_step: bool = False,
                  selection: bool = False) -> tuple[tf.Tensor, tf.Tensor, dict[str, tf.Tensor]]:
        """The batch's ``(value, mi_for_grads, state)``, ``state`` being what [`update`][] would store;
        ``train=False`` (evaluation) reads the bound's state without folding this batch in;
        ``critic_step``: ``mi_for_grads`` follows what the critic's step maximises (for the upper
        bounds, q(z | x)'s likelihood); ``selection``: the value is the one that ranks critics (for the
        upper bounds, that likelihood)."""
        check_batch_shapes(tuple(x.shape), tuple(z.shape))
        return self.spec.objective(self.scores(x, z, shifts), self.bound_state, train=train, critic_step=critic_step,
                                   selection=selection)

    def __call__(self, x: tf.Tensor, z: tf.Tensor) -> MIOutput:
        value, mi_for_grads, _ = self.objective(x, z)
        return MIOutput(tf.stop_gradient(value), mi_for_grads)

    def update(self, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor | None = None) -> tf.Tensor:
        """One critic step on the batch (maximising the bound); returns the bound's value before it."""
        variables = self.critic.trainable_variables
        with tf.GradientTape() as tape:
            value, mi_for_grads, state = self.objective(tf.stop_gradient(x), tf.stop_gradient(z), shifts,
                                                        critic_step=True)
            loss = -mi_for_grads
            if self.spec.precision == "float16":
                loss = self.optimizer.scale_loss(loss)  # apply_gradients unscales, and skips overflowed steps
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.assign_bound_state(state)
        return tf.stop_gradient(value)

    def train_steps(self, x: tf.Tensor, z: tf.Tensor, batches: tf.Tensor, shifts: tf.Tensor | None = None) -> tf.Tensor:
        """One [`update`][] per row of ``batches`` (indices into x and z), in one graph; the values.

        One trace per batch size (and number of sampled negatives): the data and the number of rows
        may change from call to call (a shorter last chunk, another split) without a new trace.
        """
        return self._train_steps(x, z, *self._schedule(batches, shifts))

    def batch_values(self, x: tf.Tensor, z: tf.Tensor, batches: tf.Tensor, shifts: tf.Tensor | None = None,
                     selection: bool = False) -> tf.Tensor:
        """The bound on each row of ``batches`` (``selection``: what ranks critics), in one graph; neither
        critic nor state changes.

        Traced like [`train_steps`][]: once per batch size (and ``selection``), whatever the data or
        number of rows.
        """
        return self._batch_values(x, z, *self._schedule(batches, shifts), selection)

    @staticmethod
    def _schedule(batches: Any, shifts: Any) -> tuple[tf.Tensor, tf.Tensor | None, int, int | None]:
        """``batches``, ``shifts`` and their static row sizes: the traced loops see batches of a
        static size N (the N x N scores need it) however many rows and data each call brings."""
        batches = tf.convert_to_tensor(batches)
        if batches.shape.rank != 2 or batches.shape[1] is None:
            raise invalid("batches", "a (steps, batch_size) tensor of indices with a static batch_size", batches)
        if shifts is None:
            return batches, None, batches.shape[1], None
        shifts = tf.convert_to_tensor(shifts)
        if shifts.shape.rank != 2 or shifts.shape[1] is None:
            raise invalid("shifts", "a (steps, K) tensor of shifts with a static K", shifts)
        return batches, shifts, batches.shape[1], shifts.shape[1]

    # reduce_retracing: other data or another number of rows generalise the trace instead of adding
    # one; the sizes, Python ints, are part of every trace, so each batch size keeps its static shape.
    @tf.function(reduce_retracing=True)
    def _train_steps(self, x: tf.Tensor, z: tf.Tensor, batches: tf.Tensor, shifts: tf.Tensor | None, size: int,
                     negatives: int | None) -> tf.Tensor:
        batches = tf.ensure_shape(batches, (None, size))
        shifts = None if shifts is None else tf.ensure_shape(shifts, (None, negatives))
        values = tf.TensorArray(self.dtype, size=tf.shape(batches)[0])
        for step in tf.range(tf.shape(batches)[0]):
            index = batches[step]
            values = values.write(step, self.update(tf.gather(x, index), tf.gather(z, index),
                                                    None if shifts is None else shifts[step]))
        return values.stack()

    @tf.function(reduce_retracing=True)
    def _batch_values(self, x: tf.Tensor, z: tf.Tensor, batches: tf.Tensor, shifts: tf.Tensor | None, size: int,
                      negatives: int | None, selection: bool) -> tf.Tensor:
        batches = tf.ensure_shape(batches, (None, size))
        shifts = None if shifts is None else tf.ensure_shape(shifts, (None, negatives))
        values = tf.TensorArray(self.dtype, size=tf.shape(batches)[0])
        for step in tf.range(tf.shape(batches)[0]):
            index = batches[step]
            value, _, _ = self.objective(tf.gather(x, index), tf.gather(z, index),
                                         None if shifts is None else shifts[step], train=False, selection=selection)
            values = values.write(step, value)
        return values.stack()

    @property
    def dtype(self) -> tf.DType:
        return self.critic.trainable_variables[0].dtype

    def fit(self, x: Any, z: Any, *, steps: int = 1000, batch_size: int = 128, seed: int | None = None) -> tf.Tensor:
        """Train the critic on static data (NumPy arrays or tensors); returns the value at each step."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        return self.train_steps(x, z, tf.constant(fit_schedule(x.shape[0], steps, batch_size, seed)))

    def evaluate(self, x: Any, z: Any, *, batch_size: int = 128) -> float:
        """The bound on new data, averaged over consecutive batches; the state is left untouched."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        return float(tf.reduce_mean(self.batch_values(x, z, tf.constant(evaluation_batches(x.shape[0], batch_size)))))

    def pointwise(self, x: Any, z: Any) -> np.ndarray:
        """Each pair's estimated log density ratio log p(x, z) / (p(x) p(z)) (``mivb.pointwise``)."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        return self.spec.pointwise(lambda i: self._full_scores(tf.gather(x, i), tf.gather(z, i)), x.shape[0])

    def _full_scores(self, x: tf.Tensor, z: tf.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        baseline = self.critic.row_baseline(x, z)
        return self.critic(x, z).numpy(), None if baseline is None else baseline.numpy()

    def embed(self, x: Any, z: Any) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's embeddings under a separable critic, (f(x), g(z)) (the bilinear's (f(x) W, g(z))),
        float64, in chunks: what ``mivb.compression`` reads the copula on."""
        check_separable(self.config)
        x, z = self._as_tensor(x), self._as_tensor(z)
        return embed_in_chunks(lambda i: tuple(a.numpy() for a in self.critic.features(tf.gather(x, i), tf.gather(z, i))),
                               x.shape[0])

    def _as_tensor(self, a: Any) -> tf.Tensor:
        tensor = tf.convert_to_tensor(a, dtype=self.dtype)
        return tensor[:, None] if tensor.shape.rank == 1 else tensor


def adaptive_clip_scale(grads_loss: Sequence[tf.Tensor | None], grads_mi: Sequence[tf.Tensor | None]) -> tf.Tensor:
    """The factor of ``loss + beta * scale * mi`` (MINE's adaptive gradient clipping, docs/bounds.md).

    Takes the gradients of ``loss`` and of the MI term with respect to one list of variables, as
    ``tape.gradient`` returns them from a persistent tape (None, for a variable a term does not
    reach, counts as zero); the combined gradient is then ``g_loss + beta * scale * g_mi`` with no
    third backward pass. The factor carries no gradient.
    """
    if len(grads_loss) != len(grads_mi):
        raise invalid("grads_mi", f"one gradient per variable, like grads_loss ({len(grads_loss)})", len(grads_mi))
    present = [g for g in (*grads_loss, *grads_mi) if g is not None]
    zero = tf.zeros((), present[0].dtype if present else tf.float32)
    norms = [global_norm(ops, [zero if g is None else tf.convert_to_tensor(g) for g in grads])
             for grads in (grads_loss, grads_mi)]
    return clip_scale(ops, *norms)


def _rebuilt(shapes: tuple[tuple[int, ...], tuple[int, ...]], kwargs: dict[str, Any],
             values: list[np.ndarray]) -> MIEstimator:
    estimator = MIEstimator(*shapes, **kwargs)
    for variable, value in zip(_variables(estimator), values, strict=True):
        variable.assign(value)
    return estimator


def _variables(estimator: MIEstimator) -> list[Any]:
    """Everything training changes: the critic's weights, the optimiser's, the bound's state, the sampler's."""
    return [*estimator.critic.weights, *estimator.optimizer.variables,
            *(getattr(estimator, key) for key in estimator.spec.definition.state_names), estimator.negatives.state]
