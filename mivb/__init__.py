"""mivb: mutual information from variational bounds, in PyTorch, JAX and TensorFlow."""

from .backends import BackendSpec, available_backends, get_backend
from . import clipping, ema, reference, scores
from .bounds import BOUNDS, Bound, MovingAverage, Totals, bound, register_bound, unregister_bound
from .critics import CriticConfig
from .data import correlated_gaussians, gaussian_mi
from .errors import BackendNotAvailableError, InvalidArgumentError, InvalidTypeError, MivbError, UnknownNameError
from .estimate import Estimate, EstimateConfig, estimate
from .spec import EstimatorSpec

__all__ = [
    "BOUNDS",
    "BackendNotAvailableError",
    "BackendSpec",
    "Bound",
    "CriticConfig",
    "Estimate",
    "EstimateConfig",
    "EstimatorSpec",
    "InvalidArgumentError",
    "InvalidTypeError",
    "MivbError",
    "MovingAverage",
    "Totals",
    "UnknownNameError",
    "available_backends",
    "bound",
    "clipping",
    "correlated_gaussians",
    "ema",
    "estimate",
    "gaussian_mi",
    "get_backend",
    "reference",
    "register_bound",
    "scores",
    "unregister_bound",
]
__version__ = "0.1.0"
