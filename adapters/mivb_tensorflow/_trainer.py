from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from mivb.backends import FeatureShapes
from mivb.errors import invalid
from mivb.result import EstimateConfig

from ._estimator import MIEstimator


def resolve_device(device: str | None) -> str:
    """TensorFlow's name of ``device``: "cpu" (default), "cpu:N", or "gpu"/"cuda" with an optional ":N".

    The index must name a device TensorFlow sees here (``tf.config.list_logical_devices``).
    """
    if device is not None and not isinstance(device, str):
        raise invalid("device", "'cpu', 'cpu:N', 'gpu', 'cuda', 'gpu:N' or 'cuda:N'", device)
    kind, _, index = (device or "cpu").lower().partition(":")
    if kind not in ("cpu", "gpu", "cuda") or not (index == "" or index.isdigit()):
        raise invalid("device", "'cpu', 'cpu:N', 'gpu', 'cuda', 'gpu:N' or 'cuda:N'", device)
    number = int(index or 0)
    if kind == "cpu":
        cpus = tf.config.list_logical_devices("CPU")
        if number >= len(cpus):
            raise invalid("device", f"'cpu' or 'cpu:N' with N < {len(cpus)} (TensorFlow sees {len(cpus)} CPU "
                          "device(s) here)", device)
        return f"/CPU:{number}"
    gpus = tf.config.list_logical_devices("GPU")
    if number >= len(gpus):
        raise invalid("device", f"'cpu' (TensorFlow sees {len(gpus)} GPU(s) here)", device)
    return f"/GPU:{number}"


class Trainer:
    """What ``mivb.estimate`` drives: an [`MIEstimator`][] over data held on the device.

    Each chunk of steps runs as one compiled ``tf.function`` loop, so Python is entered once a chunk.
    """

    def __init__(self, config: EstimateConfig, shapes: FeatureShapes,
                 splits: Mapping[str, tuple[np.ndarray, np.ndarray]]):
        self.device = resolve_device(config.device)
        with tf.device(self.device):
            self.estimator = MIEstimator(*shapes, **config.spec.to_kwargs())
        self.splits: dict[str, tuple[tf.Tensor, tf.Tensor]] = {}
        for name, (x, z) in splits.items():
            self.put(name, x, z)

    def snapshot(self) -> list[tf.Tensor]:
        with tf.device(self.device):
            return [tf.identity(variable) for variable in self.estimator.training_variables]  # copies, on device

    def restore(self, snapshot: list[tf.Tensor]) -> None:
        for variable, value in zip(self.estimator.training_variables, snapshot):
            variable.assign(value)

    def _put(self, a: np.ndarray | None) -> tf.Tensor | None:
        if a is None:
            return None
        with tf.device(self.device):
            return tf.identity(a)

    def train(self, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        with tf.device(self.device):
            values: np.ndarray = self.estimator.train_steps(*self.splits["train"], self._put(batches),
                                                            self._put(shifts)).numpy()
        return values

    def values(self, split: str, batches: np.ndarray, shifts: np.ndarray | None, selection: bool = False) -> np.ndarray:
        with tf.device(self.device):
            values: np.ndarray = self.estimator.batch_values(*self.splits[split], self._put(batches),
                                                             self._put(shifts), selection).numpy()
        return values

    def trained(self) -> MIEstimator:
        return self.estimator

    def put(self, split: str, x: np.ndarray, z: np.ndarray) -> None:
        self.splits[split] = (self._put(x), self._put(z))
