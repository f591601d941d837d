from __future__ import annotations

import numpy as np
import torch

name = "torch"
differentiable = True


class TorchOps:
    def mean(self, x): return torch.mean(x)
    def sum(self, x): return torch.sum(x)
    def exp(self, x): return torch.exp(x)
    def log(self, x): return torch.log(x)
    def sqrt(self, x): return torch.sqrt(x)
    def logsumexp(self, x, axis=None): return torch.logsumexp(x.reshape(-1) if axis is None else x, 0 if axis is None else axis)
    def softplus(self, x): return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))
    def clip(self, x, low, high): return torch.clamp(x, low, high)
    def minimum(self, x, y): return torch.minimum(x, y)
    def where(self, condition, x, y): return torch.where(condition, x, y)
    def isnan(self, x): return torch.isnan(x)
    def stack(self, xs): return torch.stack(list(xs))
    def concat(self, xs, axis): return torch.cat(list(xs), dim=axis)
    def reshape(self, x, shape): return torch.reshape(x, shape)
    def diagonal(self, x): return torch.diagonal(x).contiguous()
    def full_like(self, x, value): return torch.full((), value, dtype=x.dtype, device=x.device)
    def stop_gradient(self, x): return x.detach()


ops = TorchOps()


def to_numpy(x):
    return x.detach().cpu().numpy()


def from_numpy(x, like=None):
    return torch.as_tensor(np.asarray(x), device=None if like is None else like.device)


def value_and_grad(fn, *args):
    args = [a.detach().requires_grad_(True) for a in args]
    value = fn(*args)
    return value, torch.autograd.grad(value, args)
