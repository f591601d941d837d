from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mivb.errors import InvalidTypeError, invalid

name = "jax"
capabilities = frozenset({"autodiff", "trains", "shards"})
array_types = (jax.Array,)


class JaxOps:
    def mean(self, x): return jnp.mean(x)
    def sum(self, x): return jnp.sum(x)
    def exp(self, x): return jnp.exp(x)
    def sqrt(self, x): return jnp.sqrt(x)
    def logsumexp(self, x, axis=None): return jax.nn.logsumexp(x, axis=axis)
    def softplus(self, x): return jax.nn.softplus(x)
    def clip(self, x, low, high): return jnp.clip(x, low, high)
    def logaddexp(self, x, y): return jnp.logaddexp(x, y)
    def log1p(self, x): return jnp.log1p(x)
    def minimum(self, x, y): return jnp.minimum(x, y)
    def where(self, condition, x, y): return jnp.where(condition, x, y)
    def isnan(self, x): return jnp.isnan(x)
    def stack(self, xs): return jnp.stack(list(xs))
    def concat(self, xs, axis): return jnp.concatenate(list(xs), axis=axis)
    def reshape(self, x, shape): return jnp.reshape(x, shape)
    def diagonal(self, x, offset=0): return jnp.diagonal(x, offset)
    def diagonal_mask(self, x, offset=0): return jnp.eye(x.shape[0], x.shape[1], offset, dtype=bool)
    def upcast(self, x): return x.astype(jnp.float32) if x.dtype in (jnp.float16, jnp.bfloat16) else x
    def full_like(self, x, value): return jnp.full((), value, dtype=x.dtype)
    def stop_gradient(self, x): return jax.lax.stop_gradient(x)


ops = JaxOps()


def to_numpy(x, argument="x"):
    return np.asarray(x)


def from_numpy(x, like=None):
    x = np.asarray(x)
    if x.dtype == np.float64 and not jax.config.jax_enable_x64:
        # JAX would silently round to float32; docs/bounds.md computes float64 inputs in float64.
        raise invalid("x", "float32 data, or float64 with JAX's 64-bit mode on "
                      "(jax.config.update('jax_enable_x64', True) or JAX_ENABLE_X64=1)", x, error=InvalidTypeError)
    return jax.device_put(x, None if like is None else next(iter(like.devices())))


def value_and_grad(fn, *args):
    return jax.value_and_grad(fn, argnums=tuple(range(len(args))))(*args)
