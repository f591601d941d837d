"""The checks against a silent miss at high MI or in many dimensions: the linear critic beside the trained
one (mivb/crosscheck.py: its scores are the Gaussian log density ratio to the digit, its note fires on a
clear gap only) and the limit of what held-out pairs can certify (mivb/diagnosis.py)."""

import math
import re
import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import mivb
from mivb.crosscheck import GaussianCritic, fit_linear_critic, linear_note, linear_values, plug_in_note
from mivb.diagnosis import TrainingRun, diagnose
from mivb.estimate import EstimateConfig
from mivb.notes import code_of


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
    assert "reads 0.925 nats under infonce" in note and "0.905 above the network's 0.020" in note
    assert code_of(note) == "linear"


@pytest.mark.parametrize(("mi", "noted", "unreliable"), [(7.0, False, False), (7.7, True, False), (8.5, True, True)])
def test_a_bound_without_ceiling_near_log_test_pairs_is_noted_and_above_it_unreliable(mi, noted, unreliable):
    run = TrainingRun(np.full(400, mi), np.full(10, mi), 300, True, None)
    for bound, kind_has_ceiling in (("smile", False), ("infonce", True)):
        config = EstimateConfig(bound=bound)
        ceiling = 100.0 if kind_has_ceiling else None  # a ceiling far away: only the certifiable limit could speak
        notes, flagged = diagnose(config, run, mi, 0.01, ceiling, 20_000, False, 4000)
        said = [note for note in notes if code_of(note) == "certifiable"]
        assert bool(said) == (noted and not kind_has_ceiling) and flagged == (unreliable and not kind_has_ceiling)
        if said:
            where = "above log 4000 = 8.29" if unreliable else "within 1 of log 4000 = 8.29"
            assert said[0].startswith(f"smile reads {mi:.3f} nats from 4000 held-out pairs, {where}")


def test_the_linear_critic_is_fitted_on_at_most_fit_pairs(monkeypatch):
    x, z = np.random.default_rng(5).normal(size=(2, 300, 3))
    monkeypatch.setattr("mivb.crosscheck.FIT_PAIRS", 100)
    fitted, expected = fit_linear_critic("infonce", None, x, z), GaussianCritic.fit(x[:100], z[:100])
    np.testing.assert_array_equal(fitted.scores(x[:4], z[:4]), expected.scores(x[:4], z[:4]))


def test_the_log_ratio_of_each_pair_is_the_diagonal_of_the_scores():
    x, z = np.random.default_rng(6).normal(size=(2, 300, 3))
    critic = GaussianCritic.fit(x, z + 0.5 * x)
    np.testing.assert_allclose(critic.log_ratio(x[:7], z[:7]), np.diag(critic.scores(x[:7], z[:7])), rtol=1e-12)


def _quiet_estimate(x, z, bound="infonce", **options):
    """InfoNCE, whose linear fallback these tests check (the default reports the copula on such data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mivb.estimate(x, z, bound=bound, backend="torch", seed=0, progress=False, **options)


@pytest.fixture(scope="module")
def thin_gaussians():
    """1 nat spread over 40 coordinates, 4000 pairs: the network misses most of it, the linear critic not."""
    return mivb.correlated_gaussians(4000, 40, mivb.data.rho_for_mi(40, 1.0), seed=5)


def test_the_linear_critic_is_reported_where_it_wins_on_validation_and_pointwise_reads_it(thin_gaussians):
    x, z, truth = thin_gaussians
    result = _quiet_estimate(x, z)
    assert result.linear_critic is not None and result.config.linear_fallback
    assert 0.65 * truth < result.mi < truth  # a lower bound, at 4000 pairs in 40 dimensions
    [network] = [float(found) for note in result.notes
                 for found in re.findall(r"\(test: (-?\d+\.\d+)\) \[linear-reported\]", note)]
    assert network < result.mi - 0.2
    # 2800 training pairs for 80 dimensions: the model's own MI reads high in-sample, and the note says so
    [plug_in] = [note for note in result.notes if code_of(note) == "plug-in"]
    assert f"has MI {result.linear_critic.mi:.3f} nats (test pairs: " in plug_in
    assert f"above the {result.mi:.3f} infonce reads" in plug_in
    assert "with few pairs per dimension the first reads high" in result.explain("plug-in")
    assert result.linear_critic.mi > truth > result.mi
    assert result.mi == pytest.approx(result.test_values.mean(), abs=1e-12)
    np.testing.assert_allclose(result.pointwise(x[:50], z[:50]),
                               result.linear_critic.log_ratio(*result.prepare_new(x[:50], z[:50])), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = mivb.estimate(x, z, progress=False, **result.config.to_kwargs())
    assert again.mi == result.mi and again.linear_critic is not None


def test_bounds_that_overshoot_on_finite_batches_and_the_independence_test_keep_the_network(thin_gaussians):
    x, z, _ = thin_gaussians
    smile = _quiet_estimate(x, z, bound="smile", steps=300)
    assert smile.linear_critic is None and any(note.startswith("a linear critic") for note in smile.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = mivb.independence_test(x, z, backend="torch", seed=0, progress=False, permutations=19, steps=300)
    # the null distribution scores the network on shuffles: the statistic must be the network's too
    assert test.estimate.config.linear_fallback is False and test.estimate.linear_critic is None


def test_a_network_that_reads_more_than_correlation_shows_is_kept():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 1))
    z = x**2 + 0.1 * rng.normal(size=(3000, 1))  # uncorrelated, strongly dependent
    result = _quiet_estimate(x, z, steps=1000)
    assert result.linear_critic is None and result.mi > 0.5
    assert not any("linear critic" in note for note in result.notes)


def test_linear_fallback_must_be_a_bool():
    x, z = np.random.default_rng(8).normal(size=(2, 100, 2))
    with pytest.raises(mivb.MivbError, match=r"linear_fallback: expected True or False, received linear_fallback='yes'"):
        mivb.estimate(x, z, linear_fallback="yes")


def test_the_model_mi_is_the_gaussian_mi_and_its_note_needs_a_clear_gap():
    x, z, truth = mivb.correlated_gaussians(100_000, 3, 0.6, seed=9)
    critic = GaussianCritic.fit(x, z)
    assert critic.mi == pytest.approx(truth, abs=0.01)  # 3 x -1/2 log(1 - 0.36)
    ratios = np.full(10, truth)
    assert plug_in_note("infonce", truth - 0.04, critic, ratios) is None  # under 0.05 nats
    assert plug_in_note("infonce", 0.95 * truth, critic, ratios) is None  # under 10% of the model's MI
    note = plug_in_note("infonce", 0.5, critic, ratios)
    assert f"has MI {critic.mi:.3f} nats (test pairs: {truth:.3f}), above the 0.500 infonce reads" in note
    assert code_of(note) == "plug-in"


def test_a_critic_you_pass_is_the_one_reported_unless_you_ask_for_the_fallback(thin_gaussians):
    x, z, _ = thin_gaussians
    chosen = _quiet_estimate(x, z, critic="separable")
    assert chosen.linear_critic is None and chosen.config.linear_fallback is False
    assert any(note.startswith("a linear critic") for note in chosen.notes)
    asked = _quiet_estimate(x, z, critic="separable", linear_fallback=True)
    assert asked.linear_critic is not None and asked.mi > chosen.mi + 0.2


def test_a_conditional_term_read_on_larger_batches_is_subtracted_unpaired():
    from mivb.conditional import difference
    from mivb.estimate import Estimate

    def term(values):
        values = np.asarray(values, dtype=float)
        return Estimate(mi=float(values.mean()), stderr=float(values.std(ddof=1) / math.sqrt(len(values))),
                        history=np.zeros(0), bound="infonce", backend="torch", config=EstimateConfig(),
                        test_values=values)

    joint, marginal = term([1.0, 1.2, 1.1, 1.3]), term(np.linspace(0.2, 0.6, 15))  # the linear critic's 4 batches
    result = difference(joint, marginal)
    assert result.mi == pytest.approx(joint.mi - marginal.mi, abs=1e-12)
    assert result.stderr == pytest.approx(math.hypot(joint.stderr, marginal.stderr), rel=1e-12)
    paired = difference(joint, term([0.3, 0.5, 0.4, 0.4]))  # the same batches: paired, batch by batch
    np.testing.assert_allclose(paired.test_values, [0.7, 0.7, 0.7, 0.9])


def test_folds_average_their_estimates_whatever_batches_each_was_read_on():
    from mivb.estimate import Estimate
    from mivb.intervals import crossfit

    def fold(values):
        values = np.asarray(values, dtype=float)
        return Estimate(mi=float(values.mean()), stderr=0.01, history=np.zeros(0), bound="infonce",
                        backend="torch", config=EstimateConfig(), test_values=values)

    # a fold that reports its linear critic on 2 larger batches beside one whose network read 6
    result = crossfit(EstimateConfig(folds=2), [fold([1.0, 1.2]), fold([0.5] * 6)])
    assert result.mi == pytest.approx(0.8, abs=1e-12)  # not 0.65, the mean of the 8 batch values
    assert len(result.test_values) == 8
