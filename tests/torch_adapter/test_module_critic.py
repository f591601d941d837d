"""Your own nn.Module as the critic of estimate and MIEstimator."""

import mivb_torch
import numpy as np
import pytest
import torch
from torch import nn

import mivb

X, Z, TRUTH = mivb.correlated_gaussians(3000, 4, mivb.data.rho_for_mi(4, 1.0), seed=0)


class Embeddings(nn.Module):
    """A frozen "pretrained" encoder of x under a trainable head; an MLP of z."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 16)).requires_grad_(False)
        self.head_x = nn.Linear(16, 32)
        self.head_z = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 32))

    def forward(self, x, z):
        return self.head_x(self.encoder(x)), self.head_z(z)


class Matrix(nn.Module):
    def __init__(self):
        super().__init__()
        self.f, self.g = nn.Linear(4, 8), nn.Linear(4, 8)

    def forward(self, x, z):
        return self.f(x) @ self.g(z).T


def test_estimate_trains_your_module_and_leaves_its_frozen_part():
    critic = Embeddings()
    frozen, head = critic.encoder[0].weight.clone(), critic.head_x.weight.clone()
    result = mivb.estimate(X, Z, critic=critic, steps=600, seed=0, progress=False)
    assert abs(result.mi - TRUTH) < 0.2, (result, TRUTH)
    assert result.config.critic.kind == "module" and "Embeddings" in result.config.to_dict()["critic"]["module"]
    assert torch.equal(frozen, critic.encoder[0].weight) and not torch.equal(head, critic.head_x.weight)
    scores = critic(torch.as_tensor(X[:5]), torch.as_tensor(Z[:5]))  # the module now holds the best critic
    assert scores[0].shape == (5, 32)


def test_a_module_giving_the_matrix_scores_whole_batches_only():
    matrix = Matrix()
    estimator = mivb_torch.MIEstimator(4, 4, bound="infonce", critic=matrix)
    x, z = torch.as_tensor(X[:16]), torch.as_tensor(Z[:16])
    expected = mivb.bound("infonce", matrix(x, z))
    assert torch.allclose(estimator(x, z).mi, expected.detach())
    with pytest.raises(mivb.InvalidArgumentError, match="embeddings"):
        mivb.estimate(X, Z, critic=Matrix(), negative_samples=4, steps=5, seed=0, progress=False)


def test_sampled_negatives_and_a_baseline_with_your_embeddings():
    result = mivb.estimate(X, Z, critic=Embeddings(), bound="alpha", negative_samples=8, steps=100, seed=0,
                           progress=False)
    assert np.isfinite(result.mi) and result.config.critic.negative_samples == 8


def test_a_module_of_another_framework_is_refused():
    with pytest.raises(mivb.InvalidTypeError, match="torch.nn.Module"):
        mivb_torch.MIEstimator(4, 4, critic=lambda x, z: x @ z.T)
