"""The TensorFlow backend of mivb: bounds on tensors, critics as Keras 3 layers, and :class:`MIEstimator`."""

import os

# TensorFlow prints oneDNN and CPU-feature notices to stderr when imported; keep the terminal quiet
# unless the user has chosen these settings already. Both only take effect before the first import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from ._critics import build_critic  # noqa: E402
from ._distributed import replica_objective, replica_scores  # noqa: E402
from ._estimator import MIEstimator, MIOutput, adaptive_clip_scale  # noqa: E402
from ._ops import array_types, capabilities, from_numpy, name, ops, to_numpy, value_and_grad  # noqa: E402
from ._trainer import Trainer  # noqa: E402

__all__ = [
    "MIEstimator",
    "MIOutput",
    "Trainer",
    "adaptive_clip_scale",
    "build_critic",
    "array_types",
    "capabilities",
    "from_numpy",
    "name",
    "ops",
    "replica_objective",
    "replica_scores",
    "to_numpy",
    "value_and_grad",
]
