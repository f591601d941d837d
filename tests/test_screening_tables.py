"""benchmarks/screening.py's tables: each stated MI against a Monte Carlo average of the exact log
density ratio, written here from the densities (the inverse maps), not from the sampler's code."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import screening

N = 200_000


def inverse(kind, x):
    """t = h^-1(x): the Gaussian coordinate each kind of column was made from."""
    if kind == "linear":
        return (x - 1) / 2
    if kind == "cubic":
        return np.cbrt(x)
    if kind == "saturating":
        return np.arctanh(x)
    if kind == "heavy-tailed":  # Phi^-1(F(x)), F the Student-t's distribution function
        return np.where(x < 0, special.ndtri(stats.t.cdf(x, 2)), -special.ndtri(stats.t.sf(x, 2)))
    if kind == "v-shaped":  # |x| is half-normal: t = Phi^-1(2 Phi(|x|) - 1) = -Phi^-1(2 Phi(-|x|))
        return -special.ndtri(2 * special.ndtr(-np.abs(x)))
    raise AssertionError(kind)


def log_ratio(t, y, rho):
    """log p(t | y) - log p(t) for standard normal t, y of correlation rho (the Jacobians of x = h(t) cancel)."""
    return stats.norm.logpdf(t, rho * y, math.sqrt(1 - rho**2)) - stats.norm.logpdf(t)


@pytest.fixture(scope="module")
def big_table():
    return screening.table(100, N, seed=7)


def test_the_table_holds_every_kind_at_every_level_and_nulls(big_table):
    columns, truth = big_table.columns, big_table.truth
    assert len(columns) == 100 and all(len(x) == N for x in columns.values())
    assert len(big_table.weak) == 2 * len(screening.KINDS)  # 100 features: each kind and level twice
    assert len(big_table.null) == 100 - 3 * 2 * len(screening.KINDS)  # the pair's two among them
    assert {truth[name] for name in big_table.null} == {0.0}
    assert truth["pair"] == pytest.approx(math.log(2) - (-0.1 * math.log(0.1) - 0.9 * math.log(0.9)))
    assert screening.table(1000, 10, seed=0).weak[-1] == "v-shaped_weak_19"


@pytest.mark.parametrize("kind", screening.KINDS)
@pytest.mark.parametrize("level", ["strong", "weak"])
def test_each_column_has_its_stated_mi(big_table, kind, level):
    x, y = big_table.columns[f"{kind}_{level}_0"], big_table.target
    mi = big_table.truth[f"{kind}_{level}_0"]
    t = inverse(kind, x)
    rho = screening.rho_for(mi)
    assert np.isfinite(t).all()
    assert np.corrcoef(t, y)[0, 1] == pytest.approx(rho, abs=0.01)
    assert float(np.mean(log_ratio(t, y, rho))) == pytest.approx(mi, abs=0.006)
    if kind == "v-shaped":  # no linear trace of y at all, all of it in |x|
        assert abs(np.corrcoef(x, y)[0, 1]) < 0.01
        assert abs(np.corrcoef(np.abs(x), y)[0, 1]) > 0.5 * rho


def test_the_pair_informs_only_together(big_table):
    a, b, y = big_table.columns["pair_a"], big_table.columns["pair_b"], big_table.target
    agree = np.sign(a * b) == np.sign(y)
    assert agree.mean() == pytest.approx(0.9, abs=0.005)
    # the log density ratio of y given the pair: y's sign read through a channel that errs 1 time in 10
    assert float(np.mean(np.where(agree, math.log(1.8), math.log(0.2)))) == pytest.approx(screening.pair_truth(), abs=0.01)
    # alone, each column is standard normal and independent of y: no sign, size or tail of one tracks y's
    bound = 5 / math.sqrt(N)
    for x in (a, b):
        assert stats.kstest(x, "norm").statistic < 0.01
        for left, right in [(np.sign(x), np.sign(y)), (np.abs(x), np.abs(y)), (np.sign(x), np.abs(y)),
                            (np.abs(x), np.sign(y)), (x, y)]:
            assert abs(np.corrcoef(left, right)[0, 1]) < bound


@pytest.mark.parametrize("mi", screening.LEVELS.values())
def test_the_classification_truth_is_the_integral_and_the_monte_carlo_average(mi):
    truth = screening.classification_truth(mi)
    rho = screening.rho_for(mi)
    slope = rho / math.sqrt(1 - rho**2)
    # a plain grid sum of the same integral, and the log ratio averaged over draws of (t, 1[y > 0])
    grid = np.linspace(-12, 12, 400_001)
    p = special.ndtr(slope * grid)
    entropy = special.entr(p) + special.entr(1 - p)
    assert math.log(2) - integrate.trapezoid(stats.norm.pdf(grid) * entropy, grid) == pytest.approx(truth, abs=1e-9)
    rng = np.random.default_rng(1)
    y = rng.standard_normal(N)
    t = rho * y + math.sqrt(1 - rho**2) * rng.standard_normal(N)
    c = y > 0
    log_ratio_c = np.log(2 * np.where(c, special.ndtr(slope * t), special.ndtr(-slope * t)))
    assert float(np.mean(log_ratio_c)) == pytest.approx(truth, abs=0.006)
    assert 0 < truth < mi  # a coarsened target carries less


def test_rho_for_inverts_the_gaussian_mi():
    for mi in (1e-4, 0.02, 0.3, 2.0):
        rho = screening.rho_for(mi)
        assert -0.5 * math.log(1 - rho**2) == pytest.approx(mi, rel=1e-12)


def test_benjamini_hochberg_steps_up():
    p = {"a": 0.01, "b": 0.06, "c": 0.07, "d": 0.5}
    # thresholds 0.025, 0.05, 0.075, 0.1: c passes at rank 3, so b is taken with it though 0.06 > 0.05
    assert screening.benjamini_hochberg(p, q=0.1) == {"a", "b", "c"}
    assert screening.benjamini_hochberg({"a": 0.2, "b": 0.3}, q=0.1) == set()
