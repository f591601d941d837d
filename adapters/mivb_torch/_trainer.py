from __future__ import annotations

import copy

import numpy as np
import torch

from mivb.errors import invalid
from mivb.estimate import EstimateConfig

from ._estimator import MIEstimator


def resolve_device(device: str | None) -> torch.device:
    try:
        resolved = torch.device(device or "cpu")
    except (RuntimeError, TypeError):
        raise invalid("device", "'cpu', 'cuda' or 'cuda:N'", device) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise invalid("device", "'cpu' (torch sees no CUDA device here)", device)
    return resolved


class Trainer:
    """What ``mivb.estimate`` drives: an :class:`MIEstimator` over data held on the device."""

    def __init__(self, config: EstimateConfig, x: np.ndarray, z: np.ndarray):
        self.device = resolve_device(config.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.estimator = MIEstimator(
                x.shape[1:], z.shape[1:], bound=config.bound, critic=config.critic,
                lr=config.learning_rate, ema_decay=config.ema_decay, **config.bound_params,
            ).to(self.device)
        self.x, self.z = self._put(x), self._put(z)

    def snapshot(self) -> dict:
        return copy.deepcopy(self.estimator.state_dict())

    def restore(self, snapshot: dict) -> None:
        self.estimator.load_state_dict(snapshot)

    def _put(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, device=self.device)

    def train(self, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        index = self._put(batches)
        shifts = None if shifts is None else self._put(shifts)
        values = [self.estimator.update(self.x[i], self.z[i], None if shifts is None else shifts[s])
                  for s, i in enumerate(index)]
        return torch.stack(values).cpu().numpy()

    @torch.no_grad()
    def evaluate(self, x: np.ndarray, z: np.ndarray, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        x, z, index = self._put(x), self._put(z), self._put(batches)
        shifts = None if shifts is None else self._put(shifts)
        values = [self.estimator.objective(x[i], z[i], None if shifts is None else shifts[s])[0]
                  for s, i in enumerate(index)]
        return torch.stack(values).cpu().numpy()
