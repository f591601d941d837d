"""The copula on the critic's embeddings (mivb.compression, mivb.copula.choose_compressed): the chunked
embedding, which critics embed, why the model keeps only its leading canonical directions, and the
default on 1,200 features where the copula of the data itself does not apply."""

import math
import pickle
import warnings

import numpy as np
import pytest

import mivb
from mivb.compression import EMBEDDING_CHUNK, check_separable, embed_in_chunks
from mivb.copula import GaussianCritic, copula_mi, leading_directions, projected_mi
from mivb.critics import CriticConfig
from mivb.data import gaussian_mi, low_rank_gaussians, rho_for_mi
from mivb.errors import MivbError


def test_embeddings_in_chunks_are_the_one_pass_embeddings():
    rng = np.random.default_rng(0)
    n = 2 * EMBEDDING_CHUNK + 3
    x, z = rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 2)).astype(np.float32)
    calls = []

    def features_of(index):
        calls.append(len(index))
        return [2 * x[index], z[index] + 1]

    u, v = embed_in_chunks(features_of, n)
    assert u.dtype == v.dtype == np.float64 and len(calls) == 3 and max(calls) <= EMBEDDING_CHUNK
    np.testing.assert_array_equal(u, (2 * x).astype(np.float64))
    np.testing.assert_array_equal(v, (z + 1).astype(np.float64))


def test_only_separable_critics_embed():
    check_separable(CriticConfig("separable"))
    check_separable(CriticConfig("bilinear"))
    for kind in ("joint", "conditional"):
        with pytest.raises(MivbError, match="critic: expected a separable critic"):
            check_separable(CriticConfig(kind))


def test_leading_directions_drop_the_latents_powers():
    """Embeddings made of two Gaussian latents, their squares and product (what a critic's tower holds):
    the Gaussian model of every feature adds the powers' canonical correlations (rho^2) as if they
    were new information; the leading two directions, chosen by their ratio's held-out InfoNCE, hold
    the latents' MI."""
    rho, n = rho_for_mi(2, 2.0), 12_000
    rng = np.random.default_rng(3)
    u = rng.standard_normal((n, 2))
    v = rho * u + math.sqrt(1 - rho**2) * rng.standard_normal((n, 2))

    def features(w):
        powers = np.stack([w[:, 0], w[:, 1], w[:, 0] ** 2 - 1, w[:, 1] ** 2 - 1, w[:, 0] * w[:, 1]], axis=1)
        return powers @ rng.normal(size=(5, 5)) + 0.05 * rng.standard_normal((n, 5))  # mixed, as a tower's layer mixes

    x, z = features(u), features(v)
    train, validation, test = ((x[part], z[part]) for part in np.split(np.arange(n), [8000, 10_000]))
    everything = copula_mi(GaussianCritic.fit(*test), *test)[0]
    assert everything > gaussian_mi(2, rho) + 1.0, everything  # 2 nats, read as about 3.5
    batches = np.random.default_rng(0).permutation(2000).reshape(2, 1000)
    critic, m = leading_directions(train, validation, batches)
    assert m == 2, (m, critic.rho)
    assert abs(projected_mi(critic, m, *test)[0] - 2.0) < 0.1


@pytest.fixture(scope="module")
def high_dimensional():
    x, z, truth = low_rank_gaussians(5000, 600, 2, 3.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(x, z, backend="torch", seed=0, progress=False)
    return x, z, truth, result


def test_default_reads_the_copula_on_embeddings_past_the_copulas_features(high_dimensional):
    """600 + 600 features (over the copula's 1,024), 5,000 pairs, 2.88 nats in two latent directions: the
    default reports the copula on its critic's embeddings, the network's InfoNCE beside it."""
    *_, truth, result = high_dimensional
    assert result.bound == "compressed" and result.kind == "estimate" and result.config.bound == "auto", result
    assert abs(result.mi - truth) < 0.3, (result, truth)
    assert result.lower.bound == "infonce" and result.lower.kind == "lower" and result.lower.mi < result.mi - 0.3


def test_compressed_pointwise_reads_through_the_towers(high_dimensional):
    x, z, truth, result = high_dimensional
    paired = result.pointwise(x[:1000], z[:1000])
    shuffled = result.pointwise(x[:1000], z[1:1001])
    assert paired.shape == (1000,) and np.all(np.isfinite(paired))
    assert paired.mean() > 0.7 * truth and shuffled.mean() < 0.0, (paired.mean(), shuffled.mean())


def test_the_compressed_estimate_pickles_with_its_towers(high_dimensional):
    x, z, _, result = high_dimensional
    restored = pickle.loads(pickle.dumps(result))
    assert restored.bound == "compressed" and restored.mi == result.mi
    np.testing.assert_allclose(restored.pointwise(x[:300], z[:300]), result.pointwise(x[:300], z[:300]), rtol=1e-6)


def test_independent_high_dimensional_data_keep_the_network():
    """No dependence: the copula on embeddings never reads clearly more than the network, which is reported."""
    rng = np.random.default_rng(5)
    x, z = rng.normal(size=(5000, 600)).astype(np.float32), rng.normal(size=(5000, 600)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(x, z, backend="torch", seed=0, progress=False)
    assert result.bound == "infonce" and abs(result.mi) < 0.05, result


def test_low_rank_gaussians_truth_is_the_mi_of_their_covariance():
    # The pairs are jointly Gaussian, so their MI is that of their covariance: the sample covariance
    # of many pairs must give the stated truth (an independent check of its closed form).
    x, z, truth = low_rank_gaussians(400_000, 5, 2, 1.5, seed=3)
    covariance = np.cov(np.hstack([x, z]).astype(np.float64), rowvar=False)
    logdet = lambda c: np.linalg.slogdet(c)[1]
    sampled = 0.5 * (logdet(covariance[:5, :5]) + logdet(covariance[5:, 5:]) - logdet(covariance))
    assert 0.3 < truth < 1.5
    assert sampled == pytest.approx(truth, abs=0.01)
    with pytest.raises(MivbError, match="rank"):
        low_rank_gaussians(10, 3, 4, 1.0)
