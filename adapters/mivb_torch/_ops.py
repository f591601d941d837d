from __future__ import annotations

import functools

import numpy as np
import torch

from mivb.errors import InvalidTypeError, Shown, invalid

name = "torch"
capabilities = frozenset({"autodiff", "trains"})
array_types = (torch.Tensor,)


class TorchOps:
    def mean(self, x): return torch.mean(x)
    def sum(self, x): return torch.sum(x)
    def exp(self, x): return torch.exp(x)
    def sqrt(self, x): return torch.sqrt(x)
    def logsumexp(self, x, axis=None): return torch.logsumexp(x.reshape(-1) if axis is None else x, 0 if axis is None else axis)
    def softplus(self, x): return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))
    def clip(self, x, low, high): return torch.clamp(x, low, high)
    def logaddexp(self, x, y): return torch.logaddexp(x, y)
    def log1p(self, x): return torch.log1p(x)
    def minimum(self, x, y): return torch.minimum(x, y)
    def where(self, condition, x, y): return torch.where(condition, x, y)
    def isnan(self, x): return torch.isnan(x)
    def stack(self, xs): return torch.stack(list(xs))
    def concat(self, xs, axis): return torch.cat(list(xs), dim=axis)
    def reshape(self, x, shape): return torch.reshape(x, shape)
    def diagonal(self, x, offset=0): return torch.diagonal(x, offset)
    def diagonal_mask(self, x, offset=0):
        build = _diagonal_mask.__wrapped__ if torch.compiler.is_compiling() else _diagonal_mask  # compiled: in the graph
        return build(x.shape[0], x.shape[1], offset, x.device)
    def upcast(self, x): return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    def full_like(self, x, value): return torch.full((), value, dtype=x.dtype, device=x.device)
    def stop_gradient(self, x): return x.detach()


@functools.lru_cache(maxsize=64)
def _diagonal_mask(rows, columns, offset, device):
    # Cached: built afresh, it would cost kernel launches every step in eager mode.
    mask = torch.zeros(rows, columns, dtype=torch.bool, device=device)
    mask.diagonal(offset).fill_(True)
    return mask


ops = TorchOps()


def to_numpy(x, argument="x"):
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


def _shown(x, detail):
    return Shown(f"Tensor(shape={tuple(x.shape)}, dtype={x.dtype}, {detail})")


def from_numpy(x, like=None):
    return torch.as_tensor(np.asarray(x), device=None if like is None else like.device)


def value_and_grad(fn, *args):
    args = [a.detach().requires_grad_(True) for a in args]
    value = fn(*args)
    return value, torch.autograd.grad(value, args, materialize_grads=True)  # an unused input: zeros
