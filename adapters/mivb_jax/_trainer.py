from __future__ import annotations

from collections.abc import Mapping

import jax
import numpy as np
from jax.sharding import Mesh

from mivb.backends import FeatureShapes
from mivb.errors import invalid
from mivb.result import EstimateConfig

from ._distributed import ShardedMIEstimator, data_mesh, replicate
from ._estimator import MIEstimator, MIState, Trained

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


def resolve_devices(devices: int | str | None, device: jax.Device, batch_size: int) -> Mesh | None:
    """The mesh for ``devices`` (a count, or "all") of ``device``'s platform; None for one device."""
    if devices is None or devices == 1:
        return None
    available = jax.devices(device.platform)
    if devices == "all":
        devices = len(available)
    if isinstance(devices, bool) or not isinstance(devices, int) or not 1 <= devices <= len(available):
        raise invalid("devices", f"None, 'all' or a count from 1 to the {len(available)} {device.platform} devices "
                      "JAX sees", devices)
    if batch_size % devices:
        raise invalid("batch_size", f"a multiple of devices={devices} (each device holds batch_size / devices pairs)",
                      batch_size)
    return data_mesh(available[:devices]) if devices > 1 else None


class Trainer:
    """What ``mivb.estimate`` drives: the data on the device once, each chunk of steps one compiled scan.

    With ``config.devices`` > 1 every batch is split over that many devices (``ShardedMIEstimator``):
    the same results as one device, the negatives spanning the whole batch.
    """

    def __init__(self, config: EstimateConfig, shapes: FeatureShapes,
                 splits: Mapping[str, tuple[np.ndarray, np.ndarray]]):
        self.device = resolve_device(config.device)
        self.mesh = resolve_devices(config.devices, self.device, config.batch_size)
        options = config.spec.to_kwargs()
        self.estimator: MIEstimator
        if self.mesh is None:
            self.estimator = MIEstimator(*shapes, **options)
        else:
            self.estimator = ShardedMIEstimator(*shapes, mesh=self.mesh, **options)
        with jax.default_device(self.device):
            self.state = self.estimator.init()
        # Committed to the device(s), as the compiled steps return it: an uncommitted first state made
        # the second chunk compile the training loop again (1.3 s on 2 CPU cores for the conv critic).
        self.state = jax.device_put(self.state, self.device) if self.mesh is None else replicate(self.state, self.mesh)
        self.splits: dict[str, tuple[jax.Array, jax.Array]] = {}
        for name, (x, z) in splits.items():
            self.put(name, x, z)

    def snapshot(self) -> MIState:
        return self.state  # immutable arrays: holding the pytree is the copy

    def restore(self, snapshot: MIState) -> None:
        self.state = snapshot

    def _put(self, a: np.ndarray) -> jax.Array:
        placed: jax.Array = jax.device_put(a, self.device) if self.mesh is None else replicate(a, self.mesh)
        return placed

    def train(self, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        self.state, values = self.estimator.train_steps(self.state, *self.splits["train"], self._put(batches),
                                                        None if shifts is None else self._put(shifts))
        return np.asarray(values)

    def values(self, split: str, batches: np.ndarray, shifts: np.ndarray | None, selection: bool = False) -> np.ndarray:
        return np.asarray(self.estimator.batch_values(self.state, *self.splits[split], self._put(batches),
                                                      None if shifts is None else self._put(shifts), selection))

    def trained(self) -> Trained:
        return Trained(self.estimator, self.state)

    def put(self, split: str, x: np.ndarray, z: np.ndarray) -> None:
        self.splits[split] = (self._put(x), self._put(z))
