"""Samples named in a table: ``estimate(x_names, z_names, data=frame_or_mapping)``."""

import numpy as np
import pandas as pd
import pytest

import mivb

X, Z, TRUTH = mivb.correlated_gaussians(1500, 2, 0.6, seed=0)
FRAME = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": Z[:, 0], "d": Z[:, 1], "label": np.arange(1500) % 3,
                      "word": ["w"] * 1500})


def test_columns_by_name_give_the_estimate_of_the_arrays():
    pytest.importorskip("torch")
    options = {"backend": "torch", "steps": 200, "seed": 3, "progress": False}
    named = mivb.estimate(["a", "b"], ["c", "d"], data=FRAME, **options)
    arrays = mivb.estimate(X, Z, **options)
    assert named.mi == arrays.mi and np.array_equal(named.history, arrays.history)
    one = mivb.estimate("a", "c", data=FRAME, bound="gaussian")
    assert one.mi == mivb.estimate(X[:, 0], Z[:, 0], bound="gaussian").mi


def test_a_mapping_selects_whole_arrays_and_stacks_lists():
    mapping = {"x": X, "z": Z, "z0": Z[:, 0], "z1": Z[:, 1]}
    whole = mivb.estimate("x", "z", data=mapping, bound="gaussian")
    stacked = mivb.estimate("x", ["z0", "z1"], data=mapping, bound="gaussian")
    assert whole.mi == stacked.mi == mivb.estimate(X, Z, bound="gaussian").mi
    assert abs(whole.mi - TRUTH) < 0.05


def test_conditioning_and_the_independence_test_take_names_too():
    pytest.importorskip("torch")
    options = {"backend": "torch", "steps": 150, "seed": 1, "progress": False}
    conditional = mivb.estimate("a", "c", given="d", data=FRAME, **options)
    assert conditional.mi == mivb.estimate(X[:, 0], Z[:, 0], given=Z[:, 1], **options).mi
    test = mivb.independence_test(["a", "b"], ["c", "d"], data=FRAME, permutations=19, **options)
    assert test.p_value == mivb.independence_test(X, Z, permutations=19, **options).p_value


@pytest.mark.parametrize(("x", "z", "data", "message"), [
    ("a", "q", FRAME, "z: expected names in data ('a', 'b', 'c', 'd', 'label', 'word'), received z='q'"),
    ("a", ["c", 3], FRAME, "z: expected a name or a non-empty list of names in data, received z=['c', 3]"),
    ("a", [], FRAME, "z: expected a name or a non-empty list of names in data, received z=[]"),
    ("a", "word", FRAME, "z: expected a rectangular array of real floating-point numbers"),
    ("a", "label", FRAME, "z: expected real floating-point samples (cast integer or boolean data explicitly; for class labels z, use bound='ba')"),
    ("a", "b", [1, 2], "data: expected a pandas DataFrame or a mapping of names to arrays"),
    ("x", ["z", "z0"], {"x": X, "z": np.ones((1500, 2, 2)), "z0": Z[:, 0]}, "z: expected names of 1-D or 2-D arrays"),
])
def test_names_that_select_nothing_usable_are_errors(x, z, data, message):
    with pytest.raises(mivb.MivbError) as error:
        mivb.estimate(x, z, data=data, bound="gaussian")
    assert str(error.value).startswith(message), error.value
