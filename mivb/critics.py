"""Critic configurations as plain data; each adapter builds the network a configuration describes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .errors import invalid, unknown_name

CRITIC_KINDS = {
    "joint": "an MLP on the concatenated pair (x, z); the full matrix costs N*N network passes",
    "separable": "two MLP encoders; score = <f(x), g(z)>, the full matrix is one matrix product",
    "bilinear": "two MLP encoders with a learned matrix between them: score = f(x)^T W g(z)",
    "classifier": "an MLP of x giving log q(z | x) over the classes of labels z (one-hot); score = log q(z_j | x_i) "
                  "(what ba needs)",
    "module": "your own module (nn.Module, equinox Module, Keras layer), called as module(x, z): it returns the "
              "(N, N) scores, or a separable critic's embeddings (f(x), g(z)) (which also allow sampled negatives "
              "and several devices)",
    "conditional": "a diagonal Gaussian q(z | x), its mean and log-variance an MLP of x; score = log q(z | x), "
                   "row i holding z_i's log-density under every x_j (what the upper bounds need)",
}
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "softplus")
ENCODERS = {
    "auto": "conv for inputs with more than one feature axis (images), mlp for vectors",
    "mlp": "fully connected layers on the flattened input",
    "conv": "3x3 convolutions of stride 2 (channels first in torch, channels last in JAX and TensorFlow), "
            "then the fully connected layers",
}


class UserModule:
    """A critic module a user brings, held by a [`CriticConfig`][]; configurations holding one are
    equal only when they hold the very same module (its parameters are the user's, not a copy)."""

    def __init__(self, module: Any):
        self.module = module

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserModule) and other.module is self.module

    def __hash__(self) -> int:
        return id(self.module)

    def __repr__(self) -> str:
        return f"UserModule({type(self.module).__module__}.{type(self.module).__qualname__})"


@dataclass(frozen=True)
class CriticConfig:
    """What network scores the pairs, and which negatives it is shown.

    ``negative_samples=None`` scores every pair of the batch (the full N x N matrix, K = N - 1);
    an integer K scores K sampled derangements of the batch instead (the original project's
    ``negative_samples``), the cheap choice for joint critics on large batches.

    ``encoder`` turns each input into features: ``mlp`` for vectors, ``conv`` for images
    (``channels`` gives the convolution widths); ``auto`` picks by the input's rank. ``critic="conv"``
    is shorthand for a separable critic with convolutional encoders. ``module``: your own critic
    (``kind="module"``, made by passing the module itself as ``critic=``); the layer fields are unused.
    """

    kind: str = "separable"
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    embedding: int = 32
    negative_samples: int | None = None
    encoder: str = "auto"
    channels: tuple[int, ...] = (32, 64)
    module: UserModule | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "conv":  # shorthand for images
            object.__setattr__(self, "kind", "separable")
            object.__setattr__(self, "encoder", "conv")
        if self.kind not in CRITIC_KINDS:
            raise unknown_name("critic", self.kind, [*CRITIC_KINDS, "conv"])
        if self.activation not in ACTIVATIONS:
            raise unknown_name("activation", self.activation, ACTIVATIONS)
        if self.encoder not in ENCODERS:
            raise unknown_name("encoder", self.encoder, ENCODERS)
        for argument in ("hidden", "channels"):
            widths = tuple(getattr(self, argument))
            if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
                raise invalid(argument, "a sequence of positive layer widths", getattr(self, argument))
            object.__setattr__(self, argument, widths)
        if not isinstance(self.embedding, int) or isinstance(self.embedding, bool) or self.embedding < 1:
            raise invalid("embedding", "a positive integer embedding size", self.embedding)
        k = self.negative_samples
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
            raise invalid("negative_samples", "None (full matrix) or an integer K >= 1", k)
        if (self.kind == "module") != (self.module is not None):
            raise invalid("critic", "kind='module' with a module, made by passing the module itself as critic=",
                          self.kind)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: a user's module appears as its class's name."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["module"] = None if self.module is None else repr(self.module)
        return data


def critic_config(critic: str | CriticConfig | Mapping[str, Any], **overrides: Any) -> CriticConfig:
    """Coerce a kind name, a mapping or a config into a [`CriticConfig`][], then apply overrides."""
    if isinstance(critic, CriticConfig):
        config = critic
    elif isinstance(critic, str):
        config = CriticConfig(kind=critic)
    elif isinstance(critic, Mapping):
        unknown = set(critic) - set(CriticConfig.__dataclass_fields__) | ({"module"} & set(critic))
        if unknown:
            raise unknown_name("critic", min(unknown), set(CriticConfig.__dataclass_fields__) - {"module"})
        config = CriticConfig(**critic)
    elif callable(critic):
        config = CriticConfig(kind="module", module=UserModule(critic))
    else:
        raise invalid("critic", "a kind name, a mapping, a CriticConfig or your own critic module", critic)
    overrides = {key: value for key, value in overrides.items() if value is not None}
    return replace(config, **overrides) if overrides else config


def uses_conv(config: CriticConfig, shape: tuple[int, ...]) -> bool:
    """Whether inputs of feature shape ``shape`` (one sample's) go through a convolutional encoder."""
    if config.encoder == "auto":
        return len(shape) > 1
    if config.encoder == "conv" and len(shape) != 3:
        raise invalid("x", "images, (n, C, H, W) in torch or (n, H, W, C) in JAX and TensorFlow, for a conv encoder",
                      f"samples of shape (n, {', '.join(map(str, shape))})")
    return config.encoder == "conv"


def check_critic_takes(config: CriticConfig, x: Any, z: Any) -> None:
    """Samples a critic of ``config`` can score: vectors, or images for a conv encoder ("mlp" flattens any);
    a user's module takes whatever it takes."""
    if config.kind == "module":
        return
    if config.kind == "conditional" and len(z.shape) != 2:
        raise invalid("z", "vectors (n, d) for critic='conditional' (a Gaussian density of z given x); flatten "
                      "with z.reshape(len(z), -1)", z)
    for argument, samples in (("x", x), ("z", z)):
        shape = tuple(samples.shape[1:])
        if config.encoder != "mlp" and len(shape) not in (1, 3):
            raise invalid(argument, "vectors (n, d) or images (n, C, H, W) in torch, (n, H, W, C) in JAX and "
                          "TensorFlow; flatten other shapes with x.reshape(len(x), -1), or pass "
                          "critic={'encoder': 'mlp'}", samples)
    check_critic_size(config, tuple(x.shape[1:]), tuple(z.shape[1:]))


# Parameters a built-in critic may have: 10**8 float32 weights are 0.4 GB, 1.6 GB with Adam's two
# moments and the gradient; embedding=10**7 asked for 2.6e9 and killed the process.
MAX_CRITIC_PARAMETERS = 10**8


def critic_parameters(config: CriticConfig, shape_x: tuple[int, ...], shape_z: tuple[int, ...]) -> int:
    """About how many weights the critic of ``config`` has on samples of these shapes (a baseline
    network aside): its encoders' layers, with each stride-2 convolution halving the image's sides."""
    def mlp_parameters(width: int, out: int) -> int:
        count = 0
        for layer in (*config.hidden, out):
            count += (width + 1) * layer
            width = layer
        return count

    def encoder(shape: tuple[int, ...], out: int) -> int:
        count, width = 0, math.prod(shape)
        if uses_conv(config, shape):
            channels = min(shape[0], shape[-1])  # channels first (torch) or last (JAX, TensorFlow)
            for layer in config.channels:
                count += 9 * channels * layer + layer
                channels, width = layer, max(1, width // (4 * max(1, channels)) * layer)
        return count + mlp_parameters(width, out)

    d_z = math.prod(shape_z)
    if config.kind == "joint":  # images are first encoded to ``embedding`` features each
        parts = [(encoder(shape, config.embedding), config.embedding) if uses_conv(config, shape)
                 else (0, math.prod(shape)) for shape in (shape_x, shape_z)]
        return sum(count for count, _ in parts) + mlp_parameters(sum(width for _, width in parts), 1)
    if config.kind == "conditional":
        return encoder(shape_x, 2 * d_z)
    if config.kind == "classifier":
        return encoder(shape_x, d_z)
    bilinear = config.embedding**2 if config.kind == "bilinear" else 0
    return encoder(shape_x, config.embedding) + encoder(shape_z, config.embedding) + bilinear


def check_critic_size(config: CriticConfig, shape_x: tuple[int, ...], shape_z: tuple[int, ...]) -> None:
    if config.kind == "module":
        return
    count = critic_parameters(config, shape_x, shape_z)
    if count > MAX_CRITIC_PARAMETERS:
        raise invalid("critic", f"a critic of at most {MAX_CRITIC_PARAMETERS:.0e} parameters (hidden "
                      f"{config.hidden}, embedding {config.embedding} on these samples make about {count:.2g}); "
                      f"use smaller layers", config)


def check_negative_samples(config: CriticConfig, batch_size: int) -> None:
    k = config.negative_samples
    if k is not None and k > batch_size - 1:
        raise invalid("negative_samples", f"K <= batch_size - 1 = {batch_size - 1} derangements", k)
