"""The PyTorch backend of mivb: bounds on tensors, critics as ``nn.Module``s, and [`MIEstimator`][]."""

from ._critics import build_critic
from ._distributed import DistributedMIEstimator, all_gather, launch, sharded_bound, sharded_scores
from ._estimator import MIEstimator, MIOutput, adaptive_clip_scale
from ._ops import array_types, capabilities, from_numpy, name, ops, to_numpy, value_and_grad
from ._trainer import Trainer

__all__ = [
    "DistributedMIEstimator",
    "MIEstimator",
    "MIOutput",
    "Trainer",
    "adaptive_clip_scale",
    "all_gather",
    "array_types",
    "build_critic",
    "capabilities",
    "from_numpy",
    "launch",
    "name",
    "ops",
    "sharded_bound",
    "sharded_scores",
    "to_numpy",
    "value_and_grad",
]
