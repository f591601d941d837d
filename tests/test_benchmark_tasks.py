"""The benchmark tasks' closed-form MI, checked by Monte Carlo on the exact densities."""

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import tasks


def monte_carlo_mi(joint, marginal_x, marginal_z, x, z):
    xz = np.concatenate([x, z], axis=1)
    return float(np.mean(joint.logpdf(xz) - marginal_x.logpdf(x) - marginal_z.logpdf(z)))


def dispersion(dim_x, dim_z, pairs, rho):
    matrix = np.eye(dim_x + dim_z)
    for i in range(pairs):
        matrix[i, dim_x + i] = matrix[dim_x + i, i] = rho
    return matrix


@pytest.mark.parametrize("dim_x, dim_z, pairs, rho", [(1, 1, 1, 0.75), (5, 5, 2, 0.75), (3, 4, 3, 0.6)])
def test_gaussian_mi_matches_monte_carlo(dim_x, dim_z, pairs, rho):
    task = tasks.gaussian(dim_x, dim_z, pairs, rho)
    x, z = task.sample(200_000, 0)
    sigma = dispersion(dim_x, dim_z, pairs, rho)
    estimate = monte_carlo_mi(stats.multivariate_normal(cov=sigma), stats.multivariate_normal(cov=np.eye(dim_x)),
                              stats.multivariate_normal(cov=np.eye(dim_z)), x, z)
    assert estimate == pytest.approx(task.mi, abs=0.01)


@pytest.mark.parametrize("dim_x, dim_z, pairs, rho, dof", [(1, 1, 1, 0.5, 1.0), (5, 5, 2, 0.5, 3.0), (2, 3, 1, 0.0, 2.0)])
def test_student_t_mi_matches_monte_carlo(dim_x, dim_z, pairs, rho, dof):
    task = tasks.student_t(dim_x, dim_z, pairs, rho, dof)
    x, z = task.sample(200_000, 0)
    sigma = dispersion(dim_x, dim_z, pairs, rho)
    estimate = monte_carlo_mi(stats.multivariate_t(shape=sigma, df=dof), stats.multivariate_t(shape=np.eye(dim_x), df=dof),
                              stats.multivariate_t(shape=np.eye(dim_z), df=dof), x, z)
    assert estimate == pytest.approx(task.mi, abs=0.015)
    if rho == 0.0:
        assert task.mi > 0.05  # a shared scale makes X and Z dependent even when uncorrelated


def test_dense_rotation_and_transforms_keep_the_mi_and_the_samples_invertible():
    sparse, dense = tasks.gaussian(5, 5, 2, 0.75), tasks.gaussian(5, 5, 2, 0.75, dense=True)
    assert dense.mi == sparse.mi
    x_sparse, _ = sparse.sample(1000, 3)
    x_dense, _ = dense.sample(1000, 3)
    assert np.abs(np.corrcoef(x_dense.T) - np.eye(5)).max() < 0.15  # still white: a rotation
    assert not np.allclose(x_dense, x_sparse)
    base = tasks.gaussian(3, 3, 2, 0.75)
    x, _ = base.sample(1000, 0)
    for name, transform in tasks.TRANSFORMS.items():
        out = transform(x)
        order = np.argsort(x[:, 2])
        assert np.all(np.diff(out[order, 2]) > 0) or name == "spiral", name  # coordinate-wise monotone
        assert len(np.unique(out.round(9), axis=0)) == len(x), name


def test_conditional_truths_match_their_simple_formulas():
    cause, correlated, collider = tasks.common_cause(2, 0.5), tasks.conditional_correlation(3, 0.6), tasks.collider(2, 0.5)
    assert cause.mi == pytest.approx(0.0, abs=1e-12)
    assert correlated.mi == pytest.approx(-1.5 * np.log(1 - 0.6**2))
    assert collider.mi == pytest.approx(np.log(1 + 1 / 0.5**2))  # 2/2 log(1 + 1/noise^2): X seen through noise
    for task, marginal_mi in [(cause, -np.log(1 - (1 / 1.25) ** 2)), (collider, np.log(1 + 1 / 1.25))]:
        xz = task.covariance[: task.dim_x + task.dim_z, : task.dim_x + task.dim_z]
        assert tasks.gaussian_conditional_mi(xz, task.dim_x, task.dim_z) == pytest.approx(marginal_mi)
    assert collider.mi > np.log(1 + 1 / 1.25)  # conditioning on Y raises the MI


@pytest.mark.parametrize("task", tasks.conditional_tasks(), ids=lambda task: task.name)
def test_conditional_mi_matches_the_sample_covariance(task):
    n = 200_000
    x, z, y = task.sample(n, 0)
    for sample, dim in [(x, task.dim_x), (z, task.dim_z), (y, task.dim_y)]:
        assert sample.shape == (n, dim) and sample.dtype == np.float64
    estimate = tasks.gaussian_conditional_mi(np.cov(np.concatenate([x, z, y], axis=1).T), task.dim_x, task.dim_z)
    # The plug-in's standard deviation is sqrt(sum of squared partial canonical correlations / n) <= sqrt(dim / n).
    assert estimate == pytest.approx(task.mi, abs=4 * np.sqrt(min(task.dim_x, task.dim_z) / n))
