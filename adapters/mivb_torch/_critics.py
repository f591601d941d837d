from __future__ import annotations

import math
from typing import TypeVar

import torch
from torch import nn

from mivb.critics import CriticConfig, uses_conv
from mivb.errors import InvalidTypeError, invalid

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


def conv_features(shape: tuple[int, ...], config: CriticConfig) -> tuple[nn.Sequential, int]:
    """Stride-2 3x3 convolutions on (C, H, W) inputs, flattened; returns the stack and its width."""
    layers: list[nn.Module] = []
    channels = shape[0]
    for width in config.channels:
        layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), ACTIVATIONS[config.activation]()]
        channels = width
    stack = nn.Sequential(*layers, nn.Flatten())
    with torch.no_grad():
        width = stack(torch.zeros(1, *shape)).shape[1]
    return stack, width


def encoder(shape: tuple[int, ...], config: CriticConfig, dim_out: int) -> nn.Sequential:
    if uses_conv(config, shape):
        features, width = conv_features(shape, config)
        return nn.Sequential(features, mlp(width, config, dim_out))
    return nn.Sequential(nn.Flatten(), mlp(math.prod(shape), config, dim_out))


def shifted(z: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """``z[(i + shifts[k]) % n]`` for every row i and shift k: shape (n, K, ...)."""
    n = z.shape[0]
    index = (torch.arange(n, device=z.device)[:, None] + shifts[None, :]) % n
    return z[index]


class Critic(nn.Module):
    """Scores pairs from per-sample features: ``features`` gives each row's and each column's, ``pairs``
    scores them pair by pair, ``matrix`` every row against every column. ``baseline``: a network
    giving each row's sample a log-baseline (for the bounds that read one), or None."""

    def __init__(self, row_shape: tuple[int, ...], config: CriticConfig, baseline: bool):
        super().__init__()
        self.baseline = encoder(row_shape, config, 1) if baseline else None

    def features(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's and each column's features, from which ``pairs`` and ``matrix`` score."""
        raise NotImplementedError  # every kind of critic defines its own

    def pairs(self, rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """The score of each row with the column at the same place."""
        raise NotImplementedError  # every kind of critic defines its own

    def matrix(self, rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        n, m = rows.shape[0], columns.shape[0]
        return self.pairs(rows[:, None, :].expand(n, m, -1), columns[None, :, :].expand(n, m, -1))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.matrix(*self.features(x, z))

    def sampled(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rows, columns = self.features(x, z)
        negatives = shifted(columns, shifts)
        return self.pairs(rows, columns), self.pairs(rows[:, None, :].expand(-1, negatives.shape[1], -1), negatives)

    def row_baseline(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor | None:
        return None if self.baseline is None else self.baseline(self.row_samples(x, z)).squeeze(-1)

    def row_samples(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return x


class JointCritic(Critic):
    """An MLP on the pair; images are first encoded to ``embedding`` features each."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool):
        super().__init__(shape_x, config, baseline)
        self.f = encoder(shape_x, config, config.embedding) if uses_conv(config, shape_x) else nn.Flatten()
        self.g = encoder(shape_z, config, config.embedding) if uses_conv(config, shape_z) else nn.Flatten()
        width = sum(config.embedding if uses_conv(config, s) else math.prod(s) for s in (shape_x, shape_z))
        self.net = mlp(width, config, 1)

    def features(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.f(x), self.g(z)

    def pairs(self, fx: torch.Tensor, gz: torch.Tensor) -> torch.Tensor:
        scores: torch.Tensor = self.net(torch.cat([fx, gz], dim=-1)).squeeze(-1)
        return scores


class SeparableCritic(Critic):
    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool):
        super().__init__(shape_x, config, baseline)
        self.f = encoder(shape_x, config, config.embedding)
        self.g = encoder(shape_z, config, config.embedding)

    def features(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.f(x), self.g(z)

    def pairs(self, fx: torch.Tensor, gz: torch.Tensor) -> torch.Tensor:
        return (fx * gz).sum(-1)

    def matrix(self, fx: torch.Tensor, gz: torch.Tensor) -> torch.Tensor:
        return fx @ gz.T


class BilinearCritic(SeparableCritic):
    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool):
        super().__init__(shape_x, shape_z, config, baseline)
        self.w = nn.Parameter(torch.eye(config.embedding))

    def features(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.f(x) @ self.w, self.g(z)


class ConditionalCritic(Critic):
    """q(z | x) = N(mean(x), diag exp(log_variance(x))): rows are z, columns the (mean, log-variance) of x."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool):
        super().__init__(shape_z, config, baseline)
        self.f = encoder(shape_x, config, 2 * math.prod(shape_z))

    def features(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return z, self.f(x)

    def pairs(self, z: torch.Tensor, moments: torch.Tensor) -> torch.Tensor:
        mean, raw = moments.chunk(2, dim=-1)
        log_variance = LOG_VARIANCE_LIMIT * torch.tanh(raw / LOG_VARIANCE_LIMIT)
        return -0.5 * ((z - mean) ** 2 * torch.exp(-log_variance) + log_variance + LOG_2PI).sum(-1)

    def row_samples(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return z


class ClassifierCritic(Critic):
    """q(z | x) over C classes: rows are log q(. | x), columns one-hot labels z (C,)."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, baseline: bool):
        super().__init__(shape_x, config, baseline)
        self.f = encoder(shape_x, config, math.prod(shape_z))

    def features(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.log_softmax(self.f(x), dim=-1), z

    def pairs(self, log_q: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (log_q * z).sum(-1)

    def matrix(self, log_q: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return log_q @ z.T


class ModuleCritic(Critic):
    """Your module as the critic: ``module(x, z)`` gives the (N, N) scores, or embeddings (f(x), g(z))."""

    def __init__(self, shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig, module: nn.Module):
        super().__init__(shape_x, config, False)  # a baseline, if any, is added by build_critic
        self.module, self.shapes = module, (shape_x, shape_z)

    def features(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, z

    def matrix(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        scores = self.module(x, z)
        matrix: torch.Tensor = scores[0] @ scores[1].T if isinstance(scores, tuple) else scores
        return matrix

    def pairs(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        batch = x.shape[: x.ndim - len(self.shapes[0])]
        embeddings = self.module(x.reshape(-1, *self.shapes[0]), z.reshape(-1, *self.shapes[1]))
        if not isinstance(embeddings, tuple):
            raise invalid("critic", "a module returning embeddings (f(x), g(z)) for sampled negatives or several "
                          "devices (a module returning the (N, N) matrix works on whole batches only)", type(self.module))
        paired: torch.Tensor = (embeddings[0] * embeddings[1]).sum(-1).reshape(batch)
        return paired


LOG_2PI = math.log(2 * math.pi)
# A variance of e^-10 to e^10 on standardised data: wide enough for any conditional the data
# allow, and no step of the likelihood's fit can send it to zero or infinity.
LOG_VARIANCE_LIMIT = 10.0
CRITICS = {"joint": JointCritic, "separable": SeparableCritic, "bilinear": BilinearCritic,
           "conditional": ConditionalCritic, "classifier": ClassifierCritic}


def build_critic(shape_x: tuple[int, ...], shape_z: tuple[int, ...], config: CriticConfig,
                 generator: torch.Generator | None = None, baseline: bool = False) -> Critic:
    """The critic ``config`` describes, initialised as torch initialises its layers, drawing from
    ``generator`` (default: a generator seeded from torch's global one). Building it touches no
    other random state, so estimators built in several threads at once stay reproducible.
    ``baseline``: with a network for each row's log-baseline."""
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.randint(2**62, (1,))))
    if config.module is not None:  # kind "module"
        if not isinstance(config.module.module, nn.Module):
            raise invalid("critic", "a torch.nn.Module for backend 'torch'", type(config.module.module),
                          error=InvalidTypeError)
        # The module's parameters stay the user's.
        critic: Critic = ModuleCritic(shape_x, shape_z, config, config.module.module)
        if baseline:
            critic.baseline = _initialised(encoder(shape_x, config, 1), config, generator)
        return critic
    with torch.device("meta"):  # shapes only: the parameters are drawn below
        critic = CRITICS[config.kind](shape_x, shape_z, config, baseline)
    return _initialised(critic.to_empty(device="cpu"), config, generator)


Layers = TypeVar("Layers", bound=nn.Module)


def _initialised(critic: Layers, config: CriticConfig, generator: torch.Generator) -> Layers:
    with torch.no_grad():
        for module in critic.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):  # torch's reset_parameters, from `generator`
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                fan_in = module.weight[0].numel()
                if module.bias is not None:  # every layer of mivb's critics has one
                    nn.init.uniform_(module.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=generator)
            elif isinstance(module, BilinearCritic):
                module.w.copy_(torch.eye(config.embedding))
    return critic
