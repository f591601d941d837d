"""mivb.samples.as_samples on JAX arrays and on the NumPy dtypes of ml_dtypes (installed with jax)."""

import jax
import ml_dtypes
import numpy as np
import pytest

import mivb
from mivb.samples import as_samples


def assert_clear(error: BaseException, argument: str, *parts: str) -> None:
    message = str(error)
    assert message.startswith(f"{argument}: expected") and f"received {argument}=" in message, message
    for part in parts:
        assert part in message, (part, message)


def test_jax_bfloat16_becomes_float32_and_a_tracer_is_a_clear_error():
    jnp = jax.numpy
    values = jnp.linspace(-3.0, 3.0, 40).reshape(20, 2)
    array = as_samples("x", values.astype(jnp.bfloat16))
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, np.asarray(values.astype(jnp.bfloat16).astype(jnp.float32)))
    with pytest.raises(mivb.InvalidTypeError) as error:
        jax.jit(lambda a: as_samples("x", a))(values)  # no values while tracing
    assert_clear(error.value, "x", "the conversion failed")


def test_ml_dtypes_floats_of_tensorflow_and_jax_become_float32_and_their_integers_are_refused():
    # ml_dtypes (a dependency of jax) gives what tf.bfloat16 and jnp.bfloat16 tensors turn into in NumPy
    values = np.linspace(-3.0, 3.0, 40, dtype=np.float32).reshape(20, 2)
    for dtype in (ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn):
        narrow = values.astype(dtype)
        array = as_samples("z", narrow)
        assert array.dtype == np.float32 and np.array_equal(array, narrow.astype(np.float32)), dtype
    with pytest.raises(mivb.InvalidTypeError) as error:
        as_samples("z", values.astype(ml_dtypes.int4))
    assert_clear(error.value, "z", "floating-point")
