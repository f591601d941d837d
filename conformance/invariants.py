"""Properties every bound has on any scores, property-tested with hypothesis on each backend."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mivb

from .cases import bound_cases

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@st.composite
def score_sets(draw, max_n: int = 10):
    """A full (N, N) matrix, or pos (N,) and neg (N, K), with scores in [-80, 80]."""
    n = draw(st.integers(2, max_n))
    k = draw(st.one_of(st.none(), st.integers(1, n - 1)))
    columns = n if k is None else k + 1
    scores = draw(arrays(np.float64, (n, columns), elements=st.floats(-80, 80, allow_nan=False)))
    return (scores,) if k is None else (scores[:, 0].copy(), scores[:, 1:].copy())


def _value(adapter, name: str, arrays_: tuple[np.ndarray, ...], dtype: str = "float64") -> float:
    scores = (adapter.from_numpy(a.astype(dtype)) for a in arrays_)
    return float(adapter.to_numpy(mivb.bound(name, *scores, **_parameters(name))))


def _parameters(name: str) -> dict:
    """The bound's first case of the suite: its defaults, or the parameters it cannot do without (ba's entropy)."""
    return next((params for bound, params in bound_cases() if bound == name), {})


def _negatives_per_row(arrays_: tuple[np.ndarray, ...]) -> int:
    return arrays_[0].shape[0] - 1 if len(arrays_) == 1 else arrays_[1].shape[1]


def infonce_below_its_ceiling(backend: str) -> None:
    adapter = mivb.get_backend(backend)

    @SETTINGS
    @given(score_sets())
    def check(arrays_):
        assert _value(adapter, "infonce", arrays_) <= math.log(_negatives_per_row(arrays_) + 1) + 1e-12

    check()


def shift_invariance(backend: str) -> None:
    adapter = mivb.get_backend(backend)

    @SETTINGS
    @given(score_sets(), st.floats(-20, 20))
    def check(arrays_, shift):
        shifted = tuple(a + shift for a in arrays_)
        for value in (partial(_value, adapter, "infonce"), partial(_value, adapter, "dv")):
            assert math.isclose(value(shifted), value(arrays_), rel_tol=1e-9, abs_tol=1e-9 * 100), value

    check()


def permutation_invariance(backend: str) -> None:
    adapter = mivb.get_backend(backend)

    @SETTINGS
    @given(score_sets(), st.randoms(use_true_random=False))
    def check(arrays_, random):
        n = arrays_[0].shape[0]
        order = np.array(random.sample(range(n), n))
        permuted = (arrays_[0][np.ix_(order, order)],) if len(arrays_) == 1 else (arrays_[0][order], arrays_[1][order])
        for name in mivb.BOUNDS:
            before, after = _value(adapter, name, arrays_), _value(adapter, name, permuted)
            assert math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-9 * 100), name

    check()


def dv_at_least_nwj(backend: str) -> None:
    adapter = mivb.get_backend(backend)

    @SETTINGS
    @given(score_sets())
    def check(arrays_):
        assert _value(adapter, "dv", arrays_) >= _value(adapter, "nwj", arrays_) - 1e-9 * 100

    check()


def float32_agrees_with_float64(backend: str) -> None:
    adapter = mivb.get_backend(backend)

    @SETTINGS
    @given(score_sets())
    def check(arrays_):
        rounded = tuple(a.astype(np.float32).astype(np.float64) for a in arrays_)
        for name in mivb.BOUNDS:
            exact, single = _value(adapter, name, rounded), _value(adapter, name, rounded, "float32")
            largest = max(abs(exact), *(float(np.max(np.abs(a))) for a in rounded), 1.0)
            assert abs(single - exact) <= 1e-5 * largest, (name, single, exact)

    check()


def no_overflow_at_80_in_float32(backend: str) -> None:
    adapter = mivb.get_backend(backend)

    @SETTINGS
    @given(score_sets(max_n=32), st.sampled_from([-80.0, 80.0]))
    def check(arrays_, extreme):
        saturated = tuple(np.where(np.abs(a) > 40, extreme, a) for a in arrays_)
        for name in mivb.BOUNDS:
            assert math.isfinite(_value(adapter, name, saturated, "float32")), name

    check()


INVARIANTS = {
    "infonce-below-log-k-plus-one": infonce_below_its_ceiling,
    "infonce-dv-shift-invariant": shift_invariance,
    "permutation-invariant": permutation_invariance,
    "dv-at-least-nwj": dv_at_least_nwj,
    "float32-agrees-with-float64": float32_agrees_with_float64,
    "float32-finite-at-80": no_overflow_at_80_in_float32,
}
