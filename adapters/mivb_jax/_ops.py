from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from mivb.errors import InvalidTypeError, invalid

name = "jax"
capabilities: frozenset[str] = frozenset({"autodiff", "trains", "shards"})
array_types = (jax.Array,)


class JaxOps:
    def mean(self, x: Array) -> Array: return jnp.mean(x)
    def sum(self, x: Array) -> Array: return jnp.sum(x)
    def exp(self, x: Array) -> Array: return jnp.exp(x)
    def sqrt(self, x: Array) -> Array: return jnp.sqrt(x)
    def logsumexp(self, x: Array, axis: int | None = None) -> Array: return jax.nn.logsumexp(x, axis=axis)
    def softplus(self, x: Array) -> Array: return jax.nn.softplus(x)
    def clip(self, x: Array, low: float, high: float) -> Array: return jnp.clip(x, low, high)
    def logaddexp(self, x: Array, y: Array) -> Array: return jnp.logaddexp(x, y)
    def log1p(self, x: Array) -> Array: return jnp.log1p(x)
    def minimum(self, x: Array, y: Array) -> Array: return jnp.minimum(x, y)
    def where(self, condition: Array, x: Array, y: Array) -> Array: return jnp.where(condition, x, y)
    def isnan(self, x: Array) -> Array: return jnp.isnan(x)
    def stack(self, xs: Sequence[Array]) -> Array: return jnp.stack(list(xs))
    def concat(self, xs: Sequence[Array], axis: int) -> Array: return jnp.concatenate(list(xs), axis=axis)
    def reshape(self, x: Array, shape: tuple[int, ...]) -> Array: return jnp.reshape(x, shape)
    def diagonal(self, x: Array, offset: int = 0) -> Array:
        entries: Array = jnp.diagonal(x, offset)  # typed Any by JAX
        return entries
    def diagonal_mask(self, x: Array, offset: int = 0) -> Array:
        return jnp.eye(x.shape[0], x.shape[1], offset, dtype=bool)
    def upcast(self, x: Array) -> Array: return x.astype(jnp.float32) if x.dtype in (jnp.float16, jnp.bfloat16) else x
    def full_like(self, x: Array, value: float) -> Array: return jnp.full((), value, dtype=x.dtype)
    def stop_gradient(self, x: Array) -> Array: return jax.lax.stop_gradient(x)


ops = JaxOps()


def to_numpy(x: Array, argument: str = "x") -> np.ndarray:
    return np.asarray(x)


def from_numpy(x: Any, like: Array | None = None) -> Array:
    x = np.asarray(x)
    # JAX's options are attributes set at run time, which its type information does not list.
    if x.dtype == np.float64 and not jax.config.jax_enable_x64:  # type: ignore[attr-defined]
        # JAX would silently round to float32; docs/bounds.md computes float64 inputs in float64.
        raise invalid("x", "float32 data, or float64 with JAX's 64-bit mode on "
                      "(jax.config.update('jax_enable_x64', True) or JAX_ENABLE_X64=1)", x, error=InvalidTypeError)
    placed: Array = jax.device_put(x, None if like is None else next(iter(like.devices())))
    return placed


def value_and_grad(fn: Callable[..., Array], *args: Array) -> tuple[Array, tuple[Array, ...]]:
    value: Array
    gradients: tuple[Array, ...]
    value, gradients = jax.value_and_grad(fn, argnums=tuple(range(len(args))))(*args)
    return value, gradients
