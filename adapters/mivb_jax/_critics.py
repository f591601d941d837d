from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from mivb.critics import CriticConfig, uses_conv
from mivb.errors import InvalidTypeError, invalid

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu, "leaky_relu": jax.nn.leaky_relu, "elu": jax.nn.elu,
    "gelu": partial(jax.nn.gelu, approximate=False),  # torch's nn.GELU is the exact form
    "silu": jax.nn.silu, "tanh": jnp.tanh, "softplus": jax.nn.softplus,
}


def mlp(dim_in: int, config: CriticConfig, dim_out: int, key: jax.Array) -> eqx.nn.Sequential:
    """An MLP on one flat sample (vmap it over a batch); float32 even in JAX's 64-bit mode."""
    widths = (dim_in, *config.hidden, dim_out)
    keys = jax.random.split(key, len(widths) - 1)
    layers: list[Callable[..., jax.Array]] = []
    for width_in, width_out, layer_key in zip(widths[:-1], widths[1:], keys):
        layers += [eqx.nn.Linear(width_in, width_out, dtype=jnp.float32, key=layer_key),
                   eqx.nn.Lambda(ACTIVATIONS[config.activation])]
    return eqx.nn.Sequential(layers[:-1])


class StridedConv(eqx.Module):
    """A 3x3 convolution of stride 2 and padding 1 on one channels-last (H, W, C) image, as patches times
    the kernel: torch's ``nn.Conv2d(C, O, 3, stride=2, padding=1)``, its parameters an equinox ``Conv2d``'s
    (initialised as torch's). Why not ``lax.conv``: inside the compiled training loop (a ``lax.scan``)
    XLA's CPU backend leaves the convolutions of the backward pass in layouts it has no fast kernel
    for, and a step took 10 times longer than out of the loop (issue #33); patches and a matrix
    product are as fast in the loop as out of it."""

    conv: eqx.nn.Conv2d

    def __call__(self, image: jax.Array, *, key: jax.Array | None = None) -> jax.Array:  # key: Sequential's, unused
        height, width, channels = image.shape
        rows, columns = (height + 1) // 2, (width + 1) // 2
        padded = jnp.pad(image, ((1, 1), (1, 1), (0, 0)))
        patches = jnp.concatenate([padded[i : i + 2 * rows - 1 : 2, j : j + 2 * columns - 1 : 2]
                                   for i in range(3) for j in range(3)], axis=-1)  # (rows, columns, 9 C)
        kernel = jnp.transpose(self.conv.weight, (2, 3, 1, 0)).reshape(9 * channels, -1)  # (O, C, 3, 3) -> (9 C, O)
        assert self.conv.bias is not None  # made with a bias, equinox's default
        return patches @ kernel + self.conv.bias.reshape(-1)


def conv_features(shape: tuple[int, ...], config: CriticConfig, key: jax.Array) -> tuple[eqx.nn.Sequential, int]:
    """Stride-2 3x3 convolutions on one channels-last (H, W, C) image, flattened in torch's (C, H, W)
    order; the stack and its width."""
    layers: list[Callable[..., jax.Array]] = []
    channels = shape[-1]
    for width, layer_key in zip(config.channels, jax.random.split(key, len(config.channels))):
        layers += [StridedConv(eqx.nn.Conv2d(channels, width, 3, stride=2, padding=1, dtype=jnp.float32,
                                             key=layer_key)),
                   eqx.nn.Lambda(ACTIVATIONS[config.activation])]
        channels = width
    stack = eqx.nn.Sequential([*layers, eqx.nn.Lambda(lambda features: jnp.moveaxis(features, -1, 0).ravel())])
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


class Critic(eqx.Module):
    """Scores pairs from per-sample features: ``features`` gives each row's and each column's, ``pairs``
    scores them pair by pair (broadcasting over leading axes), ``matrix`` every row against every
    column. ``baseline``: a network giving each row's sample a log-baseline (for the bounds that
    read one), or None."""

    baseline: eqx.nn.Sequential | None

    def __init__(self, row_shape: tuple[int, ...], config: CriticConfig, baseline: bool, key: jax.Array):
        # Drawn from a stream of its own: the other layers draw from ``key`` as they do without it.
        self.baseline = encoder(row_shape, config, 1, jax.random.fold_in(key, BASELINE_STREAM)) if baseline else None

    def features(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Each row's and each column's features, from which ``pairs`` and ``matrix`` score."""
        raise NotImplementedError  # every kind of critic defines its own

    def pairs(self, rows: jax.Array, columns: jax.Array) -> jax.Array:
        """The score of each row with the column at the same place (broadcasting over leading axes)."""
        raise NotImplementedError  # every kind of critic defines its own

    def matrix(self, rows: jax.Array, columns: jax.Array) -> jax.Array:
        return self.pairs(rows[:, None, :], columns[None, :, :])

    def __call__(self, x: jax.Array, z: jax.Array) -> jax.Array:
        return self.matrix(*self.features(x, z))

    def sampled(self, x: jax.Array, z: jax.Array, shifts: jax.Array) -> tuple[jax.Array, jax.Array]:
        rows, columns = self.features(x, z)
        return self.pairs(rows, columns), self.pairs(rows[:, None, :], shifted(columns, shifts))

    def row_baseline(self, x: jax.Array, z: jax.Array) -> jax.Array | None:
        return None if self.baseline is None else jax.vmap(self.baseline)(self.row_samples(x, z))[:, 0]

    def row_samples(self, x: jax.Array, z: jax.Array) -> jax.Array:
        return x


class JointCritic(Critic):
    """An MLP on the pair; images are first encoded to ``embedding`` features each."""

    f: eqx.nn.Sequential
    g: eqx.nn.Sequential
    net: eqx.nn.Sequential

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 key: jax.Array):
        super().__init__(shape_x, config, baseline, key)
        key_f, key_g, key_net = jax.random.split(key, 3)
        (self.f, width_x), (self.g, width_z) = (pair_features(shape, config, key)
                                                for shape, key in ((shape_x, key_f), (shape_z, key_g)))
        self.net = mlp(width_x + width_z, config, 1, key_net)

    def features(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(self.f)(x), jax.vmap(self.g)(z)

    def pairs(self, fx: jax.Array, gz: jax.Array) -> jax.Array:
        scores: jax.Array = jnp.vectorize(lambda a, b: self.net(jnp.concatenate([a, b]))[0],
                                          signature="(i),(j)->()")(fx, gz)
        return scores


class SeparableCritic(Critic):
    f: eqx.nn.Sequential
    g: eqx.nn.Sequential

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 key: jax.Array):
        super().__init__(shape_x, config, baseline, key)
        key_f, key_g = jax.random.split(key)
        self.f = encoder(shape_x, config, config.embedding, key_f)
        self.g = encoder(shape_z, config, config.embedding, key_g)

    def features(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(self.f)(x), jax.vmap(self.g)(z)

    def pairs(self, fx: jax.Array, gz: jax.Array) -> jax.Array:
        return (fx * gz).sum(-1)

    def matrix(self, fx: jax.Array, gz: jax.Array) -> jax.Array:
        return fx @ gz.T


class BilinearCritic(SeparableCritic):
    w: jax.Array

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 key: jax.Array):
        super().__init__(shape_x, shape_z, config, baseline, key)
        self.w = jnp.eye(config.embedding, dtype=jnp.float32)

    def features(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(self.f)(x) @ self.w, jax.vmap(self.g)(z)


class ConditionalCritic(Critic):
    """q(z | x) = N(mean(x), diag exp(log_variance(x))): rows are z, columns the (mean, log-variance) of x."""

    f: eqx.nn.Sequential

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 key: jax.Array):
        super().__init__(shape_z, config, baseline, key)
        self.f = encoder(shape_x, config, 2 * math.prod(shape_z), key)

    def features(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return z, jax.vmap(self.f)(x)

    def pairs(self, z: jax.Array, moments: jax.Array) -> jax.Array:
        mean, raw = jnp.split(moments, 2, axis=-1)
        log_variance = LOG_VARIANCE_LIMIT * jnp.tanh(raw / LOG_VARIANCE_LIMIT)
        return -0.5 * ((z - mean) ** 2 * jnp.exp(-log_variance) + log_variance + LOG_2PI).sum(-1)

    def row_samples(self, x: jax.Array, z: jax.Array) -> jax.Array:
        return z


class ClassifierCritic(Critic):
    """q(z | x) over C classes: rows are log q(. | x), columns one-hot labels z (C,)."""

    f: eqx.nn.Sequential

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 key: jax.Array):
        super().__init__(shape_x, config, baseline, key)
        self.f = encoder(shape_x, config, math.prod(shape_z), key)

    def features(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.nn.log_softmax(jax.vmap(self.f)(x), axis=-1), z

    def pairs(self, log_q: jax.Array, z: jax.Array) -> jax.Array:
        return (log_q * z).sum(-1)

    def matrix(self, log_q: jax.Array, z: jax.Array) -> jax.Array:
        return log_q @ z.T


class ModuleCritic(Critic):
    """Your equinox module as the critic: ``module(x, z)`` on a whole batch gives the (N, N) scores, or
    embeddings (f(x), g(z)). Its arrays are the critic's parameters (``jax.lax.stop_gradient`` inside
    it freezes a part)."""

    module: Callable[..., Any]  # an equinox.Module (build_critic checks)
    shapes: tuple[tuple[int, ...], tuple[int, ...]] = eqx.field(static=True)

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool,
                 key: jax.Array):
        super().__init__(shape_x, config, baseline, key)
        assert config.module is not None  # kind "module" holds one (CriticConfig checks)
        self.module, self.shapes = config.module.module, (shape_x, shape_z)

    def features(self, x: jax.Array, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        return x, z

    def matrix(self, x: jax.Array, z: jax.Array) -> jax.Array:
        scores = self.module(x, z)
        matrix: jax.Array = scores[0] @ scores[1].T if isinstance(scores, tuple) else scores
        return matrix

    def pairs(self, x: jax.Array, z: jax.Array) -> jax.Array:
        (shape_x, shape_z), (rank_x, rank_z) = self.shapes, (len(s) for s in self.shapes)
        batch = jnp.broadcast_shapes(x.shape[: x.ndim - rank_x], z.shape[: z.ndim - rank_z])
        x, z = jnp.broadcast_to(x, batch + shape_x), jnp.broadcast_to(z, batch + shape_z)
        embeddings = self.module(x.reshape(-1, *shape_x), z.reshape(-1, *shape_z))
        if not isinstance(embeddings, tuple):
            raise invalid("critic", "a module returning embeddings (f(x), g(z)) for sampled negatives or several "
                          "devices (a module returning the (N, N) matrix works on whole batches only)", type(self.module))
        paired: jax.Array = (embeddings[0] * embeddings[1]).sum(-1).reshape(batch)
        return paired


LOG_2PI = math.log(2 * math.pi)
# A variance of e^-10 to e^10 on standardised data: wide enough for any conditional the data
# allow, and no step of the likelihood's fit can send it to zero or infinity.
LOG_VARIANCE_LIMIT = 10.0
BASELINE_STREAM = 0x62617365  # fold_in's data for the baseline network's key ("base")
CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic,
           "conditional": ConditionalCritic, "classifier": ClassifierCritic, "module": ModuleCritic}


def build_critic(shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig,
                 key: jax.Array, baseline: bool = False) -> Critic:
    """The critic ``config`` describes for samples of these shapes (channels-last images), from ``key``;
    ``baseline``: with a network for each row's log-baseline. A module of your own keeps its arrays
    (nothing is re-initialised); ``key`` draws only the baseline network."""
    if config.module is not None and not isinstance(config.module.module, eqx.Module):  # kind "module"
        raise invalid("critic", "an equinox.Module for backend 'jax'", type(config.module.module),
                      error=InvalidTypeError)
    return CRITICS[config.kind](shape_x, shape_z, config, baseline, key)
