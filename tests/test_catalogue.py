"""The estimator catalogue through ``mivb.estimate``: kinds, classical estimators, brackets."""

import math

import numpy as np
import pytest

import mivb
from mivb.bounds import SUM

pytest.importorskip("torch")
pytest.importorskip("scipy")

GAUSSIANS = mivb.correlated_gaussians(3000, 2, mivb.data.rho_for_mi(2, 1.0), seed=5)


def test_every_estimator_is_listed_with_its_kind_and_paper():
    catalogue = mivb.estimators()
    kinds = {name: info.kind for name, info in catalogue.items()}
    assert kinds == {"dv": "lower", "mine": "lower", "nwj": "lower", "infonce": "lower", "js": "lower",
                     "smile": "lower", "tuba": "lower", "alpha": "lower", "ba": "lower", "club": "upper", "l1out": "estimate",
                     "ksg": "classical", "gaussian": "classical", "copula": "estimate"}
    assert all(info.paper and info.summary for info in catalogue.values())
    assert catalogue["alpha"].params == {"alpha": 0.01} and catalogue["ksg"].params == {"k": 3}


@pytest.mark.parametrize("name", ["ksg", "gaussian"])
def test_classical_estimators_run_on_all_pairs_without_training(name):
    x, z, truth = GAUSSIANS
    result = mivb.estimate(x, z, bound=name, seed=0)
    expected = getattr(mivb.classical, name)(*(mivb.samples.prepare("auto", a, argument="x")[0] for a in (x, z)))
    assert (result.mi, result.stderr) == expected  # the estimator itself, on the transformed pairs
    assert result.kind == "classical" and result.backend == "numpy" and len(result.history) == 0
    assert abs(result.mi - truth) < 4 * result.stderr + 0.03, (result, truth)
    assert result.stop_reason == "none (a classical estimator, on all pairs)" and not result.unreliable


def test_classical_parameters_and_their_errors():
    x, z, _ = GAUSSIANS
    assert mivb.estimate(x, z, bound="ksg", k=5).config.bound_params == {"k": 5}
    with pytest.raises(mivb.UnknownNameError, match="'k'"):
        mivb.estimate(x, z, bound="ksg", clip=2.0)
    with pytest.raises(mivb.InvalidArgumentError, match="vectors"):
        mivb.estimate(np.random.default_rng(0).normal(size=(50, 1, 4, 4)), z[:50], bound="ksg")
    with pytest.raises(mivb.UnknownNameError, match="'ksg'"):  # the error lists every estimator
        mivb.estimate(x, z, bound="kgs")


def test_upper_bounds_need_the_conditional_critic():
    x, z, _ = GAUSSIANS
    with pytest.raises(mivb.InvalidArgumentError, match="critic: expected 'conditional'"):
        mivb.estimate(x, z, bound="club", critic="separable", steps=2)
    with pytest.raises(mivb.InvalidArgumentError, match="vectors"):
        mivb.estimate(np.zeros((300, 2), np.float32), np.zeros((300, 1, 2, 2), np.float32), bound="l1out", steps=2)


def test_a_list_of_bounds_is_one_split_each_with_its_own_critic():
    x, z, truth = GAUSSIANS
    lower, upper, classical = mivb.estimate(x, z, bound=["smile", "l1out", "ksg"], steps=300, seed=3,
                                            progress=False, clip=4.0)
    assert (lower.kind, upper.kind, classical.kind) == ("lower", "estimate", "classical")
    assert lower.config.seed == upper.config.seed == 3 and lower.config.bound_params == {"clip": 4.0}
    alone = mivb.estimate(x, z, bound="l1out", steps=300, seed=3, progress=False)
    assert alone.mi == upper.mi  # the same split and seed as on its own
    assert upper.config.critic.kind == "conditional" and lower.config.critic.kind == "separable"
    assert lower.mi < truth + 2 * lower.stderr and upper.mi > truth - 2 * upper.stderr, (lower, upper, truth)


def test_a_lower_bound_above_an_upper_bound_is_noted_on_both():
    below = mivb.Bound("always_below", lambda s, p: {"pos": (s.sum_positives(), SUM)},
                       lambda t, p, s: (t.mean("pos") * 0.0 - 5.0, t.mean("pos")), summary="reads -5", kind="upper")
    mivb.register_bound(below)
    try:
        x, z, _ = GAUSSIANS
        with pytest.warns(UserWarning, match="reads above the upper bound"):
            lower, upper = mivb.estimate(x, z, bound=["infonce", "always_below"], steps=100, seed=0, progress=False)
    finally:
        mivb.unregister_bound("always_below")
    assert upper.mi == -5.0 and lower.unreliable and upper.unreliable
    assert any("always_below" in note for note in lower.notes)
    assert math.isfinite(lower.mi)


def test_ba_takes_class_labels_and_only_ba_does():
    rng = np.random.default_rng(1)
    labels = rng.choice(np.array(["cat", "dog", "owl"]), 900)
    x = (labels == "dog")[:, None] * 2.0 + rng.normal(size=(900, 2))
    result = mivb.estimate(x, labels, bound="ba", steps=200, seed=0, progress=False)
    frequencies = np.unique(labels, return_counts=True)[1] / 900
    assert result.config.bound_params["entropy"] == pytest.approx(-np.sum(frequencies * np.log(frequencies)))
    assert 0.0 < result.mi < result.config.bound_params["entropy"]
    with pytest.raises(mivb.InvalidTypeError, match="bound='ba'"):
        mivb.estimate(x, rng.integers(0, 3, 900), bound="infonce", steps=2)
    with pytest.raises(mivb.InvalidTypeError, match="class labels"):
        mivb.estimate(x, rng.normal(size=900), bound="ba", steps=2)
    with pytest.raises(mivb.InvalidArgumentError, match="entropy"):
        mivb.bound("ba", np.eye(3))
    assert float(mivb.bound("ba", np.log(np.full((3, 3), 1 / 3)), entropy=np.log(3))) == pytest.approx(0.0)


def test_an_upper_bound_above_log_n_is_not_divergence():
    """CLUB with a good q reads far above the MI, and above the 2 log n + 10 that no lower bound on n
    pairs can reach: that is its value, not a blown-up critic; but as an upper bound it then says
    nothing n pairs can show, so the estimate is unreliable, with a note (issue #29)."""
    x, z, _ = mivb.correlated_gaussians(1500, 10, 0.9, seed=0)  # CLUB with the exact q: 42.6 nats
    assert mivb.diagnosis.sane(np.array([42.0]), 1500, "upper")[0]
    assert not mivb.diagnosis.sane(np.array([42.0]), 1500, "lower")[0]
    with pytest.warns(UserWarning, match=r"that 1500 pairs can show: as an upper bound it says nothing \[vacuous\]"):
        result = mivb.estimate(x, z, bound="club", steps=400, seed=0, progress=False)
    assert result.diverged_at is None and result.unreliable and result.mi > 2 * math.log(1500) + 10, result
