"""mivb.estimate: its result, its reproducibility, and a clear error for every bad input."""

import math

import numpy as np
import pytest

import mivb

QUICK = {"steps": 60, "batch_size": 32, "seed": 0}


@pytest.fixture(scope="module")
def gaussians():
    return mivb.correlated_gaussians(2000, 3, 0.8, seed=0)


def test_result_carries_the_configuration_and_history(gaussians):
    x, z, _ = gaussians
    result = mivb.estimate(x, z, bound="smile", clip=3.0, **QUICK)
    assert result.bound == "smile" and result.backend == "torch"
    assert result.config.bound_params == {"clip": 3.0} and result.config.steps == 60
    assert result.history.shape == (60,) and np.all(np.isfinite(result.history))
    held_out_batches = len(result.test_values)
    assert held_out_batches == 400 // 32
    assert result.mi == pytest.approx(result.test_values.mean())
    assert result.stderr == pytest.approx(result.test_values.std(ddof=1) / math.sqrt(held_out_batches))
    assert result.bits == pytest.approx(result.mi / math.log(2))


def test_same_seed_same_estimate_and_a_drawn_seed_is_recorded(gaussians):
    x, z, _ = gaussians
    first, second = mivb.estimate(x, z, **QUICK), mivb.estimate(x, z, **QUICK)
    assert first.mi == second.mi and np.array_equal(first.history, second.history)
    drawn = mivb.estimate(x, z, steps=60, batch_size=32)
    again = mivb.estimate(x, z, steps=60, batch_size=32, seed=drawn.config.seed)
    assert drawn.mi == again.mi


def test_estimate_is_close_to_the_truth_with_defaults():
    x, z, true_mi = mivb.correlated_gaussians(10_000, 4, 0.7, seed=2)
    result = mivb.estimate(x, z, seed=0, steps=800)
    assert abs(result.mi - true_mi) < 0.15, (result, true_mi)
    assert result.notes == ()


def test_infonce_at_its_ceiling_says_so():
    x, z, true_mi = mivb.correlated_gaussians(3000, 8, 0.99, seed=1)
    assert true_mi > 15
    with pytest.warns(UserWarning, match="ceiling"):
        # the network's ceiling: the linear critic, read on larger batches, would have a higher one
        result = mivb.estimate(x, z, steps=300, batch_size=16, seed=0, linear_fallback=False)
    assert result.ceiling == pytest.approx(math.log(16))
    assert any("ceiling" in note for note in result.notes)


def test_one_dimensional_inputs_and_tensors_are_accepted():
    torch = pytest.importorskip("torch")  # the tests session installs torch: this never skips there
    x, z, _ = mivb.correlated_gaussians(600, 1, 0.9, seed=0)
    result = mivb.estimate(torch.from_numpy(x[:, 0]), torch.from_numpy(z), steps=20, batch_size=16, seed=0)
    assert result.backend == "torch" and np.isfinite(result.mi)


BAD_INPUTS = {
    "x rank 3 paired with fewer z": (np.zeros((10, 2, 2)), np.zeros((9, 2)), {}, "received z="),
    "lengths differ": (np.ones((100, 2)), np.ones((90, 2)), {}, "as many samples as x"),
    "NaN": (np.full((100, 2), np.nan), np.ones((100, 2)), {}, "finite samples"),
    "inf in z": (np.ones((100, 2)), np.full((100, 2), np.inf), {}, "finite samples"),
    "integers": (np.ones((100, 2), dtype=int), np.ones((100, 2)), {}, "floating-point"),
    "booleans": (np.ones((100, 2), dtype=bool), np.ones((100, 2)), {}, "floating-point"),
    "complex": (np.ones((100, 2), dtype=complex), np.ones((100, 2)), {}, "floating-point"),
    "empty": (np.ones((0, 2)), np.ones((0, 2)), {}, "non-empty"),
    "too few samples": (np.random.rand(12, 2), np.random.rand(12, 2), {}, "at least 20 samples"),
    "constant column": (np.c_[np.random.rand(400), np.ones(400)], np.random.rand(400, 2), {}, "constant"),
    "unknown bound": (None, None, {"bound": "nce"}, "received bound='nce'"),
    "unknown critic": (None, None, {"critic": "deep"}, "received critic='deep'"),
    "unknown backend": (None, None, {"backend": "mxnet"}, "received backend='mxnet'"),
    "numpy cannot train": (None, None, {"backend": "numpy"}, "computes bounds only"),
    "negative steps": (None, None, {"steps": -5}, "received steps=-5"),
    "decay out of range": (None, None, {"ema_decay": 1.0}, "received ema_decay=1.0"),
    "clip <= 0": (None, None, {"bound": "smile", "clip": -1.0}, "received clip=-1.0"),
    "K too large": (None, None, {"negative_samples": 128, "batch_size": 128}, "received negative_samples=128"),
    "batch of one": (None, None, {"batch_size": 1}, "received batch_size=1"),
    "negative seed": (None, None, {"seed": -1}, "received seed=-1"),
    "seed too large": (None, None, {"seed": 2**64}, "received seed=18446744073709551616"),
    "test fraction": (None, None, {"test_fraction": 1.5}, "received test_fraction=1.5"),
    "no GPU here": (None, None, {"device": "cuda"}, "received device='cuda'"),
    "unknown device": (None, None, {"device": "tpu9"}, "received device='tpu9'"),
    "a device torch does not train on": (None, None, {"device": "mps"}, "received device='mps'"),
    "boolean learning rate": (None, None, {"learning_rate": True}, "received learning_rate=True"),
    "NaN learning rate": (None, None, {"learning_rate": float("nan")}, "received learning_rate=nan"),
    "boolean clip": (None, None, {"bound": "smile", "clip": True}, "received clip=True"),
    "string early stopping": (None, None, {"early_stopping": "no"}, "received early_stopping='no'"),
    "3-D samples": (np.random.rand(100, 2, 3), np.random.rand(100, 2), {}, "flatten other shapes"),
    "beyond float32": (np.random.rand(100, 2) * 1e40, np.random.rand(100, 2), {"transform": None}, "transform"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_a_clear_error(case, gaussians):
    x, z, kwargs, message = BAD_INPUTS[case]
    if x is None:
        x, z, _ = gaussians
    with pytest.raises(mivb.MivbError, match="expected") as error:
        mivb.estimate(x, z, **{"steps": 2, **kwargs})
    assert message in str(error.value)
    assert isinstance(error.value, (ValueError, TypeError))


def test_divergence_stops_keeps_the_last_finite_critic_and_says_so():
    x, z, _ = mivb.correlated_gaussians(4000, 2, 0.9, seed=0)
    with pytest.warns(UserWarning, match="diverged"):
        result = mivb.estimate(x, z, bound="nwj", learning_rate=5.0, steps=1000, seed=0)
    assert result.diverged_at is not None and result.diverged_at < 1000
    assert len(result.history) <= result.diverged_at and np.all(np.isfinite(result.history))
    assert not math.isnan(result.mi)
    assert any("diverged" in note for note in result.notes)


def test_an_estimate_still_rising_is_flagged():
    x, z, _ = mivb.correlated_gaussians(6000, 6, 0.9, seed=0)
    with pytest.warns(UserWarning, match="still rising"):
        result = mivb.estimate(x, z, bound="smile", learning_rate=2e-5, steps=400, seed=0)
    assert any("still rising" in note for note in result.notes)


def test_a_critic_that_overfits_is_flagged():
    x, z, _ = mivb.correlated_gaussians(400, 5, 0.6, seed=0)
    with pytest.warns(UserWarning, match="overfits"):
        result = mivb.estimate(x, z, bound="infonce", batch_size=64, steps=1500, learning_rate=2e-3, seed=0,
                               early_stopping=False)  # early stopping exists to prevent exactly this
    assert result.history[-150:].mean() - result.mi > 0.3


def test_gaussianize_is_a_monotone_map_to_normal_quantiles_fitted_on_training_data():
    from mivb.samples import gaussianize

    rng = np.random.default_rng(0)
    train = rng.standard_cauchy((2000, 3))
    test = rng.standard_cauchy((500, 3))
    mapped_train, mapped_test = gaussianize(train, test, argument="x")
    assert abs(mapped_train.mean()) < 0.01 and abs(mapped_train.std() - 1) < 0.02  # Cauchy in, normal out
    for column in range(3):
        order = np.argsort(test[:, column])
        assert np.all(np.diff(mapped_test[order, column]) >= 0)  # monotone: the MI is unchanged
    inside = (test > train.min(0)) & (test < train.max(0))
    assert np.all(np.isfinite(mapped_test)) and inside.mean() > 0.99


def test_heavy_tails_do_not_wreck_the_default_estimate():
    # Student-t with 1 degree of freedom shares a Cauchy-like scale between X and Z: I = 0.368 nats.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5000, 1))
    z = 0.5 * x + np.sqrt(0.75) * rng.standard_normal((5000, 1))
    scale = np.sqrt(rng.chisquare(1.0, size=(5000, 1)))
    x, z = (x / scale).astype(np.float32), (z / scale).astype(np.float32)
    result = mivb.estimate(x, z, bound="smile", seed=0)
    assert abs(result.mi - 0.368) < 0.12, result
    with pytest.raises(mivb.UnknownNameError, match="received transform='rank'"):
        mivb.estimate(x, z, transform="rank", steps=1)


def test_repeated_pairs_never_leak_from_training_into_the_held_out_value():
    # 250 independent pairs repeated 8 times: the truth is 0, and 1.6 nats came back when copies of
    # a training pair were scored as held-out pairs.
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=(250, 2)).astype(np.float32), rng.normal(size=(250, 2)).astype(np.float32)
    with pytest.warns(UserWarning, match="repeat earlier ones"):
        result = mivb.estimate(np.tile(x, (8, 1)), np.tile(z, (8, 1)), steps=300, seed=0)
    assert result.mi < 0.15, result
    assert any("1750 of the 2000 pairs repeat earlier ones (250 distinct)" in note for note in result.notes)


def test_x_identical_to_z_is_flagged():
    x, _, _ = mivb.correlated_gaussians(1000, 2, 0.5, seed=0)
    with pytest.warns(UserWarning, match="same array"):
        result = mivb.estimate(x, x.copy(), steps=50, seed=0)
    assert result.unreliable and any("infinite" in note for note in result.notes)


def test_raising_the_step_ceiling_changes_nothing_before_it():
    x, z, _ = mivb.correlated_gaussians(1500, 2, 0.8, seed=0)
    short, long = (mivb.estimate(x, z, steps=steps, seed=3, early_stopping=False) for steps in (60, 130))
    np.testing.assert_array_equal(long.history[:60], short.history)


def test_mivb_backend_names_the_default_backend(monkeypatch):
    x, z, _ = mivb.correlated_gaussians(300, 2, 0.8, seed=0)
    monkeypatch.setenv("MIVB_BACKEND", "numpy")
    with pytest.raises(mivb.InvalidArgumentError, match="MIVB_BACKEND: expected a backend that can train"):
        mivb.estimate(x, z, steps=2)
    monkeypatch.setenv("MIVB_BACKEND", "pytorch")
    with pytest.raises(mivb.UnknownNameError, match="received MIVB_BACKEND='pytorch'"):
        mivb.estimate(x, z, steps=2)
    monkeypatch.setenv("MIVB_BACKEND", "torch")
    assert mivb.estimate(x, z, steps=2, batch_size=32, seed=0).backend == "torch"
