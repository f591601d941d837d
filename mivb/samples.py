"""Checking and preparing the sample arrays handed to :func:`mivb.estimate`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backends import backend_name_of, get_backend
from .errors import InvalidTypeError, invalid


def as_samples(argument: str, samples: Any) -> np.ndarray:
    """A float (n, d) NumPy copy of ``samples`` (any registered framework's array, or a sequence).

    1-D input means d = 1; every further axis is kept (images stay (n, C, H, W)). Integer, bool,
    complex and object data, NaN, inf and empty arrays are errors.
    """
    owner = backend_name_of(samples)
    array = get_backend(owner).to_numpy(samples) if owner not in (None, "numpy") else np.asarray(samples)
    if array.dtype.kind != "f":
        raise invalid(argument, "real floating-point samples (cast integer or boolean data explicitly)",
                      samples, error=InvalidTypeError)
    if array.ndim == 0 or array.size == 0:
        raise invalid(argument, "a non-empty array of shape (n,) or (n, d)", samples)
    if array.ndim == 1:
        array = array[:, None]
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise invalid(argument, f"finite samples (found {bad} NaN or inf entries)", samples)
    return array


def check_paired(x: np.ndarray, z: np.ndarray) -> None:
    if x.shape[0] != z.shape[0]:
        raise invalid("z", f"as many samples as x (n={x.shape[0]})", z)


def standardize(train: np.ndarray, *others: np.ndarray, argument: str) -> list[np.ndarray]:
    """Zero mean and unit variance per feature, with the training split's statistics.

    MI is unchanged by an invertible affine map of each variable, and critics train best on
    inputs of unit scale. A constant feature carries no information and is an error. Images
    (more than two axes) share one mean and scale, so constant pixels are fine.
    """
    axis = 0 if train.ndim == 2 else None  # images: one scale for all pixels, borders may be constant
    mean = train.mean(axis=axis)
    std = train.std(axis=axis)
    constant = np.flatnonzero(np.reshape(std, -1) == 0)
    if constant.size:
        raise invalid(argument, f"no constant features (feature {int(constant[0])} is constant)", train)
    return [((a - mean) / std).astype(np.float32) for a in (train, *others)]
