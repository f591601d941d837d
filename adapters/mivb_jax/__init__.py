"""The JAX backend of mivb: bounds on jax.Arrays, equinox critics, and a functional [`MIEstimator`][].

Every bound works on ``jax.Array``s through ``mivb.bound`` under ``jax.jit``, ``jax.vmap`` and
``jax.grad`` (no Python branch depends on a value). Training code gets [`MIEstimator`][]:
pure ``init`` / ``apply`` / ``update`` functions over an [`MIState`][] pytree (critic params,
optax Adam state, the bound's state such as MINE's ``log_ema``, PRNG key). ``mivb.estimate(..., backend="jax")`` runs each
chunk of steps as one jitted ``jax.lax.scan``.

Critics are built with equinox rather than flax: an equinox module is itself a pytree, written
like torch's ``nn.Module``, so the critics here mirror ``mivb_torch``'s class for class, and
``eqx.nn.Linear`` initialises exactly as ``torch.nn.Linear`` does, so both backends start from
the same distribution of critics. The state holds only the critic's arrays, a plain pytree.
equinox also adds only small pure-Python dependencies.

Float64: JAX computes in float32 unless its 64-bit mode is on, and importing mivb_jax does not
turn it on for the whole program. Float64 scores need ``jax.config.update("jax_enable_x64",
True)`` (or ``JAX_ENABLE_X64=1``); without it ``from_numpy`` refuses float64 data rather than
rounding it. Critics are float32 either way.
"""

from ._critics import build_critic
from ._distributed import ShardedMIEstimator, data_mesh, replicate
from ._estimator import MIEstimator, MIOutput, MIState, Trained, adaptive_clip_scale, load_state, save_state
from ._ops import array_types, capabilities, from_numpy, name, ops, to_numpy, value_and_grad
from ._trainer import Trainer

__all__ = [
    "MIEstimator",
    "MIOutput",
    "MIState",
    "ShardedMIEstimator",
    "Trained",
    "Trainer",
    "adaptive_clip_scale",
    "array_types",
    "build_critic",
    "capabilities",
    "data_mesh",
    "from_numpy",
    "load_state",
    "name",
    "ops",
    "replicate",
    "save_state",
    "to_numpy",
    "value_and_grad",
]
