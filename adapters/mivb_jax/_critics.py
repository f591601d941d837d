from __future__ import annotations

import math
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp

from mivb.critics import CriticConfig, uses_conv

ACTIVATIONS = {
    "relu": jax.nn.relu, "leaky_relu": jax.nn.leaky_relu, "elu": jax.nn.elu,
    "gelu": partial(jax.nn.gelu, approximate=False),  # torch's nn.GELU is the exact form
    "silu": jax.nn.silu, "tanh": jnp.tanh, "softplus": jax.nn.softplus,
}


def mlp(dim_in: int, config: CriticConfig, dim_out: int, key: jax.Array) -> eqx.nn.Sequential:
    """An MLP on one flat sample (vmap it over a batch); float32 even in JAX's 64-bit mode."""
    widths = (dim_in, *config.hidden, dim_out)
    keys = jax.random.split(key, len(widths) - 1)
    layers: list[eqx.Module] = []
    for width_in, width_out, layer_key in zip(widths[:-1], widths[1:], keys):
        layers += [eqx.nn.Linear(width_in, width_out, dtype=jnp.float32, key=layer_key),
                   eqx.nn.Lambda(ACTIVATIONS[config.activation])]
    return eqx.nn.Sequential(layers[:-1])


def conv_features(shape: tuple[int, ...], config: CriticConfig, key: jax.Array) -> tuple[eqx.nn.Sequential, int]:
    """Stride-2 3x3 convolutions on one channels-last (H, W, C) image, flattened; the stack and its width."""
    layers: list[eqx.Module] = [eqx.nn.Lambda(partial(jnp.moveaxis, source=-1, destination=0))]  # equinox: (C, H, W)
    channels = shape[-1]
    for width, layer_key in zip(config.channels, jax.random.split(key, len(config.channels))):
        layers += [eqx.nn.Conv2d(channels, width, 3, stride=2, padding=1, dtype=jnp.float32, key=layer_key),
                   eqx.nn.Lambda(ACTIVATIONS[config.activation])]
        channels = width
    stack = eqx.nn.Sequential([*layers, eqx.nn.Lambda(jnp.ravel)])
    return stack, jax.eval_shape(stack, jax.ShapeDtypeStruct(shape, jnp.float32)).shape[0]


def encoder(shape: tuple[int, ...], config: CriticConfig, dim_out: int, key: jax.Array) -> eqx.nn.Sequential:
    """One sample of ``shape`` to ``dim_out`` features: convolutions first for images, then the MLP."""
    key_conv, key_mlp = jax.random.split(key)
    if uses_conv(config, shape):
        features, width = conv_features(shape, config, key_conv)
        return eqx.nn.Sequential([features, mlp(width, config, dim_out, key_mlp)])
    return eqx.nn.Sequential([eqx.nn.Lambda(jnp.ravel), mlp(math.prod(shape), config, dim_out, key_mlp)])


def pair_features(shape: tuple[int, ...], config: CriticConfig, key: jax.Array) -> tuple[eqx.nn.Sequential, int]:
    """What a joint critic concatenates: images encoded to ``embedding`` features, vectors as they are."""
    if uses_conv(config, shape):
        return encoder(shape, config, config.embedding, key), config.embedding
    return eqx.nn.Sequential([eqx.nn.Lambda(jnp.ravel)]), math.prod(shape)


def shifted(z: jax.Array, shifts: jax.Array) -> jax.Array:
    """``z[(i + shifts[k]) % n]`` for every row i and shift k: shape (n, K, ...)."""
    n = z.shape[0]
    return z[(jnp.arange(n)[:, None] + shifts[None, :]) % n]


class JointCritic(eqx.Module):
    """An MLP on the pair; images are first encoded to ``embedding`` features each."""

    f: eqx.nn.Sequential
    g: eqx.nn.Sequential
    net: eqx.nn.Sequential

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, key: jax.Array):
        key_f, key_g, key_net = jax.random.split(key, 3)
        (self.f, width_x), (self.g, width_z) = (pair_features(shape, config, key)
                                                for shape, key in ((shape_x, key_f), (shape_z, key_g)))
        self.net = mlp(width_x + width_z, config, 1, key_net)

    def pair_score(self, fx: jax.Array, gz: jax.Array) -> jax.Array:
        return self.net(jnp.concatenate([fx, gz]))[0]

    def __call__(self, x: jax.Array, z: jax.Array) -> jax.Array:
        fx, gz = jax.vmap(self.f)(x), jax.vmap(self.g)(z)
        return jax.vmap(jax.vmap(self.pair_score, (None, 0)), (0, None))(fx, gz)

    def sampled(self, x: jax.Array, z: jax.Array, shifts: jax.Array) -> tuple[jax.Array, jax.Array]:
        fx, gz = jax.vmap(self.f)(x), jax.vmap(self.g)(z)
        negatives = jax.vmap(jax.vmap(self.pair_score, (None, 0)))(fx, shifted(gz, shifts))
        return jax.vmap(self.pair_score)(fx, gz), negatives


class SeparableCritic(eqx.Module):
    f: eqx.nn.Sequential
    g: eqx.nn.Sequential

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, key: jax.Array):
        key_f, key_g = jax.random.split(key)
        self.f = encoder(shape_x, config, config.embedding, key_f)
        self.g = encoder(shape_z, config, config.embedding, key_g)

    def embed(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(self.f)(x), jax.vmap(self.g)(z)

    def __call__(self, x: jax.Array, z: jax.Array) -> jax.Array:
        fx, gz = self.embed(x, z)
        return fx @ gz.T

    def sampled(self, x: jax.Array, z: jax.Array, shifts: jax.Array) -> tuple[jax.Array, jax.Array]:
        fx, gz = self.embed(x, z)
        return (fx * gz).sum(-1), (fx[:, None, :] * shifted(gz, shifts)).sum(-1)


class BilinearCritic(SeparableCritic):
    w: jax.Array

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, key: jax.Array):
        super().__init__(shape_x, shape_z, config, key)
        self.w = jnp.eye(config.embedding, dtype=jnp.float32)

    def embed(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(self.f)(x) @ self.w, jax.vmap(self.g)(z)


CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic}


def build_critic(shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig,
                 key: jax.Array) -> eqx.Module:
    """The critic ``config`` describes for samples of these shapes (channels-last images), from ``key``."""
    return CRITICS[config.kind](shape_x, shape_z, config, key)
