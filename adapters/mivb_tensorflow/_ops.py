from __future__ import annotations

import numpy as np
import tensorflow as tf

name = "tensorflow"
capabilities = frozenset({"autodiff", "trains"})
array_types = (tf.Tensor, tf.Variable)


class TensorFlowOps:
    def mean(self, x): return tf.reduce_mean(x)
    def sum(self, x): return tf.reduce_sum(x)
    def exp(self, x): return tf.exp(x)
    def sqrt(self, x): return tf.sqrt(x)
    def logsumexp(self, x, axis=None): return tf.reduce_logsumexp(x, axis=axis)  # max-shifted
    def softplus(self, x): return tf.nn.softplus(x)  # its registered gradient is sigmoid(x)
    def clip(self, x, low, high): return tf.clip_by_value(x, low, high)
    def logaddexp(self, x, y):
        shape = tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(y))
        return tf.reduce_logsumexp(tf.stack([tf.broadcast_to(x, shape), tf.broadcast_to(y, shape)]), axis=0)

    def log1p(self, x): return tf.math.log1p(x)
    def minimum(self, x, y): return tf.minimum(x, y)
    def where(self, condition, x, y): return tf.where(condition, x, y)
    def isnan(self, x): return tf.math.is_nan(x)
    def stack(self, xs): return tf.stack(list(xs))
    def concat(self, xs, axis): return tf.concat(list(xs), axis=axis)
    def reshape(self, x, shape): return tf.reshape(x, shape)
    def diagonal(self, x, offset=0): return tf.linalg.diag_part(x, k=offset)
    def diagonal_mask(self, x, offset=0):
        shape = tf.shape(x)
        return tf.range(shape[1])[None, :] - tf.range(shape[0])[:, None] == offset
    def upcast(self, x): return tf.cast(x, tf.float32) if x.dtype in (tf.float16, tf.bfloat16) else x
    def full_like(self, x, value): return tf.constant(value, dtype=x.dtype)
    def stop_gradient(self, x): return tf.stop_gradient(x)


ops = TensorFlowOps()


def to_numpy(x, argument="x"):
    return np.asarray(x)


def from_numpy(x, like=None):
    if like is None:
        return tf.convert_to_tensor(np.asarray(x))
    with tf.device(like.device):
        return tf.identity(np.asarray(x))


def value_and_grad(fn, *args):
    args = [tf.convert_to_tensor(a) for a in args]
    with tf.GradientTape() as tape:
        tape.watch(args)
        value = fn(*args)
    return value, tuple(tape.gradient(value, args, unconnected_gradients=tf.UnconnectedGradients.ZERO))
