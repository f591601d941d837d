"""Your own Keras layer as the critic of estimate and MIEstimator."""

import keras
import mivb_tensorflow
import numpy as np
import pytest
import tensorflow as tf

import mivb
from mivb.critics import CriticConfig, UserModule

X, Z, TRUTH = mivb.correlated_gaussians(3000, 4, mivb.data.rho_for_mi(4, 1.0), seed=0)


class Embeddings(keras.layers.Layer):
    """A frozen "pretrained" encoder of x under a trainable head; an MLP of z."""

    def __init__(self):
        super().__init__()
        keras.utils.set_random_seed(0)
        self.encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(64, activation="relu"),
                                         keras.layers.Dense(16)])
        self.encoder.trainable = False
        self.head_x = keras.layers.Dense(32)
        self.head_z = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(32)])

    def call(self, x, z):
        return self.head_x(self.encoder(x)), self.head_z(z)


class Matrix(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.f, self.g = keras.layers.Dense(8), keras.layers.Dense(8)

    def call(self, x, z):
        return tf.matmul(self.f(x), self.g(z), transpose_b=True)


def test_estimate_trains_your_layer_and_leaves_its_frozen_part():
    critic = Embeddings()
    critic(X[:2], Z[:2])
    frozen, head = critic.encoder.layers[0].kernel.numpy(), critic.head_x.kernel.numpy()
    result = mivb.estimate(X, Z, critic=critic, backend="tensorflow", steps=600, seed=0, progress=False)
    assert abs(result.mi - TRUTH) < 0.2, (result, TRUTH)
    assert result.config.critic.kind == "module" and "Embeddings" in result.config.to_dict()["critic"]["module"]
    assert np.array_equal(frozen, critic.encoder.layers[0].kernel.numpy())
    assert not np.array_equal(head, critic.head_x.kernel.numpy())
    scores = critic(X[:5], Z[:5])  # the layer now holds the best critic
    assert scores[0].shape == (5, 32)


def test_a_layer_giving_the_matrix_scores_whole_batches_only():
    matrix = Matrix()
    estimator = mivb_tensorflow.MIEstimator(4, 4, bound="infonce", critic=matrix)  # builds the layer
    x, z = tf.constant(X[:16]), tf.constant(Z[:16])
    assert [id(v) for v in estimator.critic.trainable_variables] == [id(v) for v in matrix.trainable_variables]
    expected = mivb.bound("infonce", matrix(x, z))
    np.testing.assert_allclose(estimator(x, z).mi.numpy(), expected.numpy(), rtol=1e-6)
    with pytest.raises(mivb.InvalidArgumentError, match="embeddings"):
        mivb.estimate(X, Z, critic=Matrix(), backend="tensorflow", negative_samples=4, steps=5, seed=0,
                      progress=False)


@pytest.mark.filterwarnings("ignore:the estimate was still rising")
def test_sampled_negatives_and_a_baseline_with_your_embeddings(tmp_path):
    result = mivb.estimate(X[:1000], Z[:1000], critic=Embeddings(), backend="tensorflow", bound="alpha",
                           negative_samples=8, steps=50, batch_size=64, seed=0, progress=False)
    assert np.isfinite(result.mi) and result.config.critic.negative_samples == 8

    critic = Embeddings()
    config = CriticConfig(kind="module", module=UserModule(critic), negative_samples=8)
    estimator = mivb_tensorflow.MIEstimator(4, 4, bound="alpha", critic=config, seed=0)
    estimator.fit(X[:256], Z[:256], steps=5, batch_size=64)
    path = tf.train.Checkpoint(estimator=estimator).write(str(tmp_path / "ckpt"))
    trained = critic.head_x.kernel.numpy()
    critic.head_x.kernel.assign(tf.zeros_like(trained))
    tf.train.Checkpoint(estimator=estimator).read(path).assert_consumed()
    np.testing.assert_array_equal(critic.head_x.kernel.numpy(), trained)


def test_a_module_of_another_framework_is_refused():
    with pytest.raises(mivb.InvalidTypeError, match="keras.Layer"):
        mivb_tensorflow.MIEstimator(4, 4, critic=lambda x, z: tf.matmul(x, z, transpose_b=True))
