"""Mixed precision in TensorFlow: Keras mixed-precision policies on the critic's layers."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from mivb_tensorflow import MIEstimator

import mivb


def pairs(n=64, dim=3):
    x, z, _ = mivb.correlated_gaussians(n, dim, 0.8, seed=0)
    return tf.constant(x, tf.float32), tf.constant(z, tf.float32)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_the_critic_computes_in_half_precision_and_the_bound_in_float32(precision):
    estimator = MIEstimator(3, 3, bound="smile", seed=0, precision=precision, lr=1e-3)
    x, z = pairs()
    assert estimator.critic(x, z).dtype == precision
    before = [w.numpy() for w in estimator.critic.trainable_variables]
    mi, mi_for_grads = estimator(x, z)
    value = estimator.update(x, z)
    assert mi.dtype == mi_for_grads.dtype == value.dtype == tf.float32 and np.isfinite(value.numpy())
    assert all(w.dtype == tf.float32 for w in estimator.critic.trainable_variables)
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, estimator.critic.trainable_variables))
    scaled = isinstance(estimator.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (precision == "float16")  # bfloat16 has float32's range and needs no loss scaling


def test_precision_is_validated_and_estimate_trains_a_bfloat16_critic():
    with pytest.raises(mivb.InvalidArgumentError, match=r"precision.*'float32', 'bfloat16', 'float16'.*mixed"):
        MIEstimator(3, 3, precision="mixed_bfloat16")
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.6, seed=0)
    result = mivb.estimate(x, z, backend="tensorflow", precision="bfloat16", steps=60, seed=0, progress=False)
    assert result.config.precision == "bfloat16" and result.estimator.spec.precision == "bfloat16"
    assert result.estimator.critic(*pairs(dim=2)).dtype == tf.bfloat16
    assert np.all(np.isfinite(result.history))
