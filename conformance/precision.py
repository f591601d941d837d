"""Mixed precision: half-precision scores reduce in float32, and critics train in half precision.

Every bound takes float16 and bfloat16 scores and returns a float32 value equal to the float64
reference of the same (rounded) scores to float32's tolerance, for scores up to |60|: far past
float16's overflow of exp near 11. ``estimate(precision=...)`` trains a half-precision critic
with float32 parameters and still reads a Gaussian's MI.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

import mivb
from mivb import reference

from .cases import defaults_suffice

LARGEST_SCORE = 60.0
HALF = ("float16", "bfloat16")


def _half_scores(backend: str, array: np.ndarray, dtype: str):
    """``array`` as a tensor of ``dtype`` in ``backend``."""
    if backend == "numpy":
        return array.astype(dtype)
    if backend == "torch":
        import torch

        return torch.as_tensor(array).to(getattr(torch, dtype))
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array).astype(dtype)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.cast(tf.constant(array), dtype)
    raise ValueError(f"no half-precision scores for backend {backend!r}: add it to _half_scores")


def check_half_precision_scores(backend: str, name: str, dtype: str) -> None:
    rng = np.random.default_rng(0)
    scores = np.clip(20.0 * rng.standard_normal((16, 16)), -LARGEST_SCORE, LARGEST_SCORE).astype(np.float32)
    scores[0, 0], scores[1, 2] = LARGEST_SCORE, -LARGEST_SCORE
    tensor = _half_scores(backend, scores, dtype)
    adapter = mivb.get_backend(backend)
    # a parameter without default (ba's H(Z), known from the labels): the bound's first case gives it
    params = {} if defaults_suffice(name) else dict(mivb.BOUNDS[name].cases[0])
    value = adapter.to_numpy(mivb.bound(name, tensor, **params))
    rounded = np.asarray(adapter.to_numpy(tensor), np.float64)  # what the bound was given
    definition = mivb.BOUNDS[name]
    expected = definition.reference(*reference.split(rounded), definition.resolve_params(params), {})[0]
    assert value.dtype == np.float32, f"{name} on {dtype} scores returned {value.dtype}, expected float32"
    assert np.isfinite(value), f"{name} on {dtype} scores up to |{LARGEST_SCORE:g}| returned {value}"
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-5 * LARGEST_SCORE,
                               err_msg=f"{name} on {dtype} scores")


def check_half_precision_training(backend: str, dtype: str) -> None:
    x, z, true_mi = mivb.correlated_gaussians(6000, 3, mivb.data.rho_for_mi(3, 1.0), seed=3)
    result = mivb.estimate(x, z, backend=backend, precision=dtype, steps=400, batch_size=64, seed=0,
                           linear_fallback=False)  # the half-precision critic's value, not the linear one
    assert result.config.precision == dtype
    assert np.all(np.isfinite(result.history)) and result.diverged_at is None
    assert abs(result.mi - true_mi) <= 0.25, f"{dtype}: estimated {result.mi:.3f} nats, truth {true_mi:.3f}"


def precision_checks(backend: str) -> dict[str, tuple[Callable[[str], None], str]]:
    """``{id: (check, what the backend needs)}``: every bound on the half dtypes ``backend`` has
    (NumPy has no bfloat16), and training."""
    dtypes = ("float16",) if backend == "numpy" else HALF
    checks = {f"half-scores-{name}-{dtype}": (partial(check_half_precision_scores, name=name, dtype=dtype), "arrays")
              for name in mivb.BOUNDS for dtype in dtypes}
    checks.update({f"half-training-{dtype}": (partial(check_half_precision_training, dtype=dtype), "trains")
                   for dtype in HALF})
    return checks
