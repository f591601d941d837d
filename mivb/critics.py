"""Critic configurations as plain data; each adapter builds the network a configuration describes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

from .errors import invalid, unknown_name

CRITIC_KINDS = {
    "joint": "an MLP on the concatenated pair (x, z); the full matrix costs N*N network passes",
    "separable": "two MLP encoders; score = <f(x), g(z)>, the full matrix is one matrix product",
    "bilinear": "two MLP encoders with a learned matrix between them: score = f(x)^T W g(z)",
}
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "softplus")


@dataclass(frozen=True)
class CriticConfig:
    """What network scores the pairs, and which negatives it is shown.

    ``negative_samples=None`` scores every pair of the batch (the full N x N matrix, K = N - 1);
    an integer K scores K sampled derangements of the batch instead (the original project's
    ``negative_samples``), the cheap choice for joint critics on large batches.
    """

    kind: str = "separable"
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    embedding: int = 32
    negative_samples: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in CRITIC_KINDS:
            raise unknown_name("critic", self.kind, CRITIC_KINDS)
        if self.activation not in ACTIVATIONS:
            raise unknown_name("activation", self.activation, ACTIVATIONS)
        hidden = tuple(self.hidden)
        if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden):
            raise invalid("hidden", "a sequence of positive layer widths", self.hidden)
        object.__setattr__(self, "hidden", hidden)
        if not isinstance(self.embedding, int) or isinstance(self.embedding, bool) or self.embedding < 1:
            raise invalid("embedding", "a positive integer embedding size", self.embedding)
        k = self.negative_samples
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
            raise invalid("negative_samples", "None (full matrix) or an integer K >= 1", k)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def critic_config(critic: str | CriticConfig | Mapping[str, Any], **overrides: Any) -> CriticConfig:
    """Coerce a kind name, a mapping or a config into a :class:`CriticConfig`, then apply overrides."""
    if isinstance(critic, CriticConfig):
        config = critic
    elif isinstance(critic, str):
        config = CriticConfig(kind=critic)
    elif isinstance(critic, Mapping):
        unknown = set(critic) - set(CriticConfig.__dataclass_fields__)
        if unknown:
            raise unknown_name("critic", sorted(unknown)[0], CriticConfig.__dataclass_fields__)
        config = CriticConfig(**critic)
    else:
        raise invalid("critic", "a kind name, a mapping or a CriticConfig", critic)
    overrides = {key: value for key, value in overrides.items() if value is not None}
    return replace(config, **overrides) if overrides else config


def check_negative_samples(config: CriticConfig, batch_size: int) -> None:
    k = config.negative_samples
    if k is not None and k > batch_size - 1:
        raise invalid("negative_samples", f"K <= batch_size - 1 = {batch_size - 1} derangements", k)
