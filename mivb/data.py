"""Samples with known mutual information: the analytic cases the conformance suite and demo use."""

from __future__ import annotations

import math

import numpy as np

from .errors import invalid


def gaussian_mi(dim: int, rho: float) -> float:
    """I(X; Z) in nats for d independent pairs of standard normals with correlation ``rho``."""
    if not -1.0 < rho < 1.0:
        raise invalid("rho", "a correlation strictly between -1 and 1", rho)
    return -0.5 * dim * math.log1p(-rho * rho)


def rho_for_mi(dim: int, mi: float) -> float:
    """The per-dimension correlation that gives ``mi`` nats over ``dim`` dimensions."""
    return math.sqrt(-math.expm1(-2.0 * mi / dim))


def correlated_gaussians(n: int, dim: int, rho: float, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """``n`` samples of X, Z in R^dim with corr(X_i, Z_i) = rho, and their MI in nats (float32 data)."""
    true_mi = gaussian_mi(dim, rho)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim))
    z = rho * x + math.sqrt(1.0 - rho * rho) * rng.standard_normal((n, dim))
    return x.astype(np.float32), z.astype(np.float32), true_mi
