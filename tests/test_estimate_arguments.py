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
