"""mivb: mutual information from variational bounds, in PyTorch, JAX and TensorFlow."""

from .backends import BackendSpec, available_backends, get_backend
from .bounds import BOUNDS, bound
from .critics import CriticConfig
from .data import correlated_gaussians, gaussian_mi
from .errors import BackendNotAvailableError, InvalidArgumentError, InvalidTypeError, MivbError, UnknownNameError
from .estimate import Estimate, EstimateConfig, estimate

__all__ = [
    "BOUNDS",
    "BackendNotAvailableError",
    "BackendSpec",
    "CriticConfig",
    "Estimate",
    "EstimateConfig",
    "InvalidArgumentError",
    "InvalidTypeError",
    "MivbError",
    "UnknownNameError",
    "available_backends",
    "bound",
    "correlated_gaussians",
    "estimate",
    "gaussian_mi",
    "get_backend",
]
__version__ = "0.1.0"
