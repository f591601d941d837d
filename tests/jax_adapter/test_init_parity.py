"""The JAX critics start from the distribution every backend shares, and train with the same Adam.

torch's ``nn.Linear`` / ``nn.Conv2d`` scheme, which equinox's layers follow: weights and biases
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), variance bound^2 / 3 (issue #15, item 4).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from mivb_jax import MIEstimator, build_critic

from mivb.critics import CriticConfig


def layers(critic):
    """(weight, bias, fan_in) of every linear and convolutional layer."""
    is_layer = lambda node: isinstance(node, (eqx.nn.Linear, eqx.nn.Conv))
    for layer in jax.tree_util.tree_leaves(critic, is_leaf=is_layer):
        if is_layer(layer):
            weight = np.asarray(layer.weight)
            yield weight, np.asarray(layer.bias), weight[0].size


def check_fan_in_uniform(weight, bias, fan_in):
    bound = 1 / math.sqrt(fan_in)
    for values in (weight, bias):
        assert np.abs(values).max() <= bound
        if values.size >= 32:  # (a one-output layer's single bias says little)
            assert np.abs(values).max() > 0.8 * bound  # drawn over the whole range, not zeros
        if values.size >= 256:
            # A uniform sample's variance has relative standard error sqrt(0.8 / n): 5 of them, at least 3%.
            tolerance = max(0.03, 5 * math.sqrt(0.8 / values.size))
            assert np.var(values) == pytest.approx(bound**2 / 3, rel=tolerance)


@pytest.mark.parametrize("kind", ["separable", "joint"])
def test_mlp_critic_weights_and_biases_are_uniform_over_one_over_sqrt_fan_in(kind):
    critic = build_critic((20,), (20,), CriticConfig(kind=kind, hidden=(256, 256), embedding=32),
                          jax.random.key(0), baseline=True)
    found = list(layers(critic))
    assert {fan_in for *_, fan_in in found} >= {20 if kind == "separable" else 40, 256}
    for weight, bias, fan_in in found:
        check_fan_in_uniform(weight, bias, fan_in)


def test_conv_encoder_weights_and_biases_are_uniform_over_one_over_sqrt_fan_in():
    critic = build_critic((16, 16, 1), (16, 16, 1), CriticConfig(kind="conv", channels=(32, 64)), jax.random.key(0))
    fans = [fan_in for *_, fan_in in layers(critic)]
    assert 9 in fans and 9 * 32 in fans  # 3 x 3 kernels on 1 and on 32 channels
    for weight, bias, fan_in in layers(critic):
        check_fan_in_uniform(weight, bias, fan_in)


def test_adam_steps_as_torch_default_adam():
    """optax.adam's first steps are torch's: betas (0.9, 0.999), eps 1e-8 after the bias correction."""
    estimator = MIEstimator(3, 3, bound="infonce", lr=5e-4)
    params = {"w": jnp.zeros(4)}
    state = estimator.optimizer.init(params)
    grads = [jnp.array([1.0, -2.0, 1e-9, 0.0]), jnp.array([0.5, 3.0, -1e-9, 0.0])]
    m = v = np.zeros(4)
    for t, g in enumerate(grads, start=1):
        updates, state = estimator.optimizer.update({"w": g}, state, params)
        params = optax.apply_updates(params, updates)
        m, v = 0.9 * m + 0.1 * np.asarray(g, float), 0.999 * v + 0.001 * np.asarray(g, float) ** 2
        expected = -5e-4 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(np.asarray(updates["w"]), expected, rtol=1e-5, atol=1e-12)
