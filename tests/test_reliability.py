"""Reliability: any input gives a result or a mivb error, memory stays bounded, seeds reproduce."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mivb

dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.complex128, np.uint8])
shapes = st.one_of(st.tuples(), st.tuples(st.integers(0, 300)), st.tuples(st.integers(0, 300), st.integers(0, 3)))


@st.composite
def sample_arrays(draw):
    dtype = draw(dtypes)
    shape = draw(shapes)
    if np.dtype(dtype).kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=np.dtype(dtype).itemsize * 8)
        if draw(st.booleans()):  # mostly clean data, so that some draws pass validation
            elements = st.floats(-10, 10, width=np.dtype(dtype).itemsize * 8)
        return draw(arrays(dtype, shape, elements=elements))
    return draw(arrays(dtype, shape))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(sample_arrays(), sample_arrays(), st.sampled_from(list(mivb.BOUNDS) + ["nce"]), st.integers(-2, 200))
def test_any_input_gives_a_result_or_a_mivb_error(x, z, bound, batch_size):
    try:
        result = mivb.estimate(x, z, bound=bound, batch_size=batch_size, steps=1, seed=0, progress=False)
    except mivb.MivbError as error:
        assert isinstance(error, (ValueError, TypeError))
        assert "expected" in str(error) and "received" in str(error), str(error)
    else:
        assert not np.isnan(result.mi)


def test_held_out_evaluation_runs_in_bounded_memory():
    # 50,000 held-out pairs: one n x n float32 matrix would take 10 GB.
    code = """
import resource, numpy as np, mivb
x, z, _ = mivb.correlated_gaussians(100_000, 2, 0.5, seed=0)
result = mivb.estimate(x, z, bound="infonce", steps=1, test_fraction=0.5, seed=0)
# batches of 128, or of 1024 for a linear critic reported in the network's place: never one matrix
assert len(result.test_values) == 50_000 // (1024 if result.linear_critic is not None else 128)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert int(out.stdout.split()[-1]) < 2048, f"peak memory {out.stdout.split()[-1]} MB"


@pytest.mark.parametrize("bound", ["mine", "infonce"])
def test_the_torch_estimator_object_is_deterministic(bound):
    torch = pytest.importorskip("torch")  # installed in the tests session: never skipped there
    from mivb_torch import MIEstimator

    x, z, _ = mivb.correlated_gaussians(512, 3, 0.7, seed=0)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        estimator = MIEstimator(3, 3, bound=bound, critic={"kind": "joint", "negative_samples": 4})
        history = estimator.fit(x, z, steps=20, batch_size=64, seed=1)
        log_ema = float(estimator.bound_state.get("log_ema", np.nan))  # only mine has a moving average
        state = [history.numpy(), np.array([log_ema, estimator.evaluate(x, z, batch_size=64)])]
        runs.append(state)
    for first, second in zip(*runs):
        np.testing.assert_array_equal(first, second)  # NaN (an unset EMA) counts as equal to NaN
    assert np.isnan(runs[0][1][0]) == (bound != "mine")


def test_estimates_in_threads_at_once_equal_the_same_estimates_run_alone():
    # torch's estimator draws its initial weights from a generator of its own, never the global one.
    from concurrent.futures import ThreadPoolExecutor

    x, z, _ = mivb.correlated_gaussians(1200, 3, 0.7, seed=0)
    seeds = [0, 1, 2, 3] * 2

    def run(seed):
        return mivb.estimate(x, z, backend="torch", steps=40, batch_size=64, seed=seed).mi

    alone = [run(seed) for seed in seeds]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(run, seeds))
    assert together == alone
