"""Checks of the copula on the critic's embeddings (mivb.compression), per backend: the trained
estimator's ``embed`` gives the towers its critic scores with, in chunks; critics that are not
separable refuse; past the copula's features the default reads the copula on the embeddings.

Everything after ``embed`` is NumPy (mivb.copula.choose_compressed), so identical embeddings give
identical estimates on every backend; what each backend owes is its embeddings. Longer runs (2,000
features a side, images) are in benchmarks/compression.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mivb
from mivb.errors import MivbError
from mivb.pointwise import normalised

from .trust import QUIET


def check_embed(backend: str) -> None:
    """The trained critic's embeddings (f(x), g(z)) are its towers: their inner products, normalised over
    the other pairs, are the backend's own pointwise MI; in float64, one row per sample, the same
    whether embedded at once or in two calls."""
    x, z, _ = mivb.correlated_gaussians(1200, 3, mivb.data.rho_for_mi(3, 1.0), seed=3)
    result = mivb.estimate(x, z, backend=backend, bound="infonce", seed=0, progress=False, steps=200)
    px, pz = result.prepare_new(x[:1000], z[:1000])
    u, v = result.estimator.embed(px, pz)
    assert u.dtype == v.dtype == np.float64 and u.shape == v.shape == (1000, result.config.critic.embedding), u.shape
    halves = [result.estimator.embed(px[part], pz[part]) for part in (slice(0, 400), slice(400, 1000))]
    np.testing.assert_allclose(np.concatenate([h[0] for h in halves]), u, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([h[1] for h in halves]), v, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(normalised(u @ v.T, None, {}), result.pointwise(x[:1000], z[:1000]), atol=1e-3)


def check_embed_refused(backend: str) -> None:
    """A joint critic scores the pair as a whole: it has no embeddings to give, and says so."""
    x, z, _ = mivb.correlated_gaussians(300, 2, 0.5, seed=4)
    result = mivb.estimate(x, z, backend=backend, bound="infonce", critic="joint", seed=0, progress=False, steps=20,
                           linear_fallback=False)
    with pytest.raises(MivbError, match="critic: expected a separable critic"):
        result.estimator.embed(*result.prepare_new(x, z))


def check_default_compressed(backend: str) -> None:
    """600 + 600 features (over the copula's 1,024), 5,000 pairs, 2.88 nats in two latent directions: the
    default reports the copula on its critic's embeddings (2.77 to 2.80 on torch, JAX and TensorFlow),
    the network's InfoNCE (2.2) as ``lower``."""
    x, z, truth = mivb.data.low_rank_gaussians(5000, 600, 2, 3.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(x, z, backend=backend, seed=0, **{**QUIET, "steps": 5000})
    assert result.bound == "compressed" and result.kind == "estimate" and result.backend == backend, result
    assert abs(result.mi - truth) < 0.3 and result.lower.bound == "infonce" and result.lower.mi < result.mi, result


COMPRESSION_CHECKS = {
    "embed-towers": check_embed,
    "embed-refused-joint": check_embed_refused,
    "default-compressed-low-rank": check_default_compressed,
}
