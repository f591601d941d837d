"""A user's script, type-checked with ``mypy --strict`` against the installed mivb (``nox -s typing``).

It is never run, only checked: it proves that an installed mivb (a wheel, or an editable install in
strict mode, as README's set-up line makes it) is visible to type checkers (PEP 561 ``py.typed``)
and that the public API carries the types users rely on. A wrong annotation in mivb, or a package
mypy cannot find, fails the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_type

import numpy as np

import mivb
from mivb.bounds import LOGSUMEXP, SUM, Statistics
from mivb.scores import Scores


def estimate_gaussians() -> float:
    x, z, true_mi = mivb.correlated_gaussians(2_000, dim=4, rho=0.5, seed=0)
    assert_type(x, np.ndarray)
    assert_type(true_mi, float)
    result = mivb.estimate(x, z, bound="smile", backend="torch", steps=200, batch_size=64, seed=0, clip=5.0)
    assert_type(result, mivb.Estimate)
    assert_type(result.mi, float)
    assert_type(result.stderr, float)
    assert_type(result.bits, float)
    assert_type(result.unreliable, bool)
    assert_type(result.notes, tuple[str, ...])
    assert_type(result.ceiling, float | None)
    assert_type(result.diverged_at, int | None)
    assert_type(result.config, mivb.EstimateConfig)
    assert_type(result.config.spec, mivb.EstimatorSpec)
    history: np.ndarray = result.history
    return result.mi - true_mi + float(history.size * 0)


def trust_the_number() -> float:
    x, z, _ = mivb.correlated_gaussians(2_000, dim=2, rho=0.5, seed=0)
    result = mivb.estimate(x, z, folds=5, level=0.9, seed=0)
    assert_type(result.interval, tuple[float, float] | None)
    assert_type(result.per_fold, tuple[mivb.Estimate, ...])
    ratios: np.ndarray = result.pointwise(x[:100], z[:100])
    again: mivb.Estimate = mivb.estimate(x, z, **result.config.to_kwargs())  # **kwargs: either overload
    conditional = mivb.estimate(x, z, given=x[:, :1], seed=0)
    assert_type(conditional.terms, tuple[mivb.Estimate, ...])
    test = mivb.independence_test(x, z, permutations=99, level=0.05, seed=0)
    assert_type(test, mivb.IndependenceTest)
    assert_type(test.p_value, float)
    assert_type(test.dependent, bool)
    return again.mi + float(ratios.mean()) + test.statistic


def tempered_statistics(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    t = float(params["temperature"])
    return {"pos": (scores.sum_positives(lambda p: p / t), SUM),
            "neg": (scores.logsumexp_negatives(lambda g: g / t), LOGSUMEXP)}


def tempered_value(totals: mivb.Totals, params: Mapping[str, Any], state: Mapping[str, Any]) -> tuple[Any, Any]:
    value = totals.mean("pos") - totals.log_mean_exp("neg")
    return value, value


def register_tempered_dv() -> mivb.Bound:
    definition = mivb.Bound("tempered_dv", tempered_statistics, tempered_value, summary="DV on T / temperature",
                            params={"temperature": 2.0})
    registered = mivb.register_bound(definition, replace=True)
    assert_type(registered, mivb.Bound)
    assert_type(mivb.BOUNDS, dict[str, mivb.Bound])
    return registered


def bound_on_scores() -> float:
    scores = np.random.default_rng(0).normal(size=(8, 8))
    return float(mivb.bound("infonce", scores)) + float(mivb.bound("smile", scores, clip=5.0))


def backends() -> list[str]:
    names = mivb.available_backends()
    assert_type(names, list[str])
    return names


def version() -> str:
    return mivb.__version__


def errors() -> None:
    try:
        mivb.estimate([[1.0]], [[2.0]])
    except mivb.InvalidArgumentError as error:
        assert isinstance(error, ValueError) and isinstance(error, mivb.MivbError)
