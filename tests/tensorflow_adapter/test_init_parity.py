"""The TensorFlow critics start from the distribution every backend shares, and train with the same Adam.

torch's ``nn.Linear`` / ``nn.Conv2d`` scheme, not Keras' Glorot-uniform weights and zero biases:
weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), variance bound^2 / 3 (issue #15, item 4).
"""

import math

import numpy as np
import pytest
from mivb_tensorflow import MIEstimator, build_critic

from mivb.critics import CriticConfig


def layers(critic):
    """(kernel, bias, fan_in) of every dense and convolutional layer (fan_in: all kernel axes but the last)."""
    variables = {v.path: v.numpy() for v in critic.weights}
    for path, kernel in variables.items():
        if path.endswith("/kernel"):
            yield kernel, variables[path[: -len("kernel")] + "bias"], math.prod(kernel.shape[:-1])


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
    critic = build_critic((20,), (20,), CriticConfig(kind=kind, hidden=(256, 256), embedding=32), seed=0,
                          baseline=True)
    found = list(layers(critic))
    assert {fan_in for *_, fan_in in found} >= {20 if kind == "separable" else 40, 256}
    for weight, bias, fan_in in found:
        check_fan_in_uniform(weight, bias, fan_in)


def test_conv_encoder_weights_and_biases_are_uniform_over_one_over_sqrt_fan_in():
    critic = build_critic((16, 16, 1), (16, 16, 1), CriticConfig(kind="conv", channels=(32, 64)), seed=0)
    fans = [fan_in for *_, fan_in in layers(critic)]
    assert 9 in fans and 9 * 32 in fans  # 3 x 3 kernels on 1 and on 32 channels
    for weight, bias, fan_in in layers(critic):
        check_fan_in_uniform(weight, bias, fan_in)


def test_a_seed_fixes_the_initial_weights():
    first, second, other = (build_critic((20,), (20,), CriticConfig(), seed=s) for s in (0, 0, 1))
    for a, b, c in zip(first.weights, second.weights, other.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert not np.array_equal(a.numpy(), c.numpy())


def test_adam_is_torch_default_adam_at_the_given_rate():
    """Betas (0.9, 0.999), eps 1e-8 (Keras' default is 1e-7), no weight decay, no clipping, a constant rate."""
    optimizer = MIEstimator(3, 3, bound="infonce", lr=5e-4, seed=0).optimizer
    assert (float(optimizer.learning_rate), optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == pytest.approx(
        (5e-4, 0.9, 0.999, 1e-8))
    assert not optimizer.amsgrad and optimizer.weight_decay is None
    assert optimizer.clipnorm is None and optimizer.global_clipnorm is None and optimizer.clipvalue is None
