"""tf.data streams (issue #29): a dataset without .batch() is refused, one that .repeat()s is flagged."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

import mivb


def test_a_dataset_without_batch_is_refused():
    x, z, _ = mivb.correlated_gaussians(6000, 5, 0.5, seed=0)
    with pytest.raises(mivb.InvalidArgumentError, match=r"x: expected batches of shape \(n, d\)"):
        mivb.estimate(tf.data.Dataset.from_tensor_slices((x, z)), steps=10, progress=False, seed=0)


def test_a_dataset_that_repeats_is_unreliable():
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=(2000, 3)).astype(np.float32), rng.normal(size=(2000, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((x, z)).batch(100).repeat()  # infinite: no length
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(dataset, steps=100, progress=False, seed=0)
    assert result.unreliable and any(note.startswith("the stream starts over (a batch came twice)")
                                     for note in result.notes), result
