from __future__ import annotations

import jax
import numpy as np

from mivb.errors import invalid
from mivb.estimate import EstimateConfig

from ._estimator import MIEstimator, MIState, evaluate_batches, train_steps

PLATFORMS = {"cpu": "cpu", "gpu": "gpu", "cuda": "gpu"}


def resolve_device(device: str | None) -> jax.Device:
    name = "cpu" if device is None else device
    platform, _, number = name.partition(":") if isinstance(name, str) else ("", "", "")
    if platform not in PLATFORMS or not (number == "" or number.isdigit()):
        raise invalid("device", "'cpu', 'gpu', 'cuda' or 'cuda:N'", device)
    try:
        devices = jax.devices(PLATFORMS[platform])
    except RuntimeError:
        raise invalid("device", "'cpu' (JAX sees no GPU here; a GPU needs jax[cuda12])", device) from None
    if int(number or 0) >= len(devices):
        raise invalid("device", f"one of the {len(devices)} {platform} devices JAX sees", device)
    return devices[int(number or 0)]


class Trainer:
    """What ``mivb.estimate`` drives: the data on the device once, each chunk of steps one compiled scan."""

    def __init__(self, config: EstimateConfig, x: np.ndarray, z: np.ndarray):
        self.device = resolve_device(config.device)
        self.estimator = MIEstimator(
            x.shape[1:], z.shape[1:], bound=config.bound, critic=config.critic,
            lr=config.learning_rate, ema_decay=config.ema_decay, **config.bound_params,
        )
        with jax.default_device(self.device):
            self.state = self.estimator.init(jax.random.key(config.seed))
        self.x, self.z = self._put(x), self._put(z)

    def snapshot(self) -> MIState:
        return self.state  # immutable arrays: holding the pytree is the copy

    def restore(self, snapshot: MIState) -> None:
        self.state = snapshot

    def _put(self, a: np.ndarray | None) -> jax.Array | None:
        return jax.device_put(a, self.device)

    def train(self, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        self.state, values = train_steps(self.estimator, self.state, self.x, self.z, self._put(batches),
                                         self._put(shifts))
        return np.asarray(values)

    def evaluate(self, x: np.ndarray, z: np.ndarray, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        return np.asarray(evaluate_batches(self.estimator, self.state, self._put(x), self._put(z),
                                           self._put(batches), self._put(shifts)))
