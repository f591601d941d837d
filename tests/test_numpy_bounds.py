"""The NumPy backend and the reference against each other and against the bounds' own properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mivb
from mivb import reference

scores_matrices = st.integers(2, 12).flatmap(
    lambda n: arrays(np.float64, (n, n), elements=st.floats(-80, 80, allow_nan=False))
)


@settings(max_examples=60, deadline=None)
@given(scores_matrices)
def test_infonce_never_exceeds_log_k_plus_one(scores):
    assert float(mivb.bound("infonce", scores)) <= math.log(scores.shape[0]) + 1e-12


@settings(max_examples=60, deadline=None)
@given(scores_matrices, st.floats(-30, 30))
def test_infonce_and_dv_ignore_a_constant_shift(scores, shift):
    for name in ("infonce", "dv"):
        assert float(mivb.bound(name, scores + shift)) == pytest.approx(float(mivb.bound(name, scores)), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(scores_matrices)
def test_dv_is_at_least_nwj(scores):
    assert float(mivb.bound("dv", scores)) >= float(mivb.bound("nwj", scores)) - 1e-9


@settings(max_examples=40, deadline=None)
@given(scores_matrices, st.randoms(use_true_random=False))
def test_bounds_ignore_a_consistent_permutation_of_the_batch(scores, random):
    order = np.array(random.sample(range(len(scores)), len(scores)))
    for name in mivb.BOUNDS:
        permuted = scores[np.ix_(order, order)]
        assert float(mivb.bound(name, permuted)) == pytest.approx(float(mivb.bound(name, scores)), rel=1e-9, abs=1e-9)


def test_infonce_reaches_log_n_with_a_perfect_critic():
    # X uniform on 4 symbols and Z = X: I = log 4. The optimal critic scores matching pairs far
    # above the rest; on a batch holding each symbol once InfoNCE reaches log N = I exactly.
    scores = np.where(np.eye(4, dtype=bool), math.log(4.0), -200.0)
    assert float(mivb.bound("infonce", scores)) == pytest.approx(math.log(4.0), abs=1e-12)


def test_js_reads_nwj_at_critic_plus_one():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(6, 6))
    assert float(mivb.bound("js", scores)) == pytest.approx(float(mivb.bound("nwj", scores + 1.0)), rel=1e-12)


def test_smile_without_clipping_is_dv_and_with_clipping_caps_the_negatives():
    rng = np.random.default_rng(1)
    scores = 20 * rng.normal(size=(8, 8))
    assert float(mivb.bound("smile", scores, clip=None)) == pytest.approx(float(mivb.bound("dv", scores)), rel=1e-12)
    pos, neg = reference.split(scores)
    clipped = np.clip(neg, -5.0, 5.0)
    assert float(mivb.bound("smile", scores)) == pytest.approx(pos.mean() - (reference.logsumexp(clipped) - math.log(clipped.size)))


def test_float32_scores_stay_float32_and_do_not_overflow_at_80():
    scores = np.full((16, 16), 80.0, dtype=np.float32)
    for name in mivb.BOUNDS:
        value = mivb.bound(name, scores)
        assert value.dtype == np.float32 and np.isfinite(value), name
