"""mivb.classical: KSG and the Gaussian model against closed forms, independent computations and bad inputs.

NumPy and SciPy only (SciPy from the test extra); about 5 s.
"""

import math
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import digamma

import mivb
from mivb import classical
from mivb.classical import gaussian, ksg
from mivb.data import rho_for_mi
from mivb.errors import BackendNotAvailableError, InvalidArgumentError, InvalidTypeError


def mixed_sample(n, dx, dz, seed):
    """Dependent, non-Gaussian, anisotropic (x, z): a shared latent through random linear maps, plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, dx + dz))
    x = latent[:, :dx] @ rng.standard_normal((dx, dx)) + 0.5 * rng.standard_normal((n, dx))
    z = latent @ rng.standard_normal((dx + dz, dz)) + rng.exponential(size=(n, dz))
    return x, z


# Gaussian model


@pytest.mark.parametrize("dim, mi", [(1, 0.5), (1, 2.0), (5, 0.5), (5, 2.0)])
def test_gaussian_recovers_the_closed_form(dim, mi):
    x, z, true_mi = mivb.correlated_gaussians(20_000, dim, rho_for_mi(dim, mi), seed=0)
    assert true_mi == pytest.approx(mi)
    estimate, stderr = gaussian(x, z)
    # Observed: 1.0, 1.6, 0.3 and 0.1 stderr away; the bias, dim^2 / (2 n) <= 6e-4 nats, is far below the stderr.
    assert abs(estimate - true_mi) < 2.5 * stderr
    assert stderr == pytest.approx(math.sqrt(dim * rho_for_mi(dim, mi) ** 2 / 20_000), rel=0.02)


def test_gaussian_stderr_is_the_spread_of_the_estimates():
    # 200 samples of n = 500: the estimates' standard deviation was 0.0496, the mean stderr 0.0503.
    estimates, stderrs = zip(*(gaussian(*mivb.correlated_gaussians(500, 2, rho_for_mi(2, 1.0), seed=seed)[:2])
                               for seed in range(200)))
    assert np.std(estimates, ddof=1) == pytest.approx(np.mean(stderrs), rel=0.1)
    assert np.mean(estimates) - 1.0 == pytest.approx(2 * 2 / (2 * 500), abs=0.01)  # the plug-in bias, d_x d_z / 2n


def test_gaussian_equals_the_log_determinants_of_the_covariance():
    x, z = mixed_sample(60, 3, 2, seed=1)
    covariance = np.cov(np.hstack([x, z]), rowvar=False)
    blocks = (covariance[:3, :3], covariance[3:, 3:], covariance)
    log_det_x, log_det_z, log_det_joint = (np.linalg.slogdet(block)[1] for block in blocks)
    expected_mi = 0.5 * (log_det_x + log_det_z - log_det_joint)
    # Canonical correlations by Cholesky whitening: singular values of L_x^-1 S_xz L_z^-T.
    whiten_x, whiten_z = np.linalg.cholesky(covariance[:3, :3]), np.linalg.cholesky(covariance[3:, 3:])
    whitened = np.linalg.solve(whiten_x, np.linalg.solve(whiten_z, covariance[:3, 3:].T).T)
    correlations = np.linalg.svd(whitened, compute_uv=False)
    estimate, stderr = gaussian(x, z)
    assert estimate == pytest.approx(expected_mi, abs=1e-10)
    assert estimate == pytest.approx(-0.5 * np.sum(np.log1p(-correlations**2)), abs=1e-10)
    assert stderr == pytest.approx(math.sqrt(np.sum(correlations**2) / 60), abs=1e-10)


def test_gaussian_is_unchanged_by_invertible_affine_maps():
    x, z = mixed_sample(500, 3, 2, seed=2)
    rng = np.random.default_rng(3)
    reference = gaussian(x, z)
    moved = gaussian(1e6 + x @ rng.standard_normal((3, 3)), 1e-8 * z @ rng.standard_normal((2, 2)) - 7.0)
    assert moved == pytest.approx(reference, abs=1e-9)
    assert gaussian(z, x) == pytest.approx(reference, abs=1e-12)


def test_gaussian_takes_one_dimensional_arrays_and_float32():
    x, z, _ = mivb.correlated_gaussians(1000, 1, 0.6, seed=4)
    assert gaussian(x[:, 0], z[:, 0]) == gaussian(x, z) == gaussian(x.astype(np.float64), z)


def test_gaussian_sees_only_linear_dependence():
    x = np.random.default_rng(5).standard_normal((5000, 1))
    assert abs(gaussian(x, x**2)[0]) < 1e-3  # z = x^2 determines z, yet is uncorrelated with x
    assert ksg(x, x**2)[0] > 2.0  # KSG sees it (5.9 nats; the MI is infinite)


def test_gaussian_near_independence_is_the_plug_in_bias():
    rng = np.random.default_rng(6)
    estimate, stderr = gaussian(rng.standard_normal((4000, 2)), rng.standard_normal((4000, 3)))
    assert 0.0 <= estimate < 0.004  # observed 8.0e-4; its mean is about d_x d_z / 2n = 7.5e-4
    assert stderr < 0.002  # the delta method's 6.3e-4 there: it vanishes at independence, as documented


@pytest.mark.parametrize("make, argument, words", [
    (lambda x, z: (np.hstack([x, np.full((len(x), 1), 0.1)]), z), "x", "feature 3 is constant"),
    (lambda x, z: (x, np.hstack([z, z[:, :1] - 2.0 * z[:, 1:]])), "z", "exact linear function of the others"),
    (lambda x, z: (x, 0.3 * x[:, :2] + 0.1), "x, z", "infinite"),
    (lambda x, z: (x, (0.3 * x[:, 1:] + 0.1).astype(np.float32)), "x, z", "infinite"),
    (lambda x, z: (x[:6], z[:6]), "x", "at least d_x + d_z + 2 = 7"),
], ids=["constant", "dependent features", "linear relation", "linear relation float32", "too few samples"])
def test_gaussian_refuses_a_singular_covariance(make, argument, words):
    x, z = make(*mixed_sample(100, 3, 2, seed=7))
    with pytest.raises(InvalidArgumentError) as error:
        gaussian(x, z)
    assert str(error.value).startswith(f"{argument}: expected") and words in str(error.value)


# KSG


def brute_force_ksg(x, z, k):
    """Algorithm 1 of Kraskov et al. (2004) over all n^2 pairs: (mi, stderr)."""
    x_distance = np.abs(x[:, None, :] - x[None, :, :]).max(axis=-1)
    z_distance = np.abs(z[:, None, :] - z[None, :, :]).max(axis=-1)
    joint_distance = np.maximum(x_distance, z_distance)
    for distance in (x_distance, z_distance, joint_distance):
        np.fill_diagonal(distance, np.inf)  # a point is not its own neighbour
    radius = np.sort(joint_distance, axis=1)[:, k - 1]
    x_counts = np.sum(x_distance < radius[:, None], axis=1)
    z_counts = np.sum(z_distance < radius[:, None], axis=1)
    terms = digamma(x_counts + 1) + digamma(z_counts + 1)
    return digamma(k) + digamma(len(x)) - terms.mean(), terms.std(ddof=1) / math.sqrt(len(x))


@pytest.mark.parametrize("k", [1, 3, 7])
def test_ksg_is_algorithm_1(k):
    x, z = mixed_sample(200, 2, 1, seed=8)
    assert ksg(x, z, k=k) == pytest.approx(brute_force_ksg(x, z, k), abs=1e-12)


def test_ksg_counts_only_strictly_closer_points_when_distances_tie():
    # x on an integer grid, about 2 samples a value, z within 0.5: eps_i is mostly an x distance,
    # which other samples share exactly; algorithm 1 must not count them.
    rng = np.random.default_rng(9)
    x = rng.integers(0, 150, size=(300, 1)).astype(np.float64)
    z = rng.uniform(0.0, 0.5, size=(300, 1))
    joint_distance = np.maximum(np.abs(x - x.T), np.abs(z - z.T))
    np.fill_diagonal(joint_distance, np.inf)
    radius = np.sort(joint_distance, axis=1)[:, 2]
    assert np.sum(np.abs(x - x.T) == radius[:, None]) > 500  # samples exactly at eps_i in x
    assert ksg(x, z) == pytest.approx(brute_force_ksg(x, z, 3), abs=1e-12)


# Observed errors at n = 5000, k = 3 (seed 0 | over seeds 0-11: mean, largest): 1+1 dimensions,
# 0.5 nats: +0.002 | +0.009, 0.036; 2 nats: +0.020 | +0.021, 0.054. 3+3 dimensions, 0.5 nats:
# -0.036 | -0.015, 0.036; 2 nats: -0.094 | -0.073, 0.098. Tolerances: 1.5 times the largest.
@pytest.mark.parametrize("dim, mi, tolerance", [(1, 0.5, 0.055), (1, 2.0, 0.08), (3, 0.5, 0.055), (3, 2.0, 0.15)])
def test_ksg_on_correlated_gaussians(dim, mi, tolerance):
    x, z, true_mi = mivb.correlated_gaussians(5000, dim, rho_for_mi(dim, mi), seed=0)
    estimate, stderr = ksg(x, z)
    assert abs(estimate - true_mi) < tolerance
    assert 0.01 < stderr < 0.02  # observed 0.012 to 0.017


def test_ksg_underestimates_large_mi_in_more_dimensions():
    x, z, true_mi = mivb.correlated_gaussians(5000, 3, rho_for_mi(3, 2.0), seed=0)
    assert -0.15 < ksg(x, z)[0] - true_mi < -0.04


def test_ksg_of_independent_samples_is_near_zero():
    rng = np.random.default_rng(10)
    estimate, stderr = ksg(rng.standard_normal((5000, 2)), rng.standard_normal((5000, 2)))
    assert abs(estimate) < 0.02  # observed 0.006; the spread over samples is about 0.01
    assert 0.005 < stderr < 0.015


def test_ksg_is_unchanged_by_sample_order_and_a_common_power_of_two_scale():
    x, z = mixed_sample(400, 2, 1, seed=11)
    reference = ksg(x, z)
    order = np.random.default_rng(12).permutation(400)
    assert ksg(x[order], z[order]) == pytest.approx(reference, abs=1e-12)
    assert ksg(4.0 * x, 4.0 * z) == pytest.approx(reference, abs=1e-12)  # exact: every distance times 4
    assert ksg(x[:, :1], z[:, 0]) == ksg(x[:, 0], z[:, 0])


def test_ksg_refuses_samples_repeated_more_than_k_times():
    x, z = mixed_sample(100, 1, 1, seed=13)
    x[:4], z[:4] = x[0], z[0]  # one pair four times: its 3rd neighbour is at distance 0
    with pytest.raises(InvalidArgumentError) as error:
        ksg(x, z, k=3)
    message = str(error.value)
    assert message.startswith("x, z: expected continuous samples") and "3 repeated pairs among n=100" in message
    assert "add noise" in message
    assert math.isfinite(ksg(x, z, k=4)[0])  # with k = 4 the 4th neighbour is another point


def test_ksg_refuses_a_run_projected_past_the_time_limit(monkeypatch):
    monkeypatch.setattr(classical, "KSG_SECONDS_LIMIT", 1e-4)
    x, z = mixed_sample(2000, 1, 1, seed=14)
    with pytest.raises(InvalidArgumentError) as error:
        ksg(x, z)
    message = str(error.value)
    assert message.startswith("x, z: expected samples KSG can process within KSG_SECONDS_LIMIT")
    assert "projected from 1000 of them" in message
    assert re.search(r"keep = np\.random\.default_rng\(0\)\.choice\(2000, \d+, replace=False\)", message)
    assert math.isfinite(ksg(x[:1000], z[:1000])[0])  # the pilot is the whole run: nothing is left to refuse


def test_ksg_without_scipy_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.spatial", None)  # makes `from scipy.spatial import ...` fail
    x, z, _ = mivb.correlated_gaussians(100, 1, 0.5)
    with pytest.raises(BackendNotAvailableError, match=r'pip install "mivb\[classical\]"'):
        ksg(x, z)
    assert gaussian(x, z)[0] > 0  # NumPy only


def test_importing_the_module_needs_no_scipy():
    code = "import sys; sys.modules['scipy'] = None; import mivb.classical; print('imported')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "imported\n"


# Bad inputs, for both estimators


def good():
    return mixed_sample(50, 2, 2, seed=15)


BAD_INPUTS = [
    ("images", lambda x, z: (x.reshape(50, 2, 1, 1), z), "x", InvalidArgumentError),
    ("images z", lambda x, z: (x, np.zeros((50, 2, 2)) + z[:, :, None]), "z", InvalidArgumentError),
    ("lengths", lambda x, z: (x, z[:49]), "z", InvalidArgumentError),
    ("nan", lambda x, z: (np.where(x > 1.5, np.nan, x), z), "x", InvalidArgumentError),
    ("inf", lambda x, z: (x, np.where(z > 1.5, np.inf, z)), "z", InvalidArgumentError),
    ("empty", lambda x, z: (x[:0], z[:0]), "x", InvalidArgumentError),
    ("scalar", lambda x, z: (np.float64(1.0), z), "x", InvalidArgumentError),
    ("integers", lambda x, z: (np.arange(50), z), "x", InvalidTypeError),
    ("booleans", lambda x, z: (x, z > 0), "z", InvalidTypeError),
    ("complex", lambda x, z: (x + 1j, z), "x", InvalidTypeError),
    ("ragged", lambda x, z: ([[1.0, 2.0], [3.0]], z), "x", InvalidArgumentError),
]


@pytest.mark.parametrize("estimator", [ksg, gaussian])
@pytest.mark.parametrize("case, make, argument, error_class", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_inputs_are_refused_naming_the_argument(estimator, case, make, argument, error_class):
    with pytest.raises(error_class) as error:
        estimator(*make(*good()))
    assert str(error.value).startswith(f"{argument}: expected")


def test_image_errors_say_what_each_estimator_is_for():
    x, z = good()
    images = x.reshape(50, 2, 1, 1)
    with pytest.raises(InvalidArgumentError, match=r"KSG is for low-dimensional vectors \(d_x \+ d_z <= 20\)"):
        ksg(images, z)
    with pytest.raises(InvalidArgumentError, match=r"flatten with x\.reshape\(len\(x\), -1\)"):
        gaussian(images, z)


def test_ksg_refuses_more_than_20_dimensions():
    rng = np.random.default_rng(16)
    assert math.isfinite(ksg(rng.standard_normal((50, 10)), rng.standard_normal((50, 10)))[0])
    with pytest.raises(InvalidArgumentError) as error:
        ksg(rng.standard_normal((50, 11)), rng.standard_normal((50, 10)))
    assert str(error.value).startswith("x, z: expected d_x + d_z <= 20") and "curse of dimensionality" in str(error.value)


@pytest.mark.parametrize("k", [0, -1, True, 2.5, "3", None])
def test_ksg_refuses_k_other_than_a_positive_integer(k):
    with pytest.raises(InvalidArgumentError) as error:
        ksg(*good(), k=k)
    assert str(error.value).startswith("k: expected a positive integer")


def test_ksg_takes_numpy_integer_k_and_needs_k_plus_2_samples():
    x, z = good()
    assert ksg(x, z, k=np.int64(3)) == ksg(x, z, k=3)
    assert math.isfinite(ksg(x[:5], z[:5], k=3)[0])
    with pytest.raises(InvalidArgumentError) as error:
        ksg(x[:4], z[:4], k=3)
    assert str(error.value).startswith("x: expected at least k + 2 = 5 samples")
