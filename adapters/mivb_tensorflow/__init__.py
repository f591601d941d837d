"""The TensorFlow backend of mivb: bounds on tensors, critics as Keras 3 layers, and [`MIEstimator`][].

Importing it leaves the environment alone: TensorFlow's own settings (``TF_CPP_MIN_LOG_LEVEL`` to
quiet its start-up notices, ``TF_ENABLE_ONEDNN_OPTS``) stay the user's to set, before TensorFlow
is first imported.
"""

from ._critics import build_critic
from ._distributed import replica_objective, replica_scores
from ._estimator import MIEstimator, MIOutput, adaptive_clip_scale
from ._ops import array_types, capabilities, from_numpy, name, ops, to_numpy, value_and_grad
from ._trainer import Trainer

__all__ = [
    "MIEstimator",
    "MIOutput",
    "Trainer",
    "adaptive_clip_scale",
    "array_types",
    "build_critic",
    "capabilities",
    "from_numpy",
    "name",
    "ops",
    "replica_objective",
    "replica_scores",
    "to_numpy",
    "value_and_grad",
]
