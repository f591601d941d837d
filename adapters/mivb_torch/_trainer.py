from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mivb.backends import FeatureShapes
from mivb.errors import invalid
from mivb.result import EstimateConfig

from ._estimator import MIEstimator


def resolve_device(device: str | None) -> torch.device:
    try:  # None: torch's default device ("cpu" unless torch.set_default_device chose another)
        resolved = torch.device(device) if device is not None else torch.get_default_device()
    except (RuntimeError, TypeError):
        raise invalid("device", "'cpu', 'cuda' or 'cuda:N'", device) from None
    if resolved.type not in ("cpu", "cuda"):
        raise invalid("device", "'cpu', 'cuda' or 'cuda:N'", device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise invalid("device", "'cpu' (torch sees no CUDA device here)", device)
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise invalid("device", f"one of the {torch.cuda.device_count()} CUDA devices torch sees", device)
    if resolved.type == "cpu" and resolved.index not in (None, 0):
        raise invalid("device", "'cpu' (torch has one CPU device)", device)
    return resolved


class Trainer:
    """What ``mivb.estimate`` drives: an [`MIEstimator`][] over splits held on the device."""

    def __init__(self, config: EstimateConfig, shapes: FeatureShapes,
                 splits: Mapping[str, tuple[np.ndarray, np.ndarray]]):
        self.device = resolve_device(config.device)
        self.estimator = MIEstimator(*shapes, **config.spec.to_kwargs(), compile=config.compile).to(self.device)
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for name, (x, z) in splits.items():
            self.put(name, x, z)

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.estimator.state_dict())

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.estimator.load_state_dict(snapshot)

    def _put(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, device=self.device)

    def train(self, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        return self.estimator.train_steps(*self.splits["train"], self._put(batches),
                                          None if shifts is None else self._put(shifts)).cpu().numpy()

    def values(self, split: str, batches: np.ndarray, shifts: np.ndarray | None, selection: bool = False) -> np.ndarray:
        return self.estimator.batch_values(*self.splits[split], self._put(batches),
                                           None if shifts is None else self._put(shifts), selection).cpu().numpy()

    def trained(self) -> MIEstimator:
        return self.estimator

    def put(self, split: str, x: np.ndarray, z: np.ndarray) -> None:
        self.splits[split] = (self._put(x), self._put(z))
