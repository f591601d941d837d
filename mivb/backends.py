"""The backend registry: which adapters exist, which can run here, and which one owns an array.

Built-in backends are listed below; other packages add theirs through the ``mivb.backends`` entry
point group, each entry naming a :class:`BackendSpec`. Nothing here imports a framework: a
framework counts as installed when its import spec is found, and an array's owner is read off the
module of its type, so ``import mivb`` stays free of torch, jax and tensorflow.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from .errors import BackendNotAvailableError, InvalidTypeError, MivbError, describe, unknown_name
from .ops import ArrayOps

ENTRY_POINT_GROUP = "mivb.backends"


@dataclass(frozen=True)
class BackendSpec:
    """How to find a backend: its framework, the modules its arrays come from, its adapter."""

    name: str
    framework: str
    array_modules: tuple[str, ...]
    install: str
    adapter: str


class Adapter(Protocol):
    """What an adapter module provides (see ``adapters/mivb_torch`` for the model)."""

    name: str
    differentiable: bool
    ops: ArrayOps

    def to_numpy(self, x: Any) -> Any: ...

    def from_numpy(self, x: Any, like: Any = None) -> Any: ...


BUILTIN = (
    BackendSpec("numpy", "numpy", ("numpy",), 'pip install mivb', "mivb._numpy_backend"),
    BackendSpec("torch", "torch", ("torch",), 'pip install "mivb[torch]"', "mivb_torch"),
    BackendSpec("jax", "jax", ("jax", "jaxlib"), 'pip install "mivb[jax]"', "mivb_jax"),
    BackendSpec("tensorflow", "tensorflow", ("tensorflow", "keras"), 'pip install "mivb[tensorflow]"',
                "mivb_tensorflow"),
)


@functools.lru_cache(maxsize=None)
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


@functools.lru_cache(maxsize=None)
def _load(spec: BackendSpec) -> ModuleType:
    # Cached: later calls (inside a tf.function or jax.jit trace, too) touch no import machinery.
    if not installed(spec.framework) or not installed(spec.adapter):
        raise BackendNotAvailableError(
            f"backend: {spec.name!r} needs {spec.framework!r}, which is not installed here; "
            f"fix with: {spec.install}"
        )
    return importlib.import_module(spec.adapter)


def backend_name_of(array: Any) -> str | None:
    """The backend that owns ``array``'s type, or None for a Python number or list."""
    root = type(array).__module__.split(".")[0]
    for spec in registered().values():
        if root in spec.array_modules:
            return spec.name
    return None


def backend_of(**arrays: Any) -> Adapter:
    """The one adapter owning every array passed; mixing frameworks is an error."""
    owners = {argument: backend_name_of(array) for argument, array in arrays.items()}
    names = set(owners.values())
    if None in names:
        argument = next(a for a, owner in owners.items() if owner is None)
        raise InvalidTypeError(
            f"{argument}: expected an array of a registered backend ({', '.join(registered())}), "
            f"received {argument}={describe(arrays[argument])}"
        )
    if len(names) > 1:
        received = ", ".join(f"{a}={owner}" for a, owner in owners.items())
        raise InvalidTypeError(f"arrays: expected arrays of one framework, received {received}")
    return get_backend(names.pop())
