from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mivb.errors import InvalidTypeError, Shown, invalid

name = "torch"
capabilities: frozenset[str] = frozenset({"autodiff", "trains", "compiles"})
array_types = (torch.Tensor,)


class TorchOps:
    def mean(self, x: Tensor) -> Tensor: return torch.mean(x)
    def sum(self, x: Tensor) -> Tensor: return torch.sum(x)
    def exp(self, x: Tensor) -> Tensor: return torch.exp(x)
    def sqrt(self, x: Tensor) -> Tensor: return torch.sqrt(x)
    def logsumexp(self, x: Tensor, axis: int | None = None) -> Tensor:
        return torch.logsumexp(x.reshape(-1) if axis is None else x, 0 if axis is None else axis)
    def softplus(self, x: Tensor) -> Tensor: return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))
    def clip(self, x: Tensor, low: float, high: float) -> Tensor: return torch.clamp(x, low, high)
    def logaddexp(self, x: Tensor, y: Tensor) -> Tensor: return torch.logaddexp(x, y)
    def log1p(self, x: Tensor) -> Tensor: return torch.log1p(x)
    def minimum(self, x: Tensor, y: Tensor) -> Tensor: return torch.minimum(x, y)
    def where(self, condition: Tensor, x: Tensor, y: Tensor) -> Tensor: return torch.where(condition, x, y)
    def isnan(self, x: Tensor) -> Tensor: return torch.isnan(x)
    def stack(self, xs: Sequence[Tensor]) -> Tensor: return torch.stack(list(xs))
    def concat(self, xs: Sequence[Tensor], axis: int) -> Tensor: return torch.cat(list(xs), dim=axis)
    def reshape(self, x: Tensor, shape: tuple[int, ...]) -> Tensor: return torch.reshape(x, shape)
    def diagonal(self, x: Tensor, offset: int = 0) -> Tensor: return torch.diagonal(x, offset)
    def diagonal_mask(self, x: Tensor, offset: int = 0) -> Tensor:
        build = _diagonal_mask.__wrapped__ if torch.compiler.is_compiling() else _diagonal_mask  # compiled: in the graph
        return build(x.shape[0], x.shape[1], offset, x.device)
    def upcast(self, x: Tensor) -> Tensor: return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    def full_like(self, x: Tensor, value: float) -> Tensor: return torch.full((), value, dtype=x.dtype, device=x.device)
    def stop_gradient(self, x: Tensor) -> Tensor: return x.detach()


@functools.lru_cache(maxsize=64)
def _diagonal_mask(rows: int, columns: int, offset: int, device: torch.device) -> Tensor:
    # Cached: built afresh, it would cost kernel launches every step in eager mode.
    mask = torch.zeros(rows, columns, dtype=torch.bool, device=device)
    mask.diagonal(offset).fill_(True)
    return mask


ops = TorchOps()


def to_numpy(x: Tensor, argument: str = "x") -> np.ndarray:
    if x.is_nested:
        raise invalid(argument, "a regular tensor of shape (n, d), not a nested (ragged) one: pad it "
                      "(torch.nested.to_padded_tensor) or stack samples of equal shape",
                      Shown(f"nested Tensor(dtype={x.dtype})"), error=InvalidTypeError)
    if x.layout != torch.strided:
        raise invalid(argument, "a dense tensor: call .to_dense() first", _shown(x, f"layout={x.layout}"),
                      error=InvalidTypeError)
    if x.is_meta:
        raise invalid(argument, "a tensor holding values on a real device such as 'cpu' or 'cuda' (a meta tensor "
                      "has a shape but no data)", _shown(x, "device=meta"))
    if x.is_quantized:
        raise invalid(argument, "a floating-point tensor, not a quantized one: call .dequantize() first", x,
                      error=InvalidTypeError)
    if x.is_floating_point() and x.element_size() < 4:
        x = x.float()  # bfloat16, float8: NumPy has no such dtypes; float32 holds them exactly
    return x.detach().cpu().numpy()


def _shown(x: Tensor, detail: str) -> Shown:
    return Shown(f"Tensor(shape={tuple(x.shape)}, dtype={x.dtype}, {detail})")


def from_numpy(x: Any, like: Tensor | None = None) -> Tensor:
    return torch.as_tensor(np.asarray(x), device=None if like is None else like.device)


def value_and_grad(fn: Callable[..., Tensor], *args: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
    leaves = [a.detach().requires_grad_(True) for a in args]
    value = fn(*leaves)
    return value, torch.autograd.grad(value, leaves, materialize_grads=True)  # an unused input: zeros
