"""mivb.arguments: estimate's keyword arguments as one typed record, built once per call."""

from __future__ import annotations

import inspect
from dataclasses import fields

import numpy as np
import pytest

import mivb
from mivb.arguments import EstimateArguments
from mivb.estimate import estimate


def test_the_record_has_every_argument_of_estimate_with_its_default():
    signature = inspect.signature(estimate).parameters
    expected = {name: p.default for name, p in signature.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "data"}
    record = EstimateArguments()
    assert {f.name for f in fields(record)} == {*expected, "bound_params"}
    assert {name: getattr(record, name) for name in expected} == expected
    assert record.bound_params == {}


def test_options_repeat_the_call_without_bound_its_parameters_and_seed():
    record = EstimateArguments(bound="smile", seed=3, steps=7, bound_params={"clip": 2.0})
    options = record.options()
    assert options["steps"] == 7 and not {"bound", "bound_params", "seed"} & set(options)
    assert EstimateArguments(bound="smile", seed=3, bound_params={"clip": 2.0}, **options) == record


def test_a_single_estimate_reads_one_name():
    assert EstimateArguments(bound="infonce").name == "infonce"
    with pytest.raises(mivb.InvalidArgumentError, match="received bound=\\['smile', 'club'\\]"):
        _ = EstimateArguments(bound=["smile", "club"]).name


def test_estimate_runs_with_the_record_it_builds():
    x = np.random.default_rng(0).normal(size=(300, 2))
    z = x + 0.5 * np.random.default_rng(1).normal(size=(300, 2))
    result = mivb.estimate(x, z, bound="ksg", k=4, seed=1)
    assert result.config.bound_params == {"k": 4} and result.config.seed == 1


@pytest.mark.parametrize("argument, value, message", [
    ("steps", 0, "expected a positive integer, received steps=0"),
    ("batch_size", 1, "expected at least 2 pairs per batch, received batch_size=1"),
    ("test_fraction", 1.5, "expected a fraction strictly between 0 and 1, received test_fraction=1.5"),
    ("folds", 1, "received folds=1"),
    ("level", 1.0, "received level=1.0"),
    ("early_stopping", "yes", "expected True or False, received early_stopping='yes'"),
])
def test_each_argument_is_checked_once_when_the_record_is_built(argument, value, message):
    with pytest.raises(mivb.InvalidArgumentError, match=message):
        EstimateArguments(bound="infonce", **{argument: value})
    x = np.random.default_rng(0).normal(size=(100, 2))
    for bound in ("infonce", "ksg", "copula"):  # every path: the same error, before any data is read
        with pytest.raises(mivb.InvalidArgumentError, match=message):
            mivb.estimate(x, x, bound=bound, **{argument: value})


def test_the_record_keeps_the_checked_values():
    record = EstimateArguments(steps=np.int64(7), batch_size=np.int32(16), folds=np.int64(3), test_fraction=1 / 4)
    assert (record.steps, record.batch_size, record.folds) == (7, 16, 3)
    assert all(type(value) is int for value in (record.steps, record.batch_size, record.folds))
    assert type(record.test_fraction) is float
