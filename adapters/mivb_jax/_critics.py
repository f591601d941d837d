from __future__ import annotations

from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp

from mivb.critics import CriticConfig

ACTIVATIONS = {
    "relu": jax.nn.relu, "leaky_relu": jax.nn.leaky_relu, "elu": jax.nn.elu,
    "gelu": partial(jax.nn.gelu, approximate=False),  # torch's nn.GELU is the exact form
    "silu": jax.nn.silu, "tanh": jnp.tanh, "softplus": jax.nn.softplus,
}


def mlp(dim_in: int, config: CriticConfig, dim_out: int, key: jax.Array) -> eqx.nn.Sequential:
    """An MLP on one sample (vmap it over a batch); float32 even when JAX's 64-bit mode is on."""
    widths = (dim_in, *config.hidden, dim_out)
    keys = jax.random.split(key, len(widths) - 1)
    layers: list[eqx.Module] = []
    for width_in, width_out, layer_key in zip(widths[:-1], widths[1:], keys):
        layers += [eqx.nn.Linear(width_in, width_out, dtype=jnp.float32, key=layer_key),
                   eqx.nn.Lambda(ACTIVATIONS[config.activation])]
    return eqx.nn.Sequential(layers[:-1])


def shifted(z: jax.Array, shifts: jax.Array) -> jax.Array:
    """``z[(i + shifts[k]) % n]`` for every row i and shift k: shape (n, K, ...)."""
    n = z.shape[0]
    return z[(jnp.arange(n)[:, None] + shifts[None, :]) % n]


class JointCritic(eqx.Module):
    net: eqx.nn.Sequential

    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig, key: jax.Array):
        self.net = mlp(dim_x + dim_z, config, 1, key)

    def pair_score(self, x: jax.Array, z: jax.Array) -> jax.Array:
        return self.net(jnp.concatenate([x, z]))[0]

    def __call__(self, x: jax.Array, z: jax.Array) -> jax.Array:
        return jax.vmap(jax.vmap(self.pair_score, (None, 0)), (0, None))(x, z)

    def sampled(self, x: jax.Array, z: jax.Array, shifts: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(self.pair_score)(x, z), jax.vmap(jax.vmap(self.pair_score, (None, 0)))(x, shifted(z, shifts))


class SeparableCritic(eqx.Module):
    f: eqx.nn.Sequential
    g: eqx.nn.Sequential

    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig, key: jax.Array):
        key_f, key_g = jax.random.split(key)
        self.f = mlp(dim_x, config, config.embedding, key_f)
        self.g = mlp(dim_z, config, config.embedding, key_g)

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

    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig, key: jax.Array):
        super().__init__(dim_x, dim_z, config, key)
        self.w = jnp.eye(config.embedding, dtype=jnp.float32)

    def embed(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(self.f)(x) @ self.w, jax.vmap(self.g)(z)


CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic}


def build_critic(dim_x: int, dim_z: int, config: CriticConfig, key: jax.Array) -> eqx.Module:
    return CRITICS[config.kind](dim_x, dim_z, config, key)
