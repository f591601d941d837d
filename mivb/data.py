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


def low_rank_gaussians(n: int, dim: int, rank: int, mi: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """``n`` pairs of ``dim``-dimensional vectors sharing ``mi`` nats through ``rank`` latent pairs.

    x = u A^T + noise and z = v B^T + noise, with (u, v) ``rank`` pairs of correlated standard normals
    and A, B fixed random maps (the same for every ``seed``): dependence spread over every feature but
    of low rank, as in the high-dimensional tasks of LMI (Gowri et al., 2024). The third value is the
    exact MI, that of the latents' sufficient statistics (A^T A)^-1 A^T x = u + noise (it is below
    ``mi``, which the noise-free latents share). Float32 arrays.
    """
    if rank < 1 or dim < rank:
        raise invalid("rank", f"an integer in [1, dim={dim}]", rank)
    rho = rho_for_mi(rank, mi)
    maps = np.random.default_rng(12345)
    a, b = maps.normal(size=(dim, rank)) / math.sqrt(rank), maps.normal(size=(dim, rank)) / math.sqrt(rank)
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n, rank))
    v = rho * u + math.sqrt(1 - rho**2) * rng.standard_normal((n, rank))
    x, z = u @ a.T + rng.standard_normal((n, dim)), v @ b.T + rng.standard_normal((n, dim))
    sx, sz = np.eye(rank) + np.linalg.inv(a.T @ a), np.eye(rank) + np.linalg.inv(b.T @ b)
    joint = np.block([[sx, rho * np.eye(rank)], [rho * np.eye(rank), sz]])
    truth = 0.5 * (np.linalg.slogdet(sx)[1] + np.linalg.slogdet(sz)[1] - np.linalg.slogdet(joint)[1])
    return x.astype(np.float32), z.astype(np.float32), float(truth)


def render_images(latents: np.ndarray, size: int = 16, channels_last: bool = False, seed: int = 0) -> np.ndarray:
    """Draw each d-dimensional latent as a ``size`` x ``size`` image of d blobs, injectively.

    Blob k sits at a fixed place and has brightness sigmoid(latent_k); the blobs' shapes are
    linearly independent, so the map is injective and the images carry exactly the latents' MI.
    """
    n, dim = latents.shape
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), axis=-1).reshape(-1, 2)
    centres = rng.uniform(2, size - 2, size=(dim, 2))
    widths = rng.uniform(1.5, 3.0, size=(dim,))
    blobs = np.exp(-np.sum((grid[None] - centres[:, None]) ** 2, axis=-1) / (2 * widths[:, None] ** 2))
    images: np.ndarray = (1.0 / (1.0 + np.exp(-latents))) @ blobs
    images = images.reshape(n, size, size, 1) if channels_last else images.reshape(n, 1, size, size)
    return images.astype(np.float32)


def gaussian_images(n: int, dim: int, rho: float, size: int = 16, channels_last: bool = False,
                    seed: int | None = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Correlated Gaussian latents drawn as images (see ``render_images``), and their MI."""
    x, z, true_mi = correlated_gaussians(n, dim, rho, seed=seed)
    return (render_images(x, size, channels_last, seed=1), render_images(z, size, channels_last, seed=2), true_mi)
