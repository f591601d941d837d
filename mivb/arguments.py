"""What one call of ``mivb.estimate`` asked for, before any check: one typed record, built once.

``estimate`` builds an ``EstimateArguments`` from its keyword
arguments and passes it to the path that runs the call (``mivb.pipeline``'s ``trained`` and
``classical``, ``mivb.copula``, ``mivb.conditional``, ``mivb.streams``, the independence test and
the screen); each path checks what it reads into the ``EstimateConfig`` it ran with. The record
imports none of the modules that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .errors import invalid

if TYPE_CHECKING:
    from ._progress import TrainingProgress
    from .critics import CriticConfig

__all__ = ["EstimateArguments"]


@dataclass(frozen=True)
class EstimateArguments:
    """The arguments of one call of ``mivb.estimate`` but the samples, as given;
    the defaults are ``estimate``'s (a test keeps them equal)."""

    bound: str | list[str] | tuple[str, ...] | None = None
    backend: str | None = None
    critic: str | CriticConfig | dict[str, Any] | None = None
    steps: int = 5000
    batch_size: int = 128
    learning_rate: float = 5e-4
    negative_samples: int | None = None
    ema_decay: float = 0.99
    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    early_stopping: bool = True
    patience: int = 10
    transform: str | None = "auto"
    seed: int | None = None
    device: str | None = None
    devices: int | str | None = None
    precision: str = "float32"
    compile: bool = False
    linear_fallback: bool | None = None
    progress: bool | None = None
    callback: Callable[[TrainingProgress], Any] | None = None
    folds: int | None = None
    level: float = 0.95
    given: Any = None
    bound_params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``bound`` as the one name a single estimate runs (``estimate`` resolves None and splits a
        list before any path reads it)."""
        if not isinstance(self.bound, str):
            raise invalid("bound", "one name of mivb.estimators()", self.bound)
        return self.bound

    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``estimate`` that repeat this call, less ``bound``, its
        parameters and ``seed``."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("bound", "bound_params", "seed")}
