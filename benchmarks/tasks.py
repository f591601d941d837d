"""Sampling tasks with mutual information known in closed form.

Gaussian tasks pair k latent coordinates with correlation rho ("sparse": only those coordinates
interact) and optionally rotate X and Z by random orthogonal matrices ("dense": every coordinate
of X interacts with every coordinate of Z). Student-t tasks divide the same Gaussian by a shared
chi-square factor. Transformed tasks apply an invertible map to each variable, which leaves the MI
unchanged. Conditional tasks are jointly Gaussian triples (X, Z, Y) whose target is I(X; Z | Y).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class ConditionalTask:
    """Target I(X; Z | Y); sample(n, seed) returns (x, z, y). covariance is that of (X, Z, Y) stacked."""
    name: str
    dim_x: int
    dim_z: int
    dim_y: int
    mi: float
    covariance: np.ndarray
    sample: Callable[[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def gaussian_conditional_mi(covariance: np.ndarray, dim_x: int, dim_z: int) -> float:
    """I(X; Z | Y) in nats for jointly Gaussian (X, Z, Y), blocks in that order; Y empty gives I(X; Z)."""
    def logdet(*blocks: slice) -> float:
        index = np.concatenate([np.arange(len(covariance))[block] for block in blocks])
        return np.linalg.slogdet(covariance[np.ix_(index, index)])[1]

    x, z, y = slice(0, dim_x), slice(dim_x, dim_x + dim_z), slice(dim_x + dim_z, None)
    return float(0.5 * (logdet(x, y) + logdet(z, y) - logdet(y) - logdet(x, z, y)))


def _linear_gaussian(name: str, dim: int, mixing: list[list[float]]) -> ConditionalTask:
    """Each coordinate i of (X, Z, Y) is mixing @ (independent standard normals), the same for every i.

    Building sampler and covariance from one mixing matrix keeps the truth and the samples consistent.
    """
    weights = np.kron(np.asarray(mixing, dtype=float), np.eye(dim))
    covariance = weights @ weights.T

    def sample(n: int, seed: int):
        triple = np.random.default_rng(seed).standard_normal((n, weights.shape[1])) @ weights.T
        return triple[:, :dim], triple[:, dim:2 * dim], triple[:, 2 * dim:]

    mi = gaussian_conditional_mi(covariance, dim, dim)
    return ConditionalTask(name, dim, dim, dim, mi, covariance, sample)


def common_cause(dim: int, noise: float) -> ConditionalTask:
    """X = Y + noise, Z = Y + noise: dependent, yet I(X; Z | Y) = 0 exactly."""
    return _linear_gaussian(f"cmi-common-cause-{dim}d", dim, [[1, noise, 0], [1, 0, noise], [1, 0, 0]])


def conditional_correlation(dim: int, rho: float, a: float = 1.0, b: float = -0.5) -> ConditionalTask:
    """X = a Y + e1, Z = b Y + e2 with corr(e1, e2) = rho per coordinate: I(X; Z | Y) = -dim/2 log(1 - rho^2)."""
    mixing = [[a, 1, 0], [b, rho, math.sqrt(1 - rho * rho)], [1, 0, 0]]
    return _linear_gaussian(f"cmi-correlated-{dim}d-rho{rho:g}", dim, mixing)


def collider(dim: int, noise: float) -> ConditionalTask:
    """X, Y independent, Z = X + Y + noise: conditioning on Y raises the MI, I(X; Z | Y) > I(X; Z)."""
    return _linear_gaussian(f"cmi-collider-{dim}d", dim, [[1, 0, 0], [1, 1, noise], [0, 1, 0]])


def conditional_tasks() -> list[ConditionalTask]:
    return [common_cause(2, 0.5), conditional_correlation(3, 0.6), collider(2, 0.5)]
