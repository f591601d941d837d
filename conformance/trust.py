"""Checks of the answers users trust, per backend: the cross-fitted interval, the independence test,
conditional MI, the trained critic (pointwise MI) and the configuration that reproduces a result.

Truths are analytic: correlated Gaussians' MI and log density ratio, Gaussian triples' conditional
MI. Tolerances sit about 1.5x above the worst deviation seen on torch, JAX and TensorFlow.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import mivb

QUIET = {"progress": False, "steps": 1500}


def _gaussians(n: int, mi: float, seed: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Correlated Gaussians of dimension 2 with ``mi`` nats, and their correlation."""
    rho = mivb.data.rho_for_mi(2, mi)
    x, z, truth = mivb.correlated_gaussians(n, 2, rho, seed=seed)
    return x, z, truth, rho


def log_ratio(x: np.ndarray, z: np.ndarray, rho: float) -> np.ndarray:
    """log p(x, z) / (p(x) p(z)) of unit Gaussians with corr(x_k, z_k) = rho, summed over coordinates."""
    x, z = x.astype(np.float64), z.astype(np.float64)
    quadratic = (rho**2 * (x**2 + z**2) - 2 * rho * x * z) / (2 * (1 - rho**2))
    return np.sum(-0.5 * math.log(1 - rho**2) - quadratic, axis=1)


def check_interval(backend: str) -> None:
    """Cross-fitting: one estimate from every fold's test pairs, an interval around it from their spread."""
    x, z, truth, _ = _gaussians(3000, 0.5, seed=11)
    result = mivb.estimate(x, z, backend=backend, bound="infonce", folds=3, seed=0, **QUIET)
    low, high = result.interval
    folds = np.array([fold.mi for fold in result.per_fold])
    assert len(folds) == 3 and result.config.folds == 3 and result.config.level == 0.95
    assert result.mi == np.mean(folds)
    assert math.isclose(result.mi, np.mean(np.concatenate([fold.test_values for fold in result.per_fold])),
                        rel_tol=1e-9)  # equal folds of network critics: the same as pooling every test batch
    from scipy.stats import t

    half = t.ppf(0.975, 2) * np.std(folds, ddof=1) * math.sqrt(1 / 3 + 1 / 2)
    assert math.isclose(high - low, 2 * half, rel_tol=1e-12) and math.isclose(low + high, 2 * result.mi, rel_tol=1e-12)
    assert abs(result.mi - truth) < 0.1 and high - low < 0.4, (result, truth)
    assert "interval=(" in repr(result)


def check_independence_test(backend: str) -> None:
    """Independent data: no rejection; 0.3 nats on 1000 pairs: every shuffle falls below the statistic."""
    rng = np.random.default_rng(4)
    x, z = rng.normal(size=(600, 2)).astype(np.float32), rng.normal(size=(600, 2)).astype(np.float32)
    null = mivb.independence_test(x, z, backend=backend, permutations=99, seed=0, **QUIET)
    assert not null.dependent and null.p_value > 0.1, null
    assert null.p_value == (1 + np.sum(null.null >= null.statistic)) / 100 and null.statistic == null.estimate.mi
    x, z, _, _ = _gaussians(1000, 0.3, seed=2)
    found = mivb.independence_test(x, z, backend=backend, permutations=99, seed=0, **QUIET)
    assert found.dependent and found.p_value == 0.01 and found.null.max() < found.statistic, found
    for options, argument in (({"permutations": 10}, "permutations"), ({"level": 1.5}, "level"),
                              ({"folds": 3}, "folds"), ({"bound": "kgs"}, "bound")):
        try:
            mivb.independence_test(x, z, backend=backend, **options)
        except mivb.MivbError as error:
            assert str(error).startswith(argument) and "received" in str(error), error
        else:
            raise AssertionError(f"{options}: no error raised")


def _triple(n: int, correlated: bool, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(x, z, y) in 2 dimensions each and I(X; Z | Y): a common cause, x = y + noise and z = y + noise
    (0 nats, where I(X; Z) is 1.0); or x = y + e1, z = -y / 2 + e2 with corr(e1, e2) = 0.6 per
    coordinate, -log(1 - 0.36) nats."""
    rng = np.random.default_rng(seed)
    y, e1, e2 = rng.normal(size=(3, n, 2))
    if correlated:
        return y + e1, -0.5 * y + 0.6 * e1 + 0.8 * e2, y, -math.log(1 - 0.36)
    return y + 0.5 * e1, y + 0.5 * e2, y, 0.0


def check_conditional(backend: str) -> None:
    """I(X; Z | Y) by the chain rule, against the closed form of Gaussian triples."""
    for correlated in (False, True):
        x, z, y, truth = _triple(4000, correlated, seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a common cause's difference may read a little below 0, and say so
            result = mivb.estimate(x, z, given=y, backend=backend, seed=0, **QUIET)
        joint, marginal = result.terms
        assert result.kind == "difference" and result.mi == joint.mi - marginal.mi
        assert abs(result.mi - truth) < 0.15, (correlated, result, truth)
        assert np.array_equal(result.test_values, joint.test_values - marginal.test_values)
        if result.mi < 0:
            assert any("never is" in note for note in result.notes)


def check_conditional_rejects_bad_input(backend: str) -> None:
    x, z, y, _ = _triple(300, False, seed=0)
    for given, options, argument in ((y[:299], {}, "given"), (np.ones((300, 1, 4, 4)), {}, "given"),
                                     (y, {"folds": 1}, "folds")):
        try:
            mivb.estimate(x, z, given=given, backend=backend, **options)
        except mivb.MivbError as error:
            assert str(error).startswith(argument) and "expected" in str(error) and "received" in str(error), error
        else:
            raise AssertionError(f"{argument}: no error raised")


def check_pointwise(backend: str) -> None:
    """The trained critic's log density ratio per pair follows the analytic one: read off the critic
    (nwj, js) or normalised over the other pairs (infonce, club); on raw pairs, transformed as in training."""
    check_pointwise_of(backend, "nwj")
    check_pointwise_of(backend, "js")
    check_pointwise_of(backend, "infonce")
    check_pointwise_of(backend, "club")


def check_pointwise_of(backend: str, bound: str, **params: object) -> None:
    """``bound``'s trained critic, through its own ``log_ratio`` rule (with ``params``), reads each
    pair's analytic log density ratio; a registered bound is checked as a built-in is."""
    x, z, truth, rho = _gaussians(4000, 1.0, seed=7)
    new_x, new_z, _, _ = _gaussians(2000, 1.0, seed=8)
    exact = log_ratio(new_x, new_z, rho)
    result = mivb.estimate(x, z, backend=backend, bound=bound, seed=0, **QUIET, **params)
    ratios = result.pointwise(new_x, new_z)
    assert ratios.shape == (2000,) and ratios.dtype == np.float64
    assert np.corrcoef(ratios, exact)[0, 1] > 0.9, bound
    assert abs(ratios.mean() - truth) < 0.2, (bound, ratios.mean(), truth)


def check_pointwise_refusals(backend: str) -> None:
    x, labels = np.random.default_rng(0).normal(size=(400, 2)), np.arange(400) % 3
    for run, argument in ((lambda: mivb.estimate(x, labels, backend=backend, bound="ba", **QUIET), "bound"),
                          (lambda: mivb.estimate(x, x[:, ::-1], bound="ksg"), "bound")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run()
        try:
            result.pointwise(x, labels if result.bound in mivb.BOUNDS else x)  # ba reads labels
        except mivb.MivbError as error:
            assert str(error).startswith(argument) and "received" in str(error), error
        else:
            raise AssertionError(f"pointwise of {result.bound}: no error raised")


def check_config_round_trip(backend: str) -> None:
    """``estimate(x, z, **result.config.to_kwargs())`` gives the same result, folds and interval included."""
    x, z, _, _ = _gaussians(1500, 0.5, seed=3)
    for options in ({"bound": "smile", "clip": 3.0, "negative_samples": 8}, {"folds": 2, "level": 0.9}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # two folds of 200 steps: an interval too wide to say much, noted
            first = mivb.estimate(x, z, backend=backend, steps=200, progress=False, **options)
            again = mivb.estimate(x, z, **first.config.to_kwargs(), progress=False)
        assert again.mi == first.mi and again.interval == first.interval and again.config == first.config


def check_linear_fallback(backend: str) -> None:
    """A critic that misses plain correlation is not reported: 4000 pairs of 40-d Gaussians with 1 nat
    spread over every coordinate. The defaults report the linear critic's InfoNCE (a lower bound, here
    about 0.75), chosen on the validation split and read on larger test batches; ``linear_fallback=False``
    reports the same network's test value, which the first estimate's note quotes, and notes the
    linear critic's on the network's batches."""
    x, z, truth = mivb.correlated_gaussians(4000, 40, mivb.data.rho_for_mi(40, 1.0), seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(x, z, backend=backend, bound="infonce", seed=0, progress=False)
        network = mivb.estimate(x, z, backend=backend, bound="infonce", seed=0, progress=False, linear_fallback=False)
    [reported] = [note for note in result.notes if note.startswith("reported: a linear critic")]
    assert result.linear_critic is not None and network.linear_critic is None
    assert f"(test: {network.mi:.3f})" in reported, (reported, network)
    assert network.mi < result.mi - 0.1 and 0.6 < result.mi < truth, (result, network)
    # the note reads the linear critic on the network's test batches; the report, on larger ones
    [noted] = [note for note in network.notes if note.startswith("a linear critic")]
    linear = float(noted.split(" reads ")[1].split(" nats")[0])
    assert network.mi + 0.1 < linear <= result.mi + 0.05, (noted, result)


def check_certifiable_limit(backend: str) -> None:
    """A DV-type value above log(test pairs) is unreliable: smile on 600 pairs of 4-d Gaussians with 12 nats."""
    x, z, truth = mivb.correlated_gaussians(600, 4, 0.9995, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(x, z, backend=backend, bound="smile", seed=0, steps=600, progress=False)
    assert result.mi > math.log(120) and truth > 12 and result.unreliable, result
    assert any(note.startswith(f"smile reads {result.mi:.3f} nats from 120 held-out pairs, above log 120")
               for note in result.notes), result.notes


def check_clip_note(backend: str) -> None:
    """smile's clip makes the value where many held-out ratios exceed it: 3,000 pairs of 4-d Gaussians
    with 6 nats, where smile overshoots; none on 1 nat, where few pairs come near the clip."""
    for mi, noted in ((6.0, True), (1.0, False)):
        x, z, truth = mivb.correlated_gaussians(3000, 4, mivb.data.rho_for_mi(4, mi), seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = mivb.estimate(x, z, backend=backend, bound="smile", seed=0, progress=False)
        notes = [note for note in result.notes if "exceed smile's clip 5" in note]
        assert bool(notes) == noted, (truth, result)
        if noted:
            assert result.mi > truth and result.unreliable, result


def _copula_reference(x: np.ndarray, z: np.ndarray, seed: int) -> float:
    """The copula's MI on the training split ``estimate``'s default draws from ``seed``, in NumPy alone."""
    from mivb.copula import copula_mi
    from mivb.crosscheck import GaussianCritic
    from mivb.protocol import random_streams, split_pairs
    from mivb.samples import prepare

    split_rng = random_streams(seed)[0]
    [train, *_], _, _ = split_pairs(split_rng, x, z, mivb.EstimateConfig())
    pairs = prepare("gaussianize", x[train], argument="x")[0], prepare("gaussianize", z[train], argument="z")[0]
    return copula_mi(GaussianCritic.fit(*pairs), *pairs)[0]


def check_default_copula(backend: str) -> None:
    """The default on Gaussians (6,000 pairs, d = 10, 6 nats) reports the copula, exact up to sampling noise
    and identical on every backend: the NumPy value of its own training split; the network's InfoNCE,
    trained by this backend on that split, is ``lower`` (well below: 600 steps, batches of 128)."""
    x, z, truth = mivb.correlated_gaussians(6000, 10, mivb.data.rho_for_mi(10, 6.0), seed=8)
    result = mivb.estimate(x, z, backend=backend, seed=0, steps=600, progress=False)
    assert result.bound == "copula" and result.kind == "estimate" and result.backend == backend, result
    assert math.isclose(result.mi, _copula_reference(x, z, 0), rel_tol=1e-9), result
    assert abs(result.mi - truth) < 0.15 and result.lower.bound == "infonce" and result.lower.mi < truth, result


def check_default_copula_invariance(backend: str) -> None:
    """The default is unchanged by invertible maps of each feature (exp of x, the cube of z) where it
    reports the copula (7 nats, far above what the network reads in 300 steps): ranks are all the
    copula reads."""
    x, z, _ = mivb.correlated_gaussians(4000, 3, 0.995, seed=9)
    plain, mapped = (mivb.estimate(a, b, backend=backend, seed=0, steps=300, progress=False)
                     for a, b in ((x, z), (np.exp(x.astype(np.float64)), z.astype(np.float64) ** 3)))
    assert plain.bound == mapped.bound == "copula" and math.isclose(plain.mi, mapped.mi, rel_tol=1e-6), (plain, mapped)


TRUST_CHECKS = {
    "default-copula-gaussian": check_default_copula,
    "default-copula-invariance": check_default_copula_invariance,
    "interval-cross-fitted": check_interval,
    "independence-test": check_independence_test,
    "conditional-chain-rule": check_conditional,
    "conditional-rejects-bad-input": check_conditional_rejects_bad_input,
    "pointwise-log-ratio": check_pointwise,
    "pointwise-refused-without-ratio": check_pointwise_refusals,
    "config-round-trip": check_config_round_trip,
    "linear-fallback": check_linear_fallback,
    "certifiable-limit-note": check_certifiable_limit,
    "smile-clip-note": check_clip_note,
}
