"""A linear critic beside the trained one: does the network read at least what linear correlation shows?

A bound's value depends on its critic. The log density ratio of a Gaussian model of the training
pairs is a critic too, with no network to train: scored under the same bound on the same test
batches, it gives a second held-out value. When it is clearly above the trained critic's, the
network has missed dependence that plain correlation shows (too few pairs for its size, many
dimensions), and the estimate says so instead of returning a silent underestimate. Measured with the defaults
(torch, seed 0; MI spread evenly over the dimensions): on 20,000 pairs of d = 20 Gaussians the network
read 1.67 and 3.13 nats at truths of 2 and 4, the linear critic 1.85 and 3.31; on 10,000 pairs of
d = 100 at 1 nat the network read 0.02.

For the bounds whose value on a finite batch is a lower bound in expectation for any fixed critic
(``Bound.linear_fallback``), ``estimate`` goes further (``linear_fallback``, on with the default critic): it
scores both critics on the validation split, the linear one on larger batches (``linear_batch_size``:
more negatives, a tighter bound, at the cost of a NumPy matrix product), and when the linear one
reads clearly more there, it reports the linear critic's test value, read on such batches, instead
of the network's. The choice is made on the validation split, so the test value stays a held-out
lower bound of the chosen critic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bounds import bound as bound_value
from .bounds import get_bound
from .notes import note

# A bound of the scores alone (``Bound.linear_crosscheck``) can score this critic; each bound's
# optimal critic is log r, up to a constant that it ignores, except where ``Bound.optimal_offset``
# says otherwise (NWJ's: 1 + log r).
MAX_DIMENSIONS = 512  # d_x + d_z: the whitening is O(n d^2); images are left to the critic
PAIRS_PER_DIMENSION = 5  # fewer training pairs than 5 (d_x + d_z) make the covariance too noisy to fit
FIT_PAIRS = 100_000  # covariances of at most 512 dimensions need no more; more would only cost memory (float64)
MAX_CORRELATION = 1.0 - 1e-6
# A gap worth a note: at least this many nats and this share of the linear critic's value, and
# three standard errors of the paired difference over the test batches.
GAP_NATS, GAP_SHARE, GAP_STDERRS = 0.05, 0.05, 3.0
# ``Bound.linear_fallback`` (InfoNCE and NWJ): a fixed critic's value on a batch is a lower bound in
# expectation, so reporting the better of two critics chosen on other pairs cannot overshoot.
# DV-type bounds (dv, mine, smile) read a sharp critic above the truth on finite negatives; their
# linear critic only makes a note.
# The reported linear critic is read on larger batches than the network's: InfoNCE's value of a fixed
# critic grows with its negatives (at most log K), and this critic costs one NumPy matrix product per
# batch (1024 x 1024 float64: 8 MiB). At least LINEAR_BATCHES batches, for a standard error.
LINEAR_BATCH, LINEAR_BATCHES = 1024, 4
# The reported linear critic's bound this share below the MI of its own Gaussian model gets a note.
PLUG_IN_SHARE = 0.1


@dataclass(frozen=True)
class GaussianCritic:
    """T(x, z) = log N(x, z) / (N(x) N(z)) of the Gaussian fitted to training pairs, in canonical coordinates.

    ``x_map``/``z_map`` whiten each block and rotate it onto the canonical directions (Hotelling
    1936), where the model is a product of 2-D Gaussians with correlations ``rho``.
    """

    x_mean: np.ndarray
    z_mean: np.ndarray
    x_map: np.ndarray
    z_map: np.ndarray
    rho: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, z: np.ndarray) -> GaussianCritic:
        x, z = _flat(x), _flat(z)
        x_mean, z_mean = x.mean(axis=0), z.mean(axis=0)
        x_centred, z_centred = x - x_mean, z - z_mean
        x_white, z_white = _whitening(x_centred), _whitening(z_centred)
        cross = (x_centred @ x_white).T @ (z_centred @ z_white) / len(x)
        left, rho, right = np.linalg.svd(cross, full_matrices=False)
        return cls(x_mean, z_mean, x_white @ left, z_white @ right.T, np.minimum(rho, MAX_CORRELATION))

    def scores(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The (n, n) matrix T(x_i, z_j)."""
        a, b = self.canonical(x, z)
        rho, unexplained = self.rho, 1.0 - self.rho**2
        cross = (a * (rho / unexplained)) @ b.T
        row = -0.5 * (a**2) @ (rho**2 / unexplained)
        column = -0.5 * (b**2) @ (rho**2 / unexplained)
        scores: np.ndarray = cross + row[:, None] + column[None, :] - 0.5 * np.log(unexplained).sum()
        return scores

    @property
    def mi(self) -> float:
        """The MI of the Gaussian model itself, -1/2 sum log(1 - rho^2): in-sample, so high on few pairs."""
        return float(-0.5 * np.log(1.0 - self.rho**2).sum())

    def log_ratio(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """T(x_i, z_i) for each pair: the diagonal of ``scores``, without the matrix."""
        a, b = self.canonical(x, z)
        rho, unexplained = self.rho, 1.0 - self.rho**2
        ratios: np.ndarray = ((a * b) @ (rho / unexplained) - 0.5 * (a**2 + b**2) @ (rho**2 / unexplained)
                              - 0.5 * np.log(unexplained).sum())
        return ratios

    def canonical(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x and z in the model's coordinates: each block centred, whitened and rotated onto the
        canonical directions, where the model is a product of 2-D Gaussians with correlations ``rho``."""
        return (_flat(x) - self.x_mean) @ self.x_map, (_flat(z) - self.z_mean) @ self.z_map


def fit_linear_critic(bound: str, negative_samples: int | None, x: np.ndarray, z: np.ndarray) -> GaussianCritic | None:
    """The Gaussian critic of the training pairs, or None where the check does not apply: another bound,
    sampled negatives, images or many dimensions, too few pairs."""
    dimensions = int(np.prod(x.shape[1:])) + int(np.prod(z.shape[1:]))  # from the shapes: no float64 copy
    if (not get_bound(bound).linear_crosscheck or negative_samples is not None or x.ndim > 2 or z.ndim > 2
            or dimensions > MAX_DIMENSIONS or len(x) < PAIRS_PER_DIMENSION * dimensions):
        return None
    return GaussianCritic.fit(x[:FIT_PAIRS], z[:FIT_PAIRS])  # the training split is already shuffled


def linear_values(critic: GaussianCritic, x: np.ndarray, z: np.ndarray, batches: np.ndarray, bound: str,
                  params: Mapping[str, Any]) -> np.ndarray:
    """The bound of ``critic`` on each batch (a row of indices) of the pairs."""
    offset = get_bound(bound).optimal_offset
    return np.array([float(bound_value(bound, critic.scores(x[index], z[index]) + offset, **params))
                     for index in batches])


def linear_batch_size(n: int, batch_size: int) -> int:
    """Pairs per batch on which a reported linear critic is read from ``n`` held-out pairs: as many as
    LINEAR_BATCH and LINEAR_BATCHES allow, never fewer than the network's ``batch_size``."""
    return max(min(batch_size, n), min(LINEAR_BATCH, n // LINEAR_BATCHES))


def clearly_above(reference: np.ndarray, candidate: np.ndarray) -> bool:
    """Whether ``candidate`` reads clearly more than ``reference``: by GAP_NATS, GAP_SHARE of its value
    and GAP_STDERRS standard errors of the difference (paired when both are on the same batches)."""
    gap = float(candidate.mean() - reference.mean())
    if candidate.shape == reference.shape:
        noise = _stderr(candidate - reference)
    else:
        noise = float(np.hypot(_stderr(candidate), _stderr(reference)))
    return bool(np.isfinite(gap) and gap > max(GAP_NATS, GAP_SHARE * float(candidate.mean()), GAP_STDERRS * noise))


def _stderr(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def linear_note(bound: str, critic_values: np.ndarray, linear: np.ndarray) -> str | None:
    """A note when the linear critic reads clearly more than the trained one on the same batches."""
    if not clearly_above(critic_values, linear):
        return None
    mi, linear_mi = float(critic_values.mean()), float(linear.mean())
    gap = linear_mi - mi
    return note("linear", linear=linear_mi, bound=bound, gap=gap, mi=mi)


def fallback_note(validation: tuple[np.ndarray, np.ndarray], network_test: float) -> str:
    """What ``estimate`` reports when the linear critic won on the validation split, and why."""
    network, linear = (float(values.mean()) for values in validation)
    return note("linear-reported", linear=linear, network=network, test=network_test)


def plug_in_note(bound: str, reported: float, critic: GaussianCritic, log_ratios: np.ndarray) -> str | None:
    """A note when the reported linear critic's bound lies clearly below the MI of its own Gaussian
    model: the bound's batch, or the model's noise, holds the value down."""
    if not critic.mi - reported > max(GAP_NATS, PLUG_IN_SHARE * critic.mi):
        return None
    return note("plug-in", model=critic.mi, test=float(log_ratios.mean()), reported=reported, bound=bound)


def _whitening(centred: np.ndarray) -> np.ndarray:
    """W with cov(centred @ W) = I on the directions of non-negligible variance (the rest dropped)."""
    variances, vectors = np.linalg.eigh(centred.T @ centred / len(centred))
    keep = variances > variances.max() * 1e-10
    whitening: np.ndarray = vectors[:, keep] / np.sqrt(variances[keep])
    return whitening


def _flat(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(len(a), -1)
