"""The backend registry: which adapters exist, which can run here, and which one owns an array.

Built-in backends are listed below; other packages add theirs through the ``mivb.backends`` entry
point group, each entry naming a [`BackendSpec`][]. Nothing here imports a framework: a
framework counts as installed when its import spec is found, and an array can only belong to a
framework already imported (``sys.modules``), whose adapter then answers with ``isinstance``; so
``import mivb`` stays free of torch, jax and tensorflow.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from .errors import BackendNotAvailableError, InvalidTypeError, MivbError, describe, unknown_name
from .ops import ArrayOps

ENTRY_POINT_GROUP = "mivb.backends"


@dataclass(frozen=True)
class BackendSpec:
    """How to find a backend: its framework, the modules its arrays come from, its adapter."""

    name: str
    framework: str  # the module whose import makes the backend available
    install: str  # the command that installs it, for error messages
    adapter: str  # the module implementing the Adapter protocol


CAPABILITIES = {
    "autodiff": "value_and_grad differentiates a bound",
    "trains": "Trainer trains a critic for mivb.estimate",
    "shards": "Trainer splits each batch over several devices (estimate's devices=)",
    "compiles": "Trainer compiles its step on request (estimate's compile=True); without it a backend compiles "
                "its step always, or never",
}


class TrainedEstimator(Protocol):
    """What the core asks of the framework-native estimator a ``Trainer``
    trained (``result.estimator``): each pair's log density ratio, for pointwise MI, and a separable
    critic's embeddings, for the copula on them (``mivb.compression``)."""

    def pointwise(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Each pair's estimated log p(x, z) / (p(x) p(z)), float64 (``mivb.pointwise``)."""
        ...

    def embed(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's embeddings (f(x), g(z)) under a critic scoring <f(x), g(z)>, float64, in chunks of
        bounded memory; an error naming ``critic`` for a critic that is not separable."""
        ...


# The shapes a Trainer is built for: x's features, then z's (the sample axis left out).
FeatureShapes = tuple[tuple[int, ...], tuple[int, ...]]


class Trainer(Protocol):
    """What [`mivb.estimate`][mivb.estimate.estimate] drives: a critic over named splits of the data, kept on the device.

    ``Trainer(config, shapes, splits)`` (an adapter's ``TrainerFactory``):
    ``config`` an [`mivb.EstimateConfig`][] (``config.spec`` gives the estimator's arguments),
    ``shapes`` the feature shapes of x and z, ``splits`` maps a split's name ("train",
    "validation", "test") to its float32 (x, z) NumPy arrays. Every method below is called by the
    core: the held-out protocol (``mivb.protocol``: ``train``, ``values``, ``snapshot``,
    ``restore``), a stream (``put`` of its next training pairs), the independence test (``put`` of
    each shuffle) and the result (``trained``).
    """

    def train(self, batches: np.ndarray, shifts: np.ndarray | None) -> np.ndarray:
        """One step per row of ``batches`` (indices into the "train" split; ``shifts``: each step's
        derangement shifts with sampled negatives, else None); the values, as NumPy."""
        ...

    def values(self, split: str, batches: np.ndarray, shifts: np.ndarray | None,
               selection: bool = False) -> np.ndarray:
        """The bound on each row of ``batches`` of ``split``, as NumPy; nothing changes. ``selection``:
        the value that ranks critics instead (``EstimatorSpec.objective``)."""
        ...

    def snapshot(self) -> Any:
        """A copy of everything training changes, in the framework's own form."""
        ...

    def restore(self, snapshot: Any) -> None:
        """Back to a ``snapshot``."""
        ...

    def put(self, split: str, x: np.ndarray, z: np.ndarray) -> None:
        """Hold the pairs (x, z) on the device as ``split``, replacing any split of that name."""
        ...

    def trained(self) -> TrainedEstimator:
        """The framework-native estimator as trained (``result.estimator``)."""
        ...


# How an adapter builds its Trainer: Trainer(config, shapes, splits), config an EstimateConfig (typed
# Any here: the registry sits below the estimate's records, which import the bounds that import it).
TrainerFactory = Callable[[Any, FeatureShapes, Mapping[str, tuple[np.ndarray, np.ndarray]]], Trainer]


class Adapter(Protocol):
    """What an adapter module provides: the contract a backend meets (``adapters/mivb_torch`` is the model).

    Every backend computes bounds (``ops``, ``to_numpy``, ``from_numpy``, ``array_types``); the
    optional parts come with a capability: ``value_and_grad`` with "autodiff", ``Trainer`` with
    "trains", a ``Trainer`` honouring ``config.devices`` with "shards".
    """

    # Read-only properties, not attributes: a module's own narrower types (its ops class, a tuple of
    # its array classes, its Trainer class) then meet them, as they could not a settable attribute.
    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> frozenset[str]: ...

    @property
    def ops(self) -> ArrayOps: ...

    @property
    def array_types(self) -> tuple[type, ...]:
        """The framework's array classes: ``isinstance`` recognises its arrays."""
        ...

    @property
    def Trainer(self) -> TrainerFactory:  # named as the class each adapter provides
        ...

    def to_numpy(self, x: Any, argument: str = "x") -> Any:
        """A NumPy copy of ``x``; an array NumPy cannot hold is a MivbError naming ``argument``."""

    def from_numpy(self, x: Any, like: Any = None) -> Any: ...

    def value_and_grad(self, fn: Callable[..., Any], *args: Any) -> tuple[Any, tuple[Any, ...]]: ...


BUILTIN = (
    BackendSpec("numpy", "numpy", 'pip install mivb', "mivb._numpy_backend"),
    BackendSpec("torch", "torch", 'pip install "mivb[torch]"', "mivb_torch"),
    BackendSpec("jax", "jax", 'pip install "mivb[jax]"', "mivb_jax"),
    BackendSpec("tensorflow", "tensorflow", 'pip install "mivb[tensorflow]"', "mivb_tensorflow"),
)


@functools.cache
def registered() -> dict[str, BackendSpec]:
    """Every known backend, built-in first, then those other packages register."""
    specs = {spec.name: spec for spec in BUILTIN}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        spec = entry.load()
        if not isinstance(spec, BackendSpec):
            raise MivbError(f"entry point {entry.value!r}: expected a mivb.BackendSpec, received {describe(spec)}")
        specs.setdefault(spec.name, spec)
    return specs


def installed(module: str) -> bool:
    """Whether ``module`` can be imported here, found without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def available_backends() -> list[str]:
    """Names of the backends whose framework and adapter are installed here."""
    return [name for name, spec in registered().items() if installed(spec.framework) and installed(spec.adapter)]


def get_backend(name: str) -> Adapter:
    """The adapter module of backend ``name``, imported on first use."""
    specs = registered()
    if name not in specs:
        raise unknown_name("backend", name, specs)
    return _load(specs[name])


@functools.cache
def _load(spec: BackendSpec) -> ModuleType:
    # Cached: later calls (inside a tf.function or jax.jit trace, too) touch no import machinery.
    if not installed(spec.framework) or not installed(spec.adapter):
        raise BackendNotAvailableError(
            f"backend: {spec.name!r} needs {spec.framework!r}, which is not installed here; "
            f"fix with: {spec.install}"
        )
    return importlib.import_module(spec.adapter)


def backend_name_of(array: Any) -> str | None:
    """The backend whose framework's array type ``array`` is an instance of, or None (a number, a list).

    Only frameworks already imported are asked: an array of a framework never imported cannot exist.
    When several claim it (a plugin's subclass of ``np.ndarray``), the most specific type wins.
    """
    mro = type(array).__mro__
    claims = {}
    for spec in registered().values():
        if spec.framework in sys.modules and installed(spec.adapter):
            # A virtual subclass (a JAX tracer is a jax.Array by registration) ranks after real ones.
            matches = [mro.index(t) if t in mro else len(mro) for t in _load(spec).array_types if isinstance(array, t)]
            if matches:
                claims[spec.name] = min(matches)
    return min(claims, key=claims.__getitem__) if claims else None


def backend_of(**arrays: Any) -> Adapter:
    """The one adapter owning every array passed; mixing frameworks is an error."""
    owners = {argument: backend_name_of(array) for argument, array in arrays.items()}
    names = {owner for owner in owners.values() if owner is not None}
    if len(names) < len(set(owners.values())):
        argument = next(a for a, owner in owners.items() if owner is None)
        raise InvalidTypeError(
            f"{argument}: expected an array of a registered backend ({', '.join(registered())}), "
            f"received {argument}={describe(arrays[argument])}"
        )
    if len(names) > 1:
        received = ", ".join(f"{a}={owner}" for a, owner in owners.items())
        raise InvalidTypeError(f"arrays: expected arrays of one framework, received {received}")
    return get_backend(names.pop())
