from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf

from mivb.critics import CriticConfig, uses_conv
from mivb.errors import InvalidTypeError, invalid


def activation(name: str) -> keras.layers.Layer:
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.01)  # torch's slope; Keras' default is 0.2
    return keras.layers.Activation(name)


class FanInUniform(keras.initializers.Initializer):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch's initialisation of ``nn.Linear`` and ``nn.Conv2d``
    weights and biases (and the torch and JAX critics'); Keras' own are Glorot and zeros. A bias's
    shape does not give its layer's fan_in: the layer sets ``fan_in`` when it builds."""

    def __init__(self, seeds: keras.random.SeedGenerator | None = None):
        self.seeds, self.fan_in = seeds, None

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> tf.Tensor:
        # A kernel's fan_in: its inputs (the second-to-last axis) times its receptive field.
        fan_in = self.fan_in or math.prod(shape[:-1])
        bound = 1 / math.sqrt(fan_in)
        return keras.random.uniform(shape, -bound, bound, dtype=dtype, seed=self.seeds)


# What TorchInit is mixed into, for type checkers (a Keras layer, Any to them); at run time a plain mixin.
_Layer: Any = keras.layers.Layer if TYPE_CHECKING else object


class TorchInit(_Layer):
    """A Keras layer (mixed in before it) initialised as torch initialises its own: see ``FanInUniform``."""

    def __init__(self, *args: Any, seeds: keras.random.SeedGenerator | None = None, **kwargs: Any):
        super().__init__(*args, kernel_initializer=FanInUniform(seeds), bias_initializer=FanInUniform(seeds),
                         **kwargs)

    def build(self, input_shape: tuple[int, ...]) -> None:
        self.bias_initializer.fan_in = math.prod(getattr(self, "kernel_size", ())) * input_shape[-1]
        super().build(input_shape)


class Dense(TorchInit, keras.layers.Dense):
    pass


class Conv2D(TorchInit, keras.layers.Conv2D):
    pass


def dense(width: int, seeds: keras.random.SeedGenerator | None) -> keras.layers.Dense:
    return Dense(width, seeds=seeds)


def mlp_layers(config: CriticConfig, dim_out: int,
               seeds: keras.random.SeedGenerator | None) -> list[keras.layers.Layer]:
    layers: list[keras.layers.Layer] = []
    for width in config.hidden:
        layers += [dense(width, seeds), activation(config.activation)]
    return [*layers, dense(dim_out, seeds)]


def conv_layers(config: CriticConfig, seeds: keras.random.SeedGenerator | None) -> list[keras.layers.Layer]:
    """Stride-2 3x3 convolutions on channels-last (H, W, C) images, the layout of Keras and TensorFlow."""
    layers: list[keras.layers.Layer] = []
    for width in config.channels:
        layers += [Conv2D(width, 3, strides=2, padding="same", seeds=seeds), activation(config.activation)]
    return layers


def encoder(shape: tuple[int, ...], config: CriticConfig, dim_out: int, seeds: keras.random.SeedGenerator | None) -> keras.Sequential:
    """One sample of ``shape`` to ``dim_out`` features: convolutions first for images, then the MLP."""
    convs = conv_layers(config, seeds) if uses_conv(config, shape) else []
    return keras.Sequential([keras.Input(shape), *convs, keras.layers.Flatten(), *mlp_layers(config, dim_out, seeds)])


def pair_features(shape: tuple[int, ...], config: CriticConfig,
                  seeds: keras.random.SeedGenerator | None) -> tuple[keras.Sequential, int]:
    """What a joint critic concatenates: images encoded to ``embedding`` features, vectors as they are."""
    if uses_conv(config, shape):
        return encoder(shape, config, config.embedding, seeds), config.embedding
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten()]), math.prod(shape)


def shifted(z: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
    """``z[(i + shifts[k]) % n]`` for every row i and shift k: shape (n, K, ...)."""
    n = tf.shape(z, out_type=shifts.dtype)[0]
    return tf.gather(z, (tf.range(n, dtype=shifts.dtype)[:, None] + shifts[None, :]) % n)


class Critic(keras.layers.Layer):
    """Scores pairs from per-sample features: ``features`` gives each row's and each column's, ``pairs``
    scores them pair by pair, ``matrix`` every row against every column. ``baseline``: a network
    giving each row's sample a log-baseline (for the bounds that read one), or None."""

    def __init__(self, row_shape: tuple[int, ...], config: CriticConfig, baseline: bool,
                 seeds: keras.random.SeedGenerator | None = None):
        super().__init__()
        self.baseline = encoder(row_shape, config, 1, seeds) if baseline else None

    def matrix(self, rows: tf.Tensor, columns: tf.Tensor) -> tf.Tensor:
        n, m = tf.shape(rows)[0], tf.shape(columns)[0]
        return self.pairs(tf.repeat(rows[:, None, :], m, axis=1), tf.repeat(columns[None, :, :], n, axis=0))

    def call(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        return self.matrix(*self.features(x, z))

    def sampled(self, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        rows, columns = self.features(x, z)
        negatives = shifted(columns, shifts)
        return self.pairs(rows, columns), self.pairs(tf.repeat(rows[:, None, :], tf.shape(negatives)[1], axis=1),
                                                     negatives)

    def row_baseline(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor | None:
        return None if self.baseline is None else tf.squeeze(self.baseline(self.row_samples(x, z)), -1)

    def row_samples(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        return x


class JointCritic(Critic):
    """An MLP on the pair; images are first encoded to ``embedding`` features each."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 seeds: keras.random.SeedGenerator | None = None):
        super().__init__(shape_x, config, baseline, seeds)
        (self.f, width_x), (self.g, width_z) = (pair_features(s, config, seeds) for s in (shape_x, shape_z))
        self.net = keras.Sequential([keras.Input((width_x + width_z,)), *mlp_layers(config, 1, seeds)])
        self.built = True

    def features(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.f(x), self.g(z)

    def pairs(self, fx: tf.Tensor, gz: tf.Tensor) -> tf.Tensor:
        """Scores of pairs laid out along any leading axes; the network itself sees a flat batch."""
        pairs = tf.concat([fx, gz], axis=-1)
        return tf.reshape(self.net(tf.reshape(pairs, [-1, pairs.shape[-1]])), tf.shape(pairs)[:-1])


class SeparableCritic(Critic):
    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 seeds: keras.random.SeedGenerator | None = None):
        super().__init__(shape_x, config, baseline, seeds)
        self.f = encoder(shape_x, config, config.embedding, seeds)
        self.g = encoder(shape_z, config, config.embedding, seeds)
        self.built = True

    def features(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.f(x), self.g(z)

    def pairs(self, fx: tf.Tensor, gz: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(fx * gz, -1)

    def matrix(self, fx: tf.Tensor, gz: tf.Tensor) -> tf.Tensor:
        return tf.matmul(fx, gz, transpose_b=True)


class BilinearCritic(SeparableCritic):
    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 seeds: keras.random.SeedGenerator | None = None):
        super().__init__(shape_x, shape_z, config, baseline, seeds)
        self.w = self.add_weight(shape=(config.embedding, config.embedding), initializer="identity", name="w")

    def features(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.matmul(self.f(x), self.w), self.g(z)


class ConditionalCritic(Critic):
    """q(z | x) = N(mean(x), diag exp(log_variance(x))): rows are z, columns the (mean, log-variance) of x."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 seeds: keras.random.SeedGenerator | None = None):
        super().__init__(shape_z, config, baseline, seeds)
        self.f = encoder(shape_x, config, 2 * math.prod(shape_z), seeds)
        self.built = True

    def features(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return z, self.f(x)

    def pairs(self, z: tf.Tensor, moments: tf.Tensor) -> tf.Tensor:
        mean, raw = tf.split(moments, 2, axis=-1)
        log_variance = LOG_VARIANCE_LIMIT * tf.tanh(raw / LOG_VARIANCE_LIMIT)
        return -0.5 * tf.reduce_sum((z - mean) ** 2 * tf.exp(-log_variance) + log_variance + LOG_2PI, -1)

    def row_samples(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        return z


class ClassifierCritic(Critic):
    """q(z | x) over C classes: rows are log q(. | x), columns one-hot labels z (C,)."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 seeds: keras.random.SeedGenerator | None = None):
        super().__init__(shape_x, config, baseline, seeds)
        self.f = encoder(shape_x, config, math.prod(shape_z), seeds)
        self.built = True

    def features(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.nn.log_softmax(self.f(x), axis=-1), z

    def pairs(self, log_q: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(log_q * z, -1)

    def matrix(self, log_q: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        return tf.matmul(log_q, z, transpose_b=True)


class ModuleCritic(Critic):
    """Your Keras layer as the critic: ``layer(x, z)`` gives the (N, N) scores, or embeddings (f(x), g(z)).
    Its trainable variables are the critic's (``trainable = False`` on a sub-layer freezes it)."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 seeds: keras.random.SeedGenerator | None = None):
        super().__init__(shape_x, config, baseline, seeds)
        assert config.module is not None  # kind "module" holds one (CriticConfig checks)
        self.module, self.shapes = config.module.module, (shape_x, shape_z)
        # A first call builds its variables (the optimiser's) and says, before any tracing, whether it
        # gives what sampled negatives need.
        scores = self.module(tf.zeros((1, *shape_x)), tf.zeros((1, *shape_z)))
        if config.negative_samples is not None:
            self.check_embeddings(isinstance(scores, (tuple, list)))
        self.built = True

    def check_embeddings(self, embeddings: bool) -> None:
        if not embeddings:
            raise invalid("critic", "a module returning embeddings (f(x), g(z)) for sampled negatives or several "
                          "devices (a module returning the (N, N) matrix works on whole batches only)", type(self.module))

    def features(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return x, z

    def matrix(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        scores = self.module(x, z)
        return tf.matmul(scores[0], scores[1], transpose_b=True) if isinstance(scores, (tuple, list)) else scores

    def pairs(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(x)[: x.shape.rank - len(self.shapes[0])]
        embeddings = self.module(tf.reshape(x, [-1, *self.shapes[0]]), tf.reshape(z, [-1, *self.shapes[1]]))
        self.check_embeddings(isinstance(embeddings, (tuple, list)))
        return tf.reshape(tf.reduce_sum(embeddings[0] * embeddings[1], -1), batch)


LOG_2PI = math.log(2 * math.pi)
# A variance of e^-10 to e^10 on standardised data: wide enough for any conditional the data
# allow, and no step of the likelihood's fit can send it to zero or infinity.
LOG_VARIANCE_LIMIT = 10.0
CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic,
           "conditional": ConditionalCritic, "classifier": ClassifierCritic, "module": ModuleCritic}


def build_critic(shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig,
                 seed: int | None = None, baseline: bool = False) -> Critic:
    """The critic ``config`` describes; ``seed`` fixes its initial weights without touching global seeds.
    ``baseline``: with a network for each row's log-baseline. A layer of your own keeps its weights
    (nothing is re-initialised; ``seed`` draws only the baseline network)."""
    if config.module is not None and not isinstance(config.module.module, keras.layers.Layer):  # kind "module"
        raise invalid("critic", "a keras.Layer for backend 'tensorflow'", type(config.module.module),
                      error=InvalidTypeError)
    seeds = None if seed is None else keras.random.SeedGenerator(seed)
    return CRITICS[config.kind](shape_x, shape_z, config, baseline, seeds)
