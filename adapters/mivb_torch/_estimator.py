from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import numpy as np
import torch
from torch import nn

from mivb.bounds import check_bound_params, training_objective
from mivb.clipping import clip_scale, global_norm
from mivb.critics import CriticConfig, check_negative_samples, critic_config
from mivb.ema import EmaState, check_decay
from mivb.errors import invalid
from mivb.schedule import batch_schedule, check_positive_int, feature_shape
from mivb.scores import split_full_matrix

from ._critics import build_critic
from ._ops import ops


class MIOutput(NamedTuple):
    mi: torch.Tensor
    mi_for_grads: torch.Tensor


class MIEstimator(nn.Module):
    """A trainable MI estimator for PyTorch training code.

    Calling it on a batch returns ``MIOutput(mi, mi_for_grads)``: the bound's value (detached) and
    the differentiable term to add to a loss, whose gradient is the one BOUNDS.md prescribes (for
    ``mine``, the EMA-corrected surrogate). :meth:`update` takes one optimiser step on the critic.
    The critic, MINE's EMA (buffer ``log_ema``) and the optimiser state are all in ``state_dict``.

    Args:
        dim_x, dim_z: feature sizes of x and z, or their shapes per sample ((C, H, W) for images).
        bound: ``dv``, ``mine``, ``nwj``, ``infonce``, ``js`` or ``smile``.
        critic: ``"joint"``, ``"separable"``, ``"bilinear"``, a mapping or a ``mivb.CriticConfig``.
        lr: the critic's Adam learning rate.
        ema_decay: MINE's moving-average decay, in (0, 1).
        **bound_params: ``clip`` for ``smile``.

    Example::

        estimator = MIEstimator(dim_x=2, dim_z=8, bound="mine")
        for x, z in loader:
            mi, mi_for_grads = estimator(x, z)
            scale = adaptive_clip_scale(loss, mi_for_grads, model.parameters())
            (loss - beta * scale * mi_for_grads).backward()  # maximise MI
            ...
            estimator.update(x, z)
    """

    def __init__(
        self,
        dim_x: int | tuple[int, ...],
        dim_z: int | tuple[int, ...],
        *,
        bound: str = "mine",
        critic: str | CriticConfig | dict[str, Any] = "separable",
        lr: float = 1e-4,
        ema_decay: float = 0.99,
        **bound_params: Any,
    ):
        super().__init__()
        self.bound = bound
        self.bound_params = check_bound_params(bound, bound_params)
        self.bound_params.pop("log_ema", None)
        self.config = critic_config(critic)
        self.ema_decay = check_decay(ema_decay)
        self.critic = build_critic(feature_shape("dim_x", dim_x), feature_shape("dim_z", dim_z), self.config)
        self.register_buffer("log_ema", torch.tensor(float("nan")))
        self.optimizer = torch.optim.Adam(self.critic.parameters(), lr=lr)

    def scores(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None):
        """Positive (N,) and negative (N, K) scores of a batch."""
        k = self.config.negative_samples
        if k is None:
            return split_full_matrix(ops, self.critic(x, z))
        if shifts is None:
            check_negative_samples(self.config, x.shape[0])
            shifts = torch.randperm(x.shape[0] - 1, device=x.device)[:k] + 1
        return self.critic.sampled(x, z, shifts)

    def objective(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None):
        _check_batch(x, z)
        pos, neg = self.scores(x, z, shifts)
        state = EmaState(self.log_ema)
        return training_objective(ops, self.bound, pos, neg, self.bound_params, state, self.ema_decay)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> MIOutput:
        value, mi_for_grads, _ = self.objective(x, z)
        return MIOutput(value.detach(), mi_for_grads)

    def update(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None) -> torch.Tensor:
        """One critic step on the batch (maximising the bound); returns the bound's value before it."""
        value, mi_for_grads, ema = self.objective(x.detach(), z.detach(), shifts)
        self.optimizer.zero_grad(set_to_none=True)
        (-mi_for_grads).backward()
        self.reduce_gradients()
        self.optimizer.step()
        if self.bound == "mine":  # the only bound with a moving average
            with torch.no_grad():
                self.log_ema.copy_(ema.log_ema)
        return value.detach()

    def reduce_gradients(self) -> None:
        """Combine the critic's gradients across processes before a step; nothing on one device."""

    def fit(self, x: Any, z: Any, *, steps: int = 1000, batch_size: int = 128, seed: int | None = None) -> torch.Tensor:
        """Train the critic on static data (NumPy arrays or tensors); returns the value at each step."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        batches = batch_schedule(np.random.default_rng(seed), x.shape[0], batch_size, steps)
        index = torch.as_tensor(batches, device=x.device)
        return torch.stack([self.update(x[i], z[i]) for i in index])

    @torch.no_grad()
    def evaluate(self, x: Any, z: Any, *, batch_size: int = 128) -> float:
        """The bound on new data, averaged over consecutive batches; the EMA is left untouched."""
        x, z = self._as_tensor(x), self._as_tensor(z)
        batch_size = min(check_positive_int("batch_size", batch_size), x.shape[0])
        values = [self.objective(x[i : i + batch_size], z[i : i + batch_size])[0]
                  for i in range(0, x.shape[0] - batch_size + 1, batch_size)]
        return float(torch.stack(values).mean())

    def get_extra_state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "config": self.config.to_dict(), "bound": self.bound}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        saved = (state["bound"], state["config"])
        if saved != (self.bound, self.config.to_dict()):
            raise invalid("state_dict", f"an estimator with bound={self.bound!r}, critic={self.config}", saved)
        self.optimizer.load_state_dict(state["optimizer"])

    def _as_tensor(self, a: Any) -> torch.Tensor:
        parameter = next(self.critic.parameters())
        tensor = torch.as_tensor(a, dtype=parameter.dtype, device=parameter.device)
        return tensor[:, None] if tensor.ndim == 1 else tensor


def _check_batch(x: torch.Tensor, z: torch.Tensor) -> None:
    if x.ndim < 2 or z.ndim < 2 or x.shape[0] != z.shape[0]:
        raise invalid("x, z", "batches of shape (N, ...) with the same N", (tuple(x.shape), tuple(z.shape)))
    if x.shape[0] < 2:
        raise invalid("x", "a batch of N >= 2 samples", x)


def adaptive_clip_scale(loss: torch.Tensor, mi: torch.Tensor, params: Iterable[torch.Tensor]) -> torch.Tensor:
    """The factor of ``loss + beta * scale * mi`` (MINE's adaptive gradient clipping, BOUNDS.md).

    Gradients of ``loss`` and ``mi`` with respect to ``params`` are taken without consuming the
    graph; the factor carries no gradient.
    """
    params = [p for p in params if p.requires_grad]
    grads = [torch.autograd.grad(term, params, retain_graph=True, allow_unused=True) for term in (loss, mi)]
    norms = [global_norm(ops, [torch.zeros_like(p) if g is None else g for g, p in zip(gs, params)]) for gs in grads]
    return clip_scale(ops, *norms)
