"""Sampling tasks with mutual information known in closed form.

Gaussian tasks pair k latent coordinates with correlation rho ("sparse": only those coordinates
interact) and optionally rotate X and Z by random orthogonal matrices ("dense": every coordinate
of X interacts with every coordinate of Z). Student-t tasks divide the same Gaussian by a shared
chi-square factor. Transformed tasks apply an invertible map to each variable, which leaves the MI
unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class Task:
    name: str
    dim_x: int
    dim_z: int
    mi: float
    sample: Callable[[int, int], tuple[np.ndarray, np.ndarray]]


def _gaussian_pairs(n: int, dim_x: int, dim_z: int, pairs: int, rho: float, rng: np.random.Generator):
    """X, Z standard normal; coordinate i < pairs of X has correlation rho with coordinate i of Z."""
    x = rng.standard_normal((n, dim_x))
    z = rng.standard_normal((n, dim_z))
    z[:, :pairs] = rho * x[:, :pairs] + math.sqrt(1 - rho * rho) * z[:, :pairs]
    return x, z


def gaussian_mi(pairs: int, rho: float) -> float:
    return -0.5 * pairs * math.log1p(-rho * rho)


def student_t_correction(dof: float, dim_x: int, dim_z: int) -> float:
    """I(t) - I(Gaussian of the same dispersion): the closed form of Arellano-Valle et al. (2013)."""
    def f(k: float) -> float:
        return special.gammaln(k / 2) - (k / 2) * special.digamma(k / 2)

    return float(f(dof) + f(dof + dim_x + dim_z) - f(dof + dim_x) - f(dof + dim_z))


def _rotation(dim: int, seed: int) -> np.ndarray:
    return stats.ortho_group.rvs(dim, random_state=seed) if dim > 1 else np.ones((1, 1))


def gaussian(dim_x: int, dim_z: int, pairs: int, rho: float, dense: bool = False) -> Task:
    rot_x, rot_z = _rotation(dim_x, 1), _rotation(dim_z, 2)

    def sample(n: int, seed: int):
        x, z = _gaussian_pairs(n, dim_x, dim_z, pairs, rho, np.random.default_rng(seed))
        return (x @ rot_x, z @ rot_z) if dense else (x, z)

    kind = "dense" if dense else "sparse"
    return Task(f"gauss-{dim_x}x{dim_z}-{kind}", dim_x, dim_z, gaussian_mi(pairs, rho), sample)


def student_t(dim_x: int, dim_z: int, pairs: int, rho: float, dof: float) -> Task:
    def sample(n: int, seed: int):
        rng = np.random.default_rng(seed)
        x, z = _gaussian_pairs(n, dim_x, dim_z, pairs, rho, rng)
        scale = np.sqrt(rng.chisquare(dof, size=(n, 1)) / dof)
        return x / scale, z / scale

    mi = gaussian_mi(pairs, rho) + student_t_correction(dof, dim_x, dim_z)
    return Task(f"student-{dim_x}x{dim_z}-dof{dof:g}", dim_x, dim_z, mi, sample)


def _spiral(a: np.ndarray) -> np.ndarray:
    """Rotate the first two coordinates by an angle growing with the radius: invertible."""
    out = a.copy()
    radius = np.linalg.norm(a[:, :2], axis=1)
    angle = 0.5 * radius
    cos, sin = np.cos(angle), np.sin(angle)
    out[:, 0], out[:, 1] = cos * a[:, 0] - sin * a[:, 1], sin * a[:, 0] + cos * a[:, 1]
    return out


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "asinh": np.arcsinh,
    "halfcube": lambda a: a * np.sqrt(np.abs(a)),
    "normalcdf": special.ndtr,
    "spiral": _spiral,
}


def transformed(base: Task, transform: str) -> Task:
    def sample(n: int, seed: int):
        x, z = base.sample(n, seed)
        return TRANSFORMS[transform](x), TRANSFORMS[transform](z)

    return Task(f"{base.name}-{transform}", base.dim_x, base.dim_z, base.mi, sample)


def all_tasks() -> list[Task]:
    gauss_3 = gaussian(3, 3, 2, 0.75)
    return [
        gaussian(1, 1, 1, 0.75),
        gaussian(5, 5, 2, 0.75),
        gaussian(5, 5, 2, 0.75, dense=True),
        gaussian(25, 25, 2, 0.75),
        gaussian(25, 25, 5, 0.6, dense=True),
        student_t(1, 1, 1, 0.5, 1.0),
        student_t(5, 5, 2, 0.5, 3.0),
        student_t(25, 25, 2, 0.5, 5.0),
        *(transformed(gauss_3, name) for name in TRANSFORMS),
    ]


QUICK_TASKS = ("gauss-1x1-sparse", "gauss-5x5-dense", "student-5x5-dof3")
