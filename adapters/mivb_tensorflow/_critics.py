from __future__ import annotations

import keras
import tensorflow as tf

from mivb.critics import CriticConfig


def activation(name: str) -> keras.layers.Layer:
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.01)  # torch's slope; Keras' default is 0.2
    return keras.layers.Activation(name)


def dense(width: int, seeds: keras.random.SeedGenerator | None) -> keras.layers.Dense:
    return keras.layers.Dense(width, kernel_initializer=keras.initializers.GlorotUniform(seeds))


def mlp(dim_in: int, config: CriticConfig, dim_out: int, seeds: keras.random.SeedGenerator | None) -> keras.Sequential:
    layers: list[keras.layers.Layer] = [keras.Input((dim_in,))]
    for width in config.hidden:
        layers += [dense(width, seeds), activation(config.activation)]
    return keras.Sequential([*layers, dense(dim_out, seeds)])


def shifted(z: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
    """``z[(i + shifts[k]) % n]`` for every row i and shift k: shape (n, K, ...)."""
    n = tf.shape(z, out_type=shifts.dtype)[0]
    return tf.gather(z, (tf.range(n, dtype=shifts.dtype)[:, None] + shifts[None, :]) % n)


class JointCritic(keras.layers.Layer):
    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig, seeds=None):
        super().__init__()
        self.net = mlp(dim_x + dim_z, config, 1, seeds)
        self.built = True

    def pair_scores(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        """Scores of pairs laid out along any leading axes; the network itself sees a flat batch."""
        pairs = tf.concat([x, z], axis=-1)
        return tf.reshape(self.net(tf.reshape(pairs, [-1, pairs.shape[-1]])), tf.shape(pairs)[:-1])

    def call(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        n = tf.shape(x)[0]
        return self.pair_scores(tf.repeat(x[:, None, :], n, axis=1), tf.repeat(z[None, :, :], n, axis=0))

    def sampled(self, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        k = tf.shape(shifts)[0]
        return self.pair_scores(x, z), self.pair_scores(tf.repeat(x[:, None, :], k, axis=1), shifted(z, shifts))


class SeparableCritic(keras.layers.Layer):
    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig, seeds=None):
        super().__init__()
        self.f = mlp(dim_x, config, config.embedding, seeds)
        self.g = mlp(dim_z, config, config.embedding, seeds)
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
    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig, seeds=None):
        super().__init__(dim_x, dim_z, config, seeds)
        self.w = self.add_weight(shape=(config.embedding, config.embedding), initializer="identity", name="w")

    def embed(self, x: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.matmul(self.f(x), self.w), self.g(z)


CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic}


def build_critic(dim_x: int, dim_z: int, config: CriticConfig, seed: int | None = None) -> keras.layers.Layer:
    """The critic ``config`` describes; ``seed`` fixes its initial weights without touching global seeds."""
    seeds = None if seed is None else keras.random.SeedGenerator(seed)
    return CRITICS[config.kind](dim_x, dim_z, config, seeds)
