"""The NumPy backend: every bound on NumPy arrays through the shared code; no autodiff, no training."""

from __future__ import annotations

from typing import Any

import numpy as np

name = "numpy"
capabilities = frozenset()
array_types = (np.ndarray, np.generic)


class NumpyOps:
    def mean(self, x): return np.mean(x)
    def sum(self, x): return np.sum(x)
    def exp(self, x): return np.exp(x)
    def sqrt(self, x): return np.sqrt(x)
    def softplus(self, x): return np.logaddexp(np.zeros((), x.dtype), x)
    def clip(self, x, low, high): return np.clip(x, low, high)
    def logaddexp(self, x, y): return np.logaddexp(x, y)
    def log1p(self, x): return np.log1p(x)
    def minimum(self, x, y): return np.minimum(x, y)
    def where(self, condition, x, y): return np.where(condition, x, y)
    def isnan(self, x): return np.isnan(x)
    def stack(self, xs): return np.stack(xs)
    def concat(self, xs, axis): return np.concatenate(xs, axis=axis)
    def reshape(self, x, shape): return np.reshape(x, shape)
    def diagonal(self, x, offset=0): return np.diagonal(x, offset)
    def diagonal_mask(self, x, offset=0): return np.eye(x.shape[0], x.shape[1], offset, dtype=bool)
    def upcast(self, x): return x.astype(np.float32) if x.dtype == np.float16 else x
    def full_like(self, x, value): return np.asarray(value, dtype=np.result_type(x))
    def stop_gradient(self, x): return x

    def logsumexp(self, x, axis=None):
        peak = np.max(x, axis=axis, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)
        out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
        return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


ops = NumpyOps()


def to_numpy(x: Any, argument: str = "x") -> np.ndarray:
    return np.asarray(x)


def from_numpy(x: np.ndarray, like: Any = None) -> np.ndarray:
    return np.asarray(x)

