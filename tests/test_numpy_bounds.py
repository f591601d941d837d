"""Identities between the bounds, on NumPy scores (the invariants per backend are in conformance/)."""

import math

import numpy as np
import pytest

import mivb
from mivb import reference


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
        value = mivb.bound(name, scores, **({"entropy": 1.0} if name == "ba" else {}))  # ba needs H(Z)
        assert value.dtype == np.float32 and np.isfinite(value), name
