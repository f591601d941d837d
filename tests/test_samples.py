"""Reading samples (mivb.samples.as_samples) and the transforms fitted on them (prepare), at the edges:
ragged input, tensors NumPy cannot hold, and data of extreme scale or tiny spread."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mivb
from mivb.samples import FLOAT32_LIMIT, as_samples, gaussianize, prepare, standardize

SMALL = {"steps": 5, "batch_size": 16, "seed": 0}  # end to end in well under a second


def assert_clear(error: BaseException, argument: str, *parts: str) -> None:
    """The message names the argument, what was expected and what was received."""
    message = str(error)
    assert isinstance(error, mivb.MivbError) and isinstance(error, (TypeError, ValueError)), repr(error)
    assert message.startswith(f"{argument}: expected "), message
    assert f"received {argument}=" in message, message
    for part in parts:
        assert part in message, message


@pytest.fixture
def normal():
    return np.random.default_rng(0).normal(size=(200, 2))


# --- reading -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("ragged", [[[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, [4.0, 5.0]]]])
def test_a_ragged_list_is_a_clear_error(ragged):
    with pytest.raises(mivb.InvalidArgumentError) as error:
        as_samples("x", ragged)
    assert_clear(error.value, "x", "rectangular", "same length", "[[1.0, 2.0], [3.0")


def test_a_ragged_list_is_refused_by_estimate_before_any_training():
    z = np.zeros((200, 2))
    with pytest.raises(mivb.MivbError) as error:
        mivb.estimate(z, [[1.0, 2.0]] * 199 + [[1.0]], backend="torch", **SMALL)
    assert_clear(error.value, "z", "rectangular")


def test_a_masked_array_with_masked_entries_is_refused(normal):
    masked = np.ma.masked_array(normal, mask=np.zeros_like(normal, dtype=bool))
    masked[3, 1] = np.ma.masked
    with pytest.raises(mivb.InvalidArgumentError) as error:
        as_samples("z", masked)
    assert_clear(error.value, "z", "masked", ".filled()")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_narrow_torch_floats_become_float32_exactly(dtype):
    torch = pytest.importorskip("torch")
    tensor = torch.randn(50, 3).to(getattr(torch, dtype)).requires_grad_(True)
    array = as_samples("x", tensor)
    assert array.dtype == np.float32 and array.shape == (50, 3)
    np.testing.assert_array_equal(array, tensor.detach().float().numpy())


def test_bfloat16_tensors_estimate_end_to_end():
    torch = pytest.importorskip("torch")
    x, z = (a.astype(np.float64) for a in mivb.correlated_gaussians(200, 2, 0.9, seed=0)[:2])
    result = mivb.estimate(torch.from_numpy(x).bfloat16(), torch.from_numpy(z).bfloat16(), **SMALL)
    assert result.backend == "torch" and math.isfinite(result.mi)


def _torch_unreadable():
    torch = pytest.importorskip("torch")
    dense = torch.randn(10, 2)
    return {
        "sparse coo": (lambda: dense.to_sparse(), mivb.InvalidTypeError, ("dense", "sparse_coo", ".to_dense()")),
        "sparse csr": (lambda: dense.to_sparse_csr(), mivb.InvalidTypeError, ("dense", "sparse_csr", ".to_dense()")),
        "meta": (lambda: torch.empty(10, 2, device="meta"), mivb.InvalidArgumentError, ("real device", "device=meta")),
        "nested": (lambda: torch.nested.nested_tensor([torch.randn(3, 2), torch.randn(4, 2)]), mivb.InvalidTypeError,
                   ("nested", "pad")),
        "quantized": (lambda: torch.quantize_per_tensor(dense, 0.1, 0, torch.qint8), mivb.InvalidTypeError,
                      ("quantized", ".dequantize()")),
    }


@pytest.mark.parametrize("kind", ["sparse coo", "sparse csr", "meta", "nested", "quantized"])
def test_torch_tensors_without_dense_values_are_clear_errors(kind):
    make, error_type, parts = _torch_unreadable()[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that nested and sparse csr tensors are prototypes
        tensor = make()
    with pytest.raises(error_type) as error:
        as_samples("x", tensor)
    assert_clear(error.value, "x", *parts)


def test_float16_and_long_double_are_widened_or_narrowed_to_what_mivb_computes_in():
    half = np.full((100, 1), 300.0, dtype=np.float16) + np.arange(100, dtype=np.float16)[:, None]
    array = as_samples("x", half)
    assert array.dtype == np.float32
    (standardized,) = standardize(array, argument="x")  # 300**2 overflows float16's statistics
    assert abs(standardized.std() - 1) < 1e-5
    assert as_samples("x", np.ones((10, 2), dtype=np.longdouble)).dtype == np.float64
    if np.finfo(np.longdouble).max > np.finfo(np.float64).max:
        huge = np.ones((10, 2), dtype=np.longdouble) * np.longdouble(1e300) * np.longdouble(1e300)
        with pytest.raises(mivb.InvalidArgumentError) as error:
            as_samples("x", huge)
        assert_clear(error.value, "x", "float64's range")


# --- transform=None: what float32 and the critic can hold ----------------------------------------------

@pytest.mark.parametrize("scale", [1e35, 1e40])
def test_samples_too_large_for_float32_critics_are_refused_without_a_transform(scale, normal):
    train, test = prepare(None, normal * 1e18, normal, argument="x")  # large but representable: passed as is
    assert train.dtype == np.float32 and np.all(np.isfinite(train)) and np.allclose(test, normal)
    with pytest.raises(mivb.InvalidArgumentError) as error:
        prepare(None, normal * scale, normal, argument="x")
    assert_clear(error.value, "x", "transform=None", "transform='standardize'", f"{FLOAT32_LIMIT:.3g}")
    x, z = (a.astype(np.float64) for a in mivb.correlated_gaussians(200, 2, 0.9, seed=0)[:2])
    with pytest.raises(mivb.InvalidArgumentError) as error:  # was NaN (1e40) or -7.8e33 (1e35)
        mivb.estimate(x, z * scale, transform=None, backend="torch", **SMALL)
    assert_clear(error.value, "z", "transform='standardize'")


def test_a_feature_that_float32_rounds_to_one_value_is_refused_without_a_transform(normal):
    tiny_spread = 1 + 1e-12 * normal
    with pytest.raises(mivb.InvalidArgumentError) as error:
        prepare(None, tiny_spread, argument="x")
    assert_clear(error.value, "x", "float32 keeps 1", "feature 0", "transform='standardize'")
    (standardized,) = prepare("standardize", tiny_spread, argument="x")  # what the error suggests works
    assert np.allclose(standardized.std(0), 1, atol=1e-5)
    with pytest.raises(mivb.InvalidArgumentError) as error:  # float32 steps are 8 apart at 1e8
        prepare(None, np.c_[normal[:, 0], 1e8 + normal[:, 1]], argument="x")
    assert_clear(error.value, "x", "feature 1", "float32 keeps")


# --- the transforms, at any scale -------------------------------------------------------------------

SCALES = [1e30, 1e-30, 1e200, 1e-200, 1e300, 1e-300, 1e-310]


def test_standardize_gives_zero_mean_unit_variance_at_any_scale(normal):
    held_out = np.random.default_rng(1).normal(size=(50, 2))
    expected = standardize(normal, held_out, argument="x")
    for scale in SCALES:
        train, test = standardize(normal * scale, held_out * scale, argument="x")
        assert np.all(np.abs(train.mean(0)) < 1e-6) and np.allclose(train.std(0), 1, atol=1e-5), scale
        np.testing.assert_allclose(test, expected[1], atol=1e-5 if scale > 1e-300 else 1e-2, err_msg=str(scale))


def test_standardize_images_at_any_scale():
    images = np.random.default_rng(0).normal(size=(40, 1, 4, 4))
    images[:, :, 0, :] = 0  # a constant border is fine for images
    for scale in (1e200, 1e-200):
        (standardized,) = standardize(images * scale, argument="x")
        assert abs(standardized.mean()) < 1e-6 and abs(standardized.std() - 1) < 1e-5, scale


def test_standardize_centres_a_tiny_spread_around_a_large_offset(normal):
    (standardized,) = standardize(1 + 1e-12 * normal, argument="x")  # was off-centre by 4e-4
    assert np.all(np.abs(standardized.mean(0)) < 1e-6) and np.allclose(standardized.std(0), 1, atol=1e-5)
    (standardized,) = standardize(1e-300 * normal, argument="x")  # was called "constant"
    assert np.allclose(standardized.std(0), 1, atol=1e-5)


def test_gaussianize_is_the_same_map_at_any_scale(normal):
    held_out = np.random.default_rng(1).normal(size=(50, 2))
    expected = gaussianize(normal, held_out, argument="x")
    for scale in SCALES:
        train, test = gaussianize(normal * scale, held_out * scale, argument="x")
        np.testing.assert_array_equal(train, expected[0], err_msg=str(scale))  # the training values' quantiles
        np.testing.assert_allclose(test, expected[1], atol=1e-5 if scale > 1e-300 else 1e-2, err_msg=str(scale))


def test_values_spanning_the_whole_float64_range_are_gaussianized_and_their_squashing_refused(normal):
    extreme = normal.copy()
    extreme[:2] = [[1.7e308, -1.7e308], [-1.7e308, 1.7e308]]
    (out,) = gaussianize(extreme, argument="x")
    assert np.all(np.isfinite(out)) and len(np.unique(out[:, 0])) == len(out)
    (standardized,) = standardize(extreme, argument="x")  # finite, exact statistics: no overflow
    assert np.all(np.isfinite(standardized)) and np.allclose(standardized.std(0), 1, atol=1e-5)
    with pytest.raises(mivb.InvalidArgumentError) as error:  # but float32 cannot tell the other 198 apart
        prepare("standardize", extreme, argument="x")
    assert_clear(error.value, "x", "float32 keeps 3", "outlier", "transform='gaussianize'")


def test_only_exactly_constant_features_are_called_constant(normal):
    constant = np.c_[normal[:, 0], np.ones(len(normal))]
    for transform in ("standardize", "gaussianize"):
        with pytest.raises(mivb.InvalidArgumentError) as error:
            prepare(transform, constant, argument="x")
        assert_clear(error.value, "x", "no constant features", "feature 1", "equals 1 ")
    for spread in (1e-300, 1e-320):  # nonzero spread, however small, is not constant
        (out,) = prepare("standardize", np.c_[normal[:, 0], spread * normal[:, 1]], argument="x")
        assert np.all(np.isfinite(out)) and out[:, 1].std() > 0.5


def test_a_held_out_outlier_beyond_float32_is_refused_after_standardizing(normal):
    test = normal[:10].copy()
    test[0, 0] = 1e30
    with pytest.raises(mivb.InvalidArgumentError) as error:
        prepare("standardize", normal, test, argument="x")
    assert_clear(error.value, "x", "outlier", "transform='gaussianize'")
    _, gaussianized = prepare("gaussianize", normal, test, argument="x")  # maps it flat: fine
    assert np.all(np.isfinite(gaussianized))


@pytest.mark.parametrize("transform", ["standardize", "auto"])
def test_estimate_is_finite_on_samples_of_extreme_scale(transform):
    x, z = (a.astype(np.float64) for a in mivb.correlated_gaussians(200, 2, 0.9, seed=0)[:2])
    result = mivb.estimate(x * 1e200, z * 1e-200, transform=transform, backend="torch", **SMALL)
    assert math.isfinite(result.mi) and np.all(np.isfinite(result.history))
