from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from mivb.ops import Array  # Any: TensorFlow ships no type information

name = "tensorflow"
capabilities: frozenset[str] = frozenset({"autodiff", "trains"})
array_types = (tf.Tensor, tf.Variable)


class TensorFlowOps:
    def mean(self, x: Array) -> Array: return tf.reduce_mean(x)
    def sum(self, x: Array) -> Array: return tf.reduce_sum(x)
    def exp(self, x: Array) -> Array: return tf.exp(x)
    def sqrt(self, x: Array) -> Array: return tf.sqrt(x)
    def logsumexp(self, x: Array, axis: int | None = None) -> Array:
        return tf.reduce_logsumexp(x, axis=axis)  # max-shifted
    def softplus(self, x: Array) -> Array: return tf.nn.softplus(x)  # its registered gradient is sigmoid(x)
    def clip(self, x: Array, low: float, high: float) -> Array: return tf.clip_by_value(x, low, high)
    def logaddexp(self, x: Array, y: Array) -> Array:
        shape = tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(y))
        return tf.reduce_logsumexp(tf.stack([tf.broadcast_to(x, shape), tf.broadcast_to(y, shape)]), axis=0)

    def log1p(self, x: Array) -> Array: return tf.math.log1p(x)
    def minimum(self, x: Array, y: Array) -> Array: return tf.minimum(x, y)
    def where(self, condition: Array, x: Array, y: Array) -> Array: return tf.where(condition, x, y)
    def isnan(self, x: Array) -> Array: return tf.math.is_nan(x)
    def stack(self, xs: Sequence[Array]) -> Array: return tf.stack(list(xs))
    def concat(self, xs: Sequence[Array], axis: int) -> Array: return tf.concat(list(xs), axis=axis)
    def reshape(self, x: Array, shape: tuple[int, ...]) -> Array: return tf.reshape(x, shape)
    def diagonal(self, x: Array, offset: int = 0) -> Array: return tf.linalg.diag_part(x, k=offset)
    def diagonal_mask(self, x: Array, offset: int = 0) -> Array:
        shape = tf.shape(x)
        return tf.range(shape[1])[None, :] - tf.range(shape[0])[:, None] == offset
    def upcast(self, x: Array) -> Array: return tf.cast(x, tf.float32) if x.dtype in (tf.float16, tf.bfloat16) else x
    def full_like(self, x: Array, value: float) -> Array: return tf.constant(value, dtype=x.dtype)
    def stop_gradient(self, x: Array) -> Array: return tf.stop_gradient(x)


ops = TensorFlowOps()


def to_numpy(x: Array, argument: str = "x") -> np.ndarray:
    return np.asarray(x)


def from_numpy(x: Any, like: Array = None) -> Array:
    if like is None:
        return tf.convert_to_tensor(np.asarray(x))
    with tf.device(like.device):
        return tf.identity(np.asarray(x))


def value_and_grad(fn: Callable[..., Array], *args: Array) -> tuple[Array, tuple[Array, ...]]:
    tensors = [tf.convert_to_tensor(a) for a in args]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        value = fn(*tensors)
    return value, tuple(tape.gradient(value, tensors, unconnected_gradients=tf.UnconnectedGradients.ZERO))
