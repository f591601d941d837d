"""The adapters resolve for type checkers too (``py.typed`` in each), even where their framework
is not installed: ``nox -s typing`` checks this file with mypy in a virtualenv without torch, JAX or
TensorFlow (mypy then types the framework's objects as Any; a missing ``py.typed`` or an adapter
the install hides from static tools is an error)."""

import mivb_jax
import mivb_tensorflow
import mivb_torch

from mivb.backends import Adapter

ESTIMATORS = (mivb_torch.MIEstimator, mivb_jax.MIEstimator, mivb_tensorflow.MIEstimator)
CLIP_SCALES = (mivb_torch.adaptive_clip_scale, mivb_jax.adaptive_clip_scale, mivb_tensorflow.adaptive_clip_scale)

# Each adapter module meets the backend contract, mivb.backends.Adapter: its Trainer builds a
# mivb.backends.Trainer (train, values, snapshot, restore, put, trained), its ops an ArrayOps.
ADAPTERS: tuple[Adapter, ...] = (mivb_torch, mivb_jax, mivb_tensorflow)
