"""mivb: mutual information from variational bounds, in PyTorch, JAX and TensorFlow."""

from . import clipping, ema, reference, scores
from ._progress import TrainingProgress
from .backends import BackendSpec, available_backends, get_backend
from .bounds import BOUNDS, Bound, MovingAverage, Totals, bound, register_bound, unregister_bound
from .catalogue import EstimatorInfo, estimators
from .critics import CriticConfig
from .data import correlated_gaussians, gaussian_mi
from .errors import BackendNotAvailableError, InvalidArgumentError, InvalidTypeError, MivbError, UnknownNameError
from .estimate import Estimate, EstimateConfig, estimate
from .independence import IndependenceTest, independence_test
from .many import TaskFailure, estimate_many
from .matrix import mi_matrix
from .notes import NoteWarning
from .screen import screen
from .spec import EstimatorSpec

__all__ = [
    "BOUNDS",
    "BackendNotAvailableError",
    "BackendSpec",
    "Bound",
    "CriticConfig",
    "Estimate",
    "EstimateConfig",
    "EstimatorInfo",
    "EstimatorSpec",
    "IndependenceTest",
    "InvalidArgumentError",
    "InvalidTypeError",
    "MivbError",
    "MovingAverage",
    "NoteWarning",
    "TaskFailure",
    "Totals",
    "TrainingProgress",
    "UnknownNameError",
    "available_backends",
    "bound",
    "clipping",
    "correlated_gaussians",
    "ema",
    "estimate",
    "estimate_many",
    "estimators",
    "gaussian_mi",
    "get_backend",
    "independence_test",
    "mi_matrix",
    "reference",
    "register_bound",
    "scores",
    "screen",
    "unregister_bound",
]
from importlib.metadata import PackageNotFoundError as _NotInstalled
from importlib.metadata import version as _installed_version

try:  # the installed distribution's version: pyproject.toml is the one place it is written
    __version__ = _installed_version("mivb")
except _NotInstalled:  # a source tree put on sys.path by hand, never installed
    __version__ = "0+unknown"
del _NotInstalled, _installed_version
