"""Your own equinox Module as the critic of estimate and MIEstimator."""

import equinox as eqx
import jax
import jax.numpy as jnp
import mivb_jax
import numpy as np
import pytest

import mivb

X, Z, TRUTH = mivb.correlated_gaussians(3000, 4, mivb.data.rho_for_mi(4, 1.0), seed=0)


class Embeddings(eqx.Module):
    """A frozen "pretrained" encoder of x under a trainable head; an MLP of z."""

    encoder: eqx.nn.MLP
    head_x: eqx.nn.Linear
    head_z: eqx.nn.MLP

    def __init__(self, seed=0):
        keys = jax.random.split(jax.random.key(seed), 3)
        self.encoder = eqx.nn.MLP(4, 16, 64, 1, key=keys[0])
        self.head_x = eqx.nn.Linear(16, 32, key=keys[1])
        self.head_z = eqx.nn.MLP(4, 32, 64, 1, key=keys[2])

    def __call__(self, x, z):
        features = jax.lax.stop_gradient(jax.vmap(self.encoder)(x))  # frozen
        return jax.vmap(self.head_x)(features), jax.vmap(self.head_z)(z)


class Matrix(eqx.Module):
    f: eqx.nn.Linear
    g: eqx.nn.Linear

    def __init__(self, seed=1):
        self.f, self.g = (eqx.nn.Linear(4, 8, key=k) for k in jax.random.split(jax.random.key(seed)))

    def __call__(self, x, z):
        return jax.vmap(self.f)(x) @ jax.vmap(self.g)(z).T


def test_estimate_trains_your_module_and_the_estimator_keeps_its_frozen_part(tmp_path):
    critic = Embeddings()
    result = mivb.estimate(X, Z, critic=critic, backend="jax", steps=600, seed=0, progress=False)
    assert abs(result.mi - TRUTH) < 0.2, (result, TRUTH)
    assert result.config.critic.kind == "module" and "Embeddings" in result.config.to_dict()["critic"]["module"]

    estimator = mivb_jax.MIEstimator(4, 4, bound="infonce", critic=critic, lr=1e-2)
    state = estimator.init(jax.random.key(0))
    assert jax.tree.leaves(state.params.module)[0] is jax.tree.leaves(critic)[0]  # your arrays, not a copy
    trained, values = estimator.fit(state, X, Z, steps=20, batch_size=64)
    module = trained.params.module
    assert np.all(np.isfinite(values))
    assert jnp.array_equal(module.encoder.layers[0].weight, critic.encoder.layers[0].weight)  # frozen
    assert not jnp.array_equal(module.head_x.weight, critic.head_x.weight)
    mivb_jax.save_state(tmp_path / "state.npz", trained, estimator)
    loaded = mivb_jax.load_state(tmp_path / "state.npz", estimator)
    assert jnp.array_equal(loaded.params.module.head_x.weight, module.head_x.weight)


def test_a_module_giving_the_matrix_scores_whole_batches_only():
    matrix = Matrix()
    estimator = mivb_jax.MIEstimator(4, 4, bound="infonce", critic=matrix)
    x, z = jnp.asarray(X[:16]), jnp.asarray(Z[:16])
    expected = mivb.bound("infonce", matrix(x, z))
    assert jnp.allclose(estimator.apply(estimator.init(jax.random.key(0)), x, z).mi, expected)
    with pytest.raises(mivb.InvalidArgumentError, match="embeddings"):
        mivb.estimate(X, Z, critic=Matrix(), backend="jax", negative_samples=4, steps=5, seed=0, progress=False)


@pytest.mark.filterwarnings("ignore:the estimate was still rising")
def test_sampled_negatives_and_a_baseline_with_your_embeddings():
    result = mivb.estimate(X[:1000], Z[:1000], critic=Embeddings(), backend="jax", bound="alpha", negative_samples=8,
                           steps=50, batch_size=64, seed=0, progress=False)
    assert np.isfinite(result.mi) and result.config.critic.negative_samples == 8


def test_a_module_of_another_framework_is_refused():
    with pytest.raises(mivb.InvalidTypeError, match="equinox.Module"):
        mivb_jax.MIEstimator(4, 4, critic=lambda x, z: x @ z.T)
