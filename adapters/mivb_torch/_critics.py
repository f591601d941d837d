from __future__ import annotations

import torch
from torch import nn

from mivb.critics import CriticConfig

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
    "silu": nn.SiLU, "tanh": nn.Tanh, "softplus": nn.Softplus,
}


def mlp(dim_in: int, config: CriticConfig, dim_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in config.hidden:
        layers += [nn.Linear(dim_in, width), ACTIVATIONS[config.activation]()]
        dim_in = width
    return nn.Sequential(*layers, nn.Linear(dim_in, dim_out))


def shifted(z: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """``z[(i + shifts[k]) % n]`` for every row i and shift k: shape (n, K, ...)."""
    n = z.shape[0]
    index = (torch.arange(n, device=z.device)[:, None] + shifts[None, :]) % n
    return z[index]


class JointCritic(nn.Module):
    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig):
        super().__init__()
        self.net = mlp(dim_x + dim_z, config, 1)

    def pair_scores(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, z], dim=-1)).squeeze(-1)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        return self.pair_scores(x[:, None, :].expand(n, n, -1), z[None, :, :].expand(n, n, -1))

    def sampled(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = shifts.shape[0]
        return self.pair_scores(x, z), self.pair_scores(x[:, None, :].expand(-1, k, -1), shifted(z, shifts))


class SeparableCritic(nn.Module):
    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig):
        super().__init__()
        self.f = mlp(dim_x, config, config.embedding)
        self.g = mlp(dim_z, config, config.embedding)

    def embed(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.f(x), self.g(z)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        fx, gz = self.embed(x, z)
        return fx @ gz.T

    def sampled(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fx, gz = self.embed(x, z)
        return (fx * gz).sum(-1), (fx[:, None, :] * shifted(gz, shifts)).sum(-1)


class BilinearCritic(SeparableCritic):
    def __init__(self, dim_x: int, dim_z: int, config: CriticConfig):
        super().__init__(dim_x, dim_z, config)
        self.w = nn.Parameter(torch.eye(config.embedding))

    def embed(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.f(x) @ self.w, self.g(z)


CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic}


def build_critic(dim_x: int, dim_z: int, config: CriticConfig) -> nn.Module:
    return CRITICS[config.kind](dim_x, dim_z, config)
