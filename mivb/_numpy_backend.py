"""The NumPy backend: every bound on NumPy arrays through the shared code; no autodiff, no training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .ops import Array

name = "numpy"
capabilities: frozenset[str] = frozenset()
array_types = (np.ndarray, np.generic)


# Array (Any) as in mivb.ops.ArrayOps: NumPy's reductions return scalars as often as arrays.
class NumpyOps:
    def mean(self, x: Array) -> Array: return np.mean(x)
    def sum(self, x: Array) -> Array: return np.sum(x)
    def exp(self, x: Array) -> Array: return np.exp(x)
    def sqrt(self, x: Array) -> Array: return np.sqrt(x)
    def softplus(self, x: Array) -> Array: return np.logaddexp(np.zeros((), x.dtype), x)
    def clip(self, x: Array, low: float, high: float) -> Array: return np.clip(x, low, high)
    def logaddexp(self, x: Array, y: Array) -> Array: return np.logaddexp(x, y)
    def log1p(self, x: Array) -> Array: return np.log1p(x)
    def minimum(self, x: Array, y: Array) -> Array: return np.minimum(x, y)
    def where(self, condition: Array, x: Array, y: Array) -> Array: return np.where(condition, x, y)
    def isnan(self, x: Array) -> Array: return np.isnan(x)
    def stack(self, xs: Sequence[Array]) -> Array: return np.stack(xs)
    def concat(self, xs: Sequence[Array], axis: int) -> Array: return np.concatenate(xs, axis=axis)
    def reshape(self, x: Array, shape: tuple[int, ...]) -> Array: return np.reshape(x, shape)
    def diagonal(self, x: Array, offset: int = 0) -> Array: return np.diagonal(x, offset)
    def diagonal_mask(self, x: Array, offset: int = 0) -> Array: return np.eye(x.shape[0], x.shape[1], offset, dtype=bool)
    def upcast(self, x: Array) -> Array: return x.astype(np.float32) if x.dtype == np.float16 else x
    def full_like(self, x: Array, value: float) -> Array: return np.asarray(value, dtype=np.result_type(x))
    def stop_gradient(self, x: Array) -> Array: return x

    def logsumexp(self, x: Array, axis: int | None = None) -> Array:
        peak = np.max(x, axis=axis, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)
        out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
        return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


ops = NumpyOps()


def to_numpy(x: Any, argument: str = "x") -> np.ndarray:
    return np.asarray(x)


def from_numpy(x: np.ndarray, like: Any = None) -> np.ndarray:
    return np.asarray(x)

