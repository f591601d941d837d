"""The array operations the core needs from a framework.

Every bound, the EMA and the clipping rule are written once against this protocol; each adapter
supplies an object that implements it for its own arrays. Anything differentiable must keep the
framework's autodiff intact: ``stop_gradient`` is the only operation that cuts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

Array = Any


class ArrayOps(Protocol):
    def mean(self, x: Array) -> Array: ...

    def sum(self, x: Array) -> Array: ...

    def exp(self, x: Array) -> Array: ...

    def sqrt(self, x: Array) -> Array: ...

    def logsumexp(self, x: Array, axis: int | None = None) -> Array:
        """Max-shifted log-sum-exp over one axis, or over every entry when ``axis`` is None."""

    def softplus(self, x: Array) -> Array:
        """log(1 + exp(x)), stable for large |x|, with gradient exactly sigmoid(x)."""

    def clip(self, x: Array, low: float, high: float) -> Array: ...

    def logaddexp(self, x: Array, y: Array) -> Array:
        """log(exp(x) + exp(y)), elementwise, stable; -inf in one argument gives the other."""

    def log1p(self, x: Array) -> Array:
        """log(1 + x), accurate for small |x|."""

    def minimum(self, x: Array, y: Array) -> Array: ...

    def where(self, condition: Array, x: Array, y: Array) -> Array: ...

    def isnan(self, x: Array) -> Array: ...

    def stack(self, xs: Sequence[Array]) -> Array: ...

    def concat(self, xs: Sequence[Array], axis: int) -> Array: ...

    def reshape(self, x: Array, shape: tuple[int, ...]) -> Array: ...

    def diagonal(self, x: Array, offset: int = 0) -> Array:
        """The entries ``x[i, i + offset]`` of an (n, m) matrix, as an (n,) array."""

    def diagonal_mask(self, x: Array, offset: int = 0) -> Array:
        """A boolean array of ``x``'s (n, m) shape, True exactly at the entries ``[i, i + offset]``."""

    def upcast(self, x: Array) -> Array:
        """``x`` in float32 when its dtype is narrower (float16, bfloat16), else ``x`` itself."""

    def full_like(self, x: Array, value: float) -> Array:
        """A scalar of ``x``'s dtype and device holding ``value``."""

    def stop_gradient(self, x: Array) -> Array: ...
