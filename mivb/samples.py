"""Checking and preparing the sample arrays handed to :func:`mivb.estimate`."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from .backends import backend_name_of, get_backend
from .errors import InvalidTypeError, invalid, unknown_name


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


TRANSFORMS = {
    "auto": "gaussianize vectors, standardize images",
    "gaussianize": "map each feature through the training split's ranks to standard normal quantiles",
    "standardize": "zero mean and unit variance per feature (one scale for all pixels of images)",
}


def check_transform(transform: object) -> str | None:
    if transform is not None and transform not in TRANSFORMS:
        raise unknown_name("transform", transform, [*TRANSFORMS, "None"])
    return transform


def prepare(transform: str | None, train: np.ndarray, *others: np.ndarray, argument: str) -> list[np.ndarray]:
    """Apply ``transform`` fitted on the training split to every split (float32 out).

    Every transform is an invertible map of each feature, so the MI is unchanged; critics train
    best on inputs of unit scale, and heavy tails (a Cauchy feature, say) wreck an unbounded
    critic unless the marginals are tamed first.
    """
    if transform is None:
        return [a.astype(np.float32) for a in (train, *others)]
    if transform == "gaussianize" or (transform == "auto" and train.ndim == 2):
        return gaussianize(train, *others, argument=argument)
    return standardize(train, *others, argument=argument)


def gaussianize(train: np.ndarray, *others: np.ndarray, argument: str) -> list[np.ndarray]:
    """Each feature through the monotone map taking its sorted training values to normal quantiles.

    The map is piecewise linear between the training values and flat beyond them, so it is
    invertible on the training range; only values outside it (a fraction of about 2/n) are tied.
    """
    flat = train.reshape(len(train), -1)
    _check_not_constant(flat.std(axis=0), argument, train)
    normal = NormalDist()
    quantiles = np.array([normal.inv_cdf((k + 0.5) / len(flat)) for k in range(len(flat))])
    sorted_train = np.sort(flat, axis=0)
    out = []
    for a in (train, *others):
        columns = a.reshape(len(a), flat.shape[1])
        mapped = np.stack([np.interp(columns[:, j], sorted_train[:, j], quantiles) for j in range(columns.shape[1])], 1)
        out.append(mapped.reshape(a.shape).astype(np.float32))
    return out


def _check_not_constant(std: np.ndarray, argument: str, train: np.ndarray) -> None:
    constant = np.flatnonzero(np.reshape(std, -1) == 0)
    if constant.size:
        raise invalid(argument, f"no constant features (feature {int(constant[0])} is constant)", train)


def standardize(train: np.ndarray, *others: np.ndarray, argument: str) -> list[np.ndarray]:
    """Zero mean and unit variance per feature, with the training split's statistics.

    MI is unchanged by an invertible affine map of each variable, and critics train best on
    inputs of unit scale. A constant feature carries no information and is an error. Images
    (more than two axes) share one mean and scale, so constant pixels are fine.
    """
    axis = 0 if train.ndim == 2 else None  # images: one scale for all pixels, borders may be constant
    mean = train.mean(axis=axis)
    std = train.std(axis=axis)
    _check_not_constant(std, argument, train)
    return [((a - mean) / std).astype(np.float32) for a in (train, *others)]
