"""The checks against a silent miss at high MI or in many dimensions: the linear critic beside the trained
one (mivb/crosscheck.py: its scores are the Gaussian log density ratio to the digit, its note fires on a
clear gap only) and the limit of what held-out pairs can certify (mivb/diagnosis.py)."""

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import mivb
from mivb.crosscheck import GaussianCritic, fit_linear_critic, linear_note, linear_values
from mivb.diagnosis import TrainingRun, diagnose
from mivb.estimate import EstimateConfig


def test_scores_are_the_log_density_ratio_of_the_fitted_gaussian():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 3))
    z = x[:, :2] @ rng.normal(size=(2, 2)) + rng.normal(size=(400, 2))
    joint = np.concatenate([x, z], axis=1)
    mean, covariance = joint.mean(axis=0), np.cov(joint, rowvar=False, bias=True)
    new_x, new_z = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    pairs = np.concatenate([np.repeat(new_x, 5, axis=0), np.tile(new_z, (5, 1))], axis=1)
    expected = (multivariate_normal(mean, covariance).logpdf(pairs)
                - multivariate_normal(mean[:3], covariance[:3, :3]).logpdf(pairs[:, :3])
                - multivariate_normal(mean[3:], covariance[3:, 3:]).logpdf(pairs[:, 3:])).reshape(5, 5)
    np.testing.assert_allclose(GaussianCritic.fit(x, z).scores(new_x, new_z), expected, rtol=1e-9, atol=1e-9)


def test_on_gaussians_the_linear_critic_reads_the_bound_of_the_true_ratio_at_its_optimal_offset():
    x, z, truth = mivb.correlated_gaussians(20_000, 2, 0.8, seed=1)
    critic = GaussianCritic.fit(x[:16_000], z[:16_000])
    batches = np.arange(16_000, 20_000).reshape(-1, 1000)
    values = linear_values(critic, x, z, batches, "nwj", {})
    rho = 0.8
    ratio = lambda a, b: np.sum(-0.5 * math.log(1 - rho**2)
                                - (rho**2 * (a**2 + b**2) - 2 * rho * a * b) / (2 * (1 - rho**2)), axis=-1)
    exact = [float(mivb.bound("nwj", 1 + ratio(x[i][:, None, :], z[i][None, :, :]))) for i in batches]
    np.testing.assert_allclose(values, exact, atol=0.02)
    assert abs(values.mean() - truth) < 0.05


def test_the_check_applies_to_score_only_bounds_on_vectors_with_enough_pairs():
    x, z = np.random.default_rng(2).normal(size=(2, 200, 4))
    assert isinstance(fit_linear_critic("infonce", None, x, z), GaussianCritic)
    assert fit_linear_critic("tuba", None, x, z) is None  # a learned baseline: the linear critic has none
    assert fit_linear_critic("infonce", 16, x, z) is None  # sampled negatives
    assert fit_linear_critic("infonce", None, x.reshape(200, 2, 2), z) is None  # images
    assert fit_linear_critic("infonce", None, x[:39], z[:39]) is None  # under 5 pairs per dimension


def test_the_note_needs_a_gap_beyond_five_percent_and_three_standard_errors():
    network = np.full(10, 1.0) + np.random.default_rng(3).normal(scale=0.01, size=10)
    assert linear_note("infonce", network, network + 0.04) is None  # under 0.05 nats
    assert linear_note("infonce", network, network + 0.3) is not None
    noisy = network + 0.3 + np.random.default_rng(4).normal(scale=1.0, size=10)  # a gap within its noise
    assert linear_note("infonce", network, noisy) is None
    note = linear_note("infonce", np.full(4, 0.02), np.array([0.9, 0.95, 0.9, 0.95]))
    assert "reads 0.925 nats under infonce" in note and "0.905 above this critic's 0.020" in note


@pytest.mark.parametrize(("mi", "noted", "unreliable"), [(7.0, False, False), (7.7, True, False), (8.5, True, True)])
def test_a_bound_without_ceiling_near_log_test_pairs_is_noted_and_above_it_unreliable(mi, noted, unreliable):
    run = TrainingRun(np.full(400, mi), np.full(10, mi), 300, True, None)
    for bound, kind_has_ceiling in (("smile", False), ("infonce", True)):
        config = EstimateConfig(bound=bound)
        ceiling = 100.0 if kind_has_ceiling else None  # a ceiling far away: only the certifiable limit could speak
        notes, flagged = diagnose(config, run, mi, 0.01, ceiling, 20_000, False, 4000)
        said = [note for note in notes if "about the most a lower bound can certify" in note]
        assert bool(said) == (noted and not kind_has_ceiling) and flagged == (unreliable and not kind_has_ceiling)
        if said:
            where = "above log 4000 = 8.29" if unreliable else "within 1 of log 4000 = 8.29"
            assert said[0].startswith(f"smile reads {mi:.3f} nats from 4000 held-out pairs, {where}")


def test_the_linear_critic_is_fitted_on_at_most_fit_pairs(monkeypatch):
    x, z = np.random.default_rng(5).normal(size=(2, 300, 3))
    monkeypatch.setattr("mivb.crosscheck.FIT_PAIRS", 100)
    fitted, expected = fit_linear_critic("infonce", None, x, z), GaussianCritic.fit(x[:100], z[:100])
    np.testing.assert_array_equal(fitted.scores(x[:4], z[:4]), expected.scores(x[:4], z[:4]))
