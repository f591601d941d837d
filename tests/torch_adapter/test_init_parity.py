"""The torch critics start from the distribution every backend shares, and train with the same Adam.

torch's ``nn.Linear`` / ``nn.Conv2d`` scheme: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
variance bound^2 / 3. The JAX and TensorFlow adapters' tests check the same numbers (issue #15, item 4).
"""

import math

import numpy as np
import pytest
import torch
from mivb_torch import MIEstimator, build_critic
from torch import nn

from mivb.critics import CriticConfig


def layers(critic):
    """(weight, bias, fan_in) of every linear and convolutional layer."""
    for module in critic.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            weight = module.weight.detach().numpy()
            yield weight, module.bias.detach().numpy(), weight[0].size


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
                          torch.Generator().manual_seed(0), baseline=True)
    found = list(layers(critic))
    assert {fan_in for *_, fan_in in found} >= {20 if kind == "separable" else 40, 256}
    for weight, bias, fan_in in found:
        check_fan_in_uniform(weight, bias, fan_in)


def test_conv_encoder_weights_and_biases_are_uniform_over_one_over_sqrt_fan_in():
    critic = build_critic((1, 16, 16), (1, 16, 16), CriticConfig(kind="conv", channels=(32, 64)),
                          torch.Generator().manual_seed(0))
    fans = [fan_in for *_, fan_in in layers(critic)]
    assert 9 in fans and 9 * 32 in fans  # 3 x 3 kernels on 1 and on 32 channels
    for weight, bias, fan_in in layers(critic):
        check_fan_in_uniform(weight, bias, fan_in)


def test_adam_is_torch_default_adam_at_the_given_rate():
    estimator = MIEstimator(3, 3, bound="infonce", lr=5e-4, seed=0)
    assert isinstance(estimator.optimizer, torch.optim.Adam)
    group = estimator.optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"], group["amsgrad"]) == (
        5e-4, (0.9, 0.999), 1e-8, 0, False)
