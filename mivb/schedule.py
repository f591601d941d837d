"""Which samples each step sees: drawn once in NumPy, so every backend trains on the same batches."""

from __future__ import annotations

import numpy as np

from .errors import invalid


def check_positive_int(argument: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise invalid(argument, "a positive integer", value)
    return int(value)


def feature_shape(argument: str, dim: object) -> tuple[int, ...]:
    """One sample's shape from an int (a vector's size) or a shape tuple such as (C, H, W)."""
    if isinstance(dim, (tuple, list)) and dim:
        if all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in dim):
            return tuple(int(d) for d in dim)
        raise invalid(argument, "a positive integer or a shape of positive integers", dim)
    return (check_positive_int(argument, dim),)


class Batches:
    """Epochs of shuffled sample indices, the ragged last batch of each dropped, drawn as training
    takes them: memory is one epoch whatever the number of steps, and the first steps are the same
    whatever number of steps may follow."""

    def __init__(self, rng: np.random.Generator, n: int, batch_size: int):
        if batch_size > n:
            raise invalid("batch_size", f"at most the {n} samples available for training", batch_size)
        self.rng, self.n, self.batch_size = rng, n, batch_size
        self.pending = np.zeros((0, batch_size), np.int64)

    def take(self, steps: int) -> np.ndarray:
        """The next ``steps`` batches, (steps, batch_size)."""
        per_epoch = self.n // self.batch_size
        while len(self.pending) < steps:
            epoch = self.rng.permutation(self.n)[: per_epoch * self.batch_size].reshape(per_epoch, self.batch_size)
            self.pending = np.concatenate([self.pending, epoch])
        taken, self.pending = self.pending[:steps], self.pending[steps:]
        return taken


def batch_schedule(rng: np.random.Generator, n: int, batch_size: int, steps: int) -> np.ndarray:
    """(steps, batch_size) sample indices: epochs of shuffled data, the ragged last batch dropped."""
    return Batches(rng, n, batch_size).take(steps)


def shift_schedule(rng: np.random.Generator, batch_size: int, k: int, steps: int) -> np.ndarray:
    """(steps, k) distinct cyclic shifts in [1, batch_size - 1]: K derangements per step."""
    shifts = np.tile(np.arange(1, batch_size), (steps, 1))
    return rng.permuted(shifts, axis=1)[:, :k]
