from __future__ import annotations

import math

import keras
import tensorflow as tf

from mivb.critics import CriticConfig, uses_conv


def activation(name: str) -> keras.layers.Layer:
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.01)  # torch's slope; Keras' default is 0.2
    return keras.layers.Activation(name)


def dense(width: int, seeds: keras.random.SeedGenerator | None) -> keras.layers.Dense:
    return keras.layers.Dense(width, kernel_initializer=keras.initializers.GlorotUniform(seeds))


def mlp_layers(config: CriticConfig, dim_out: int, seeds: keras.random.SeedGenerator | None) -> list:
    layers: list[keras.layers.Layer] = []
    for width in config.hidden:
        layers += [dense(width, seeds), activation(config.activation)]
    return [*layers, dense(dim_out, seeds)]


def conv_layers(config: CriticConfig, seeds: keras.random.SeedGenerator | None) -> list:
    """Stride-2 3x3 convolutions on channels-last (H, W, C) images, the layout of Keras and TensorFlow."""
    layers: list[keras.layers.Layer] = []
    for width in config.channels:
        layers += [keras.layers.Conv2D(width, 3, strides=2, padding="same",
                                       kernel_initializer=keras.initializers.GlorotUniform(seeds)),
                   activation(config.activation)]
    return layers


def encoder(shape: tuple[int, ...], config: CriticConfig, dim_out: int, seeds) -> keras.Sequential:
    """One sample of ``shape`` to ``dim_out`` features: convolutions first for images, then the MLP."""
    convs = conv_layers(config, seeds) if uses_conv(config, shape) else []
    return keras.Sequential([keras.Input(shape), *convs, keras.layers.Flatten(), *mlp_layers(config, dim_out, seeds)])


def pair_features(shape: tuple[int, ...], config: CriticConfig, seeds) -> tuple[keras.Sequential, int]:
    """What a joint critic concatenates: images encoded to ``embedding`` features, vectors as they are."""
    if uses_conv(config, shape):
        return encoder(shape, config, config.embedding, seeds), config.embedding
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten()]), math.prod(shape)


def shifted(z: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
    """``z[(i + shifts[k]) % n]`` for every row i and shift k: shape (n, K, ...)."""
    n = tf.shape(z, out_type=shifts.dtype)[0]
    return tf.gather(z, (tf.range(n, dtype=shifts.dtype)[:, None] + shifts[None, :]) % n)


class JointCritic(keras.layers.Layer):
    """An MLP on the pair; images are first encoded to ``embedding`` features each."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, seeds=None):
        super().__init__()
        (self.f, width_x), (self.g, width_z) = (pair_features(s, config, seeds) for s in (shape_x, shape_z))
        self.net = keras.Sequential([keras.Input((width_x + width_z,)), *mlp_layers(config, 1, seeds)])
        self.built = True

    def pair_scores(self, fx: tf.Tensor, gz: tf.Tensor) -> tf.Tensor:
        """Scores of pairs laid out along any leading axes; the network itself sees a flat batch."""
        pairs = tf.concat([fx, gz], axis=-1)
        return tf.reshape(self.net(tf.reshape(pairs, [-1, pairs.shape[-1]])), tf.shape(pairs)[:-1])

    def call(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        fx, gz = self.f(x), self.g(z)
        n = tf.shape(fx)[0]
        return self.pair_scores(tf.repeat(fx[:, None, :], n, axis=1), tf.repeat(gz[None, :, :], n, axis=0))

    def sampled(self, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        fx, gz = self.f(x), self.g(z)
        k = tf.shape(shifts)[0]
        return self.pair_scores(fx, gz), self.pair_scores(tf.repeat(fx[:, None, :], k, axis=1), shifted(gz, shifts))


class SeparableCritic(keras.layers.Layer):
    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, seeds=None):
        super().__init__()
        self.f = encoder(shape_x, config, config.embedding, seeds)
        self.g = encoder(shape_z, config, config.embedding, seeds)
        self.built = True

    def embed(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.f(x), self.g(z)

    def call(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        fx, gz = self.embed(x, z)
        return tf.matmul(fx, gz, transpose_b=True)

    def sampled(self, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        fx, gz = self.embed(x, z)
        return tf.reduce_sum(fx * gz, -1), tf.reduce_sum(fx[:, None, :] * shifted(gz, shifts), -1)


class BilinearCritic(SeparableCritic):
    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, seeds=None):
        super().__init__(shape_x, shape_z, config, seeds)
        self.w = self.add_weight(shape=(config.embedding, config.embedding), initializer="identity", name="w")

    def embed(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.matmul(self.f(x), self.w), self.g(z)


CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic}


def build_critic(shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig,
                 seed: int | None = None) -> keras.layers.Layer:
    """The critic ``config`` describes; ``seed`` fixes its initial weights without touching global seeds."""
    seeds = None if seed is None else keras.random.SeedGenerator(seed)
    return CRITICS[config.kind](shape_x, shape_z, config, seeds)
