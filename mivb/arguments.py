"""What one call of ``mivb.estimate`` asked for: one typed record, built once and checked once.

``estimate`` builds an ``EstimateArguments`` from its keyword arguments and passes it to the path
that runs the call (``mivb.pipeline``'s ``trained`` and ``classical``, ``mivb.copula``,
``mivb.conditional``, ``mivb.streams``, the independence test and the screen). Building it checks
every argument on its own, with no data in view (types, ranges, choices: ``steps``, ``batch_size``,
the fractions, ``transform``, ``folds``, ``level``, ...), and keeps the checked values (NumPy integers
as ``int``); each path checks only what needs the data, the backend, the bound or its own rules. The
record imports none of the modules that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from ._progress import check_callback, check_progress
from .errors import invalid
from .intervals import check_folds, check_level
from .result import EstimateConfig
from .samples import check_transform
from .schedule import check_positive_int

if TYPE_CHECKING:
    from ._progress import TrainingProgress
    from .critics import CriticConfig

__all__ = ["EstimateArguments"]


@dataclass(frozen=True)
class EstimateArguments:
    """The arguments of one call of ``mivb.estimate`` but the samples, checked; the defaults are
    ``estimate``'s (a test keeps them equal), those that ``EstimateConfig`` records as they are read
    from it. A bad value raises a [`mivb.MivbError`][] here."""

    bound: str | list[str] | tuple[str, ...] | None = None
    backend: str | None = None
    critic: str | CriticConfig | dict[str, Any] | None = None
    steps: int = EstimateConfig.steps
    batch_size: int = EstimateConfig.batch_size
    learning_rate: float = EstimateConfig.learning_rate
    negative_samples: int | None = None
    ema_decay: float = EstimateConfig.ema_decay
    test_fraction: float = EstimateConfig.test_fraction
    validation_fraction: float = EstimateConfig.validation_fraction
    early_stopping: bool = EstimateConfig.early_stopping
    patience: int = EstimateConfig.patience
    transform: str | None = EstimateConfig.transform
    seed: int | None = None
    device: str | None = EstimateConfig.device
    devices: int | str | None = EstimateConfig.devices
    precision: str = EstimateConfig.precision
    compile: bool = EstimateConfig.compile
    linear_fallback: bool | None = None
    progress: bool | None = None
    callback: Callable[[TrainingProgress], Any] | None = None
    folds: int | None = EstimateConfig.folds
    level: float = EstimateConfig.level
    given: Any = None
    bound_params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Each argument checked on its own, in the order ``estimate`` always checked them."""
        check_progress(self.progress)
        check_callback(self.callback)
        batch_size = check_positive_int("batch_size", self.batch_size)
        if batch_size < 2:
            raise invalid("batch_size", "at least 2 pairs per batch", batch_size)
        fractions = {"test_fraction": self.test_fraction, "validation_fraction": self.validation_fraction}
        for name, fraction in fractions.items():
            if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.integer, np.floating)) \
                    or not 0.0 < fraction < 1.0:
                raise invalid(name, "a fraction strictly between 0 and 1", fraction)
        if sum(fractions.values()) >= 1.0:
            raise invalid("validation_fraction", f"at most 1 - test_fraction = {1 - fractions['test_fraction']:g}",
                          fractions["validation_fraction"])
        _check_bool("early_stopping", self.early_stopping)
        devices = self.devices
        if devices not in (None, 1, "all") and (isinstance(devices, bool) or not isinstance(devices, int)
                                                 or devices < 1):
            raise invalid("devices", "None (one device), 'all' or a positive number of devices", devices)
        if self.device is not None and not isinstance(self.device, str):
            raise invalid("device", "None or a device's name: 'cpu', 'cuda' or 'cuda:N' (a number alone names no "
                          "device)", self.device)
        checked = {
            "batch_size": batch_size,
            "test_fraction": float(fractions["test_fraction"]),
            "validation_fraction": float(fractions["validation_fraction"]),
            "steps": check_positive_int("steps", self.steps),
            "patience": check_positive_int("patience", self.patience),
            "transform": check_transform(self.transform),
            "folds": check_folds(self.folds),
            "level": check_level(self.level),
            "compile": _check_bool("compile", self.compile),
            "linear_fallback": (None if self.linear_fallback is None
                                else _check_bool("linear_fallback", self.linear_fallback)),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)  # frozen: the checked value, set once here

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


def _check_bool(argument: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(argument, "True or False", value)
    return value
