"""``mivb.screen``: dependent features found and independent ones not, KSG's fast shuffle test equal to
``mivb.classical.ksg``, Benjamini-Hochberg against a hand computation, the same table from every
form of table and every executor, and clear errors."""

import math
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import mivb
from mivb.classical import ksg
from mivb.errors import InvalidArgumentError, InvalidTypeError
from mivb.screen import benjamini_hochberg, ksg_null, permutation_p_value, ross_null

N = 500
PERMUTATIONS = 99  # the floor of the p-value: 0.01


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(5)
    columns = {f"noise{i}": rng.normal(size=N) for i in range(6)}
    columns["linear"] = rng.normal(size=N)
    columns["wave"] = rng.uniform(-3, 3, size=N)
    columns["y"] = 0.6 * columns["linear"] + np.sin(2 * columns["wave"]) + 0.5 * rng.normal(size=N)
    return pd.DataFrame(columns)


@pytest.fixture(scope="module")
def screened(table):
    return mivb.screen(table, "y", permutations=PERMUTATIONS, executor="serial", progress=False)


def test_the_dependent_features_are_selected_and_the_independent_ones_not(screened):
    assert list(screened.columns) == ["feature", "mi", "stderr", "kind", "family", "p_value", "q_value", "selected",
                                      "notes"]
    assert list(screened.feature[:2]) == ["wave", "linear"]  # sorted by MI: about 0.5 and 0.2 nats
    dependent = screened.set_index("feature").loc[["wave", "linear"]]
    assert (dependent.p_value == 1 / (1 + PERMUTATIONS)).all() and dependent.selected.all()
    assert (dependent.mi > 0.15).all()
    noise = screened[screened.feature.str.startswith("noise")]
    assert not noise.selected.any() and noise.p_value.min() > 0.05
    assert (noise.mi.abs() < 0.05).all()
    assert set(screened.family) == {"ksg"} and set(screened.kind) == {"classical"}


def test_the_mi_is_ksg_on_the_gaussianized_columns(table, screened):
    row = screened.set_index("feature").loc["wave"]
    assert row.mi == mivb.estimate(table.wave.to_numpy(), table.y.to_numpy(), bound="ksg").mi


@pytest.mark.parametrize("rounded", [False, True])
def test_the_fast_shuffle_statistic_is_ksg_exactly(rounded):
    """Rounded data put many neighbours at exactly the k-th distance: the boundary cases of the counts."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(800, 1))
    z = 0.7 * x + rng.normal(size=(800, 1))
    if rounded:
        x, z = np.round(x, 1) + 1e-6 * rng.normal(size=x.shape), np.round(z, 1) + 1e-6 * rng.normal(size=z.shape)
    statistic, null = ksg_null(x, z, 3, 20, np.random.default_rng(0))
    assert statistic == ksg(x, z)[0]
    shuffled = np.random.default_rng(0).permutation(800)
    assert null[0] == ksg(x, z[shuffled])[0]  # the first shuffle, recomputed by the classical estimator
    two = np.hstack([z, rng.normal(size=(800, 1))])  # a two-column marginal: counted with a tree
    assert ksg_null(x, two, 3, 0, np.random.default_rng(0))[0] == ksg(x, two)[0]


def test_the_shuffle_test_is_valid_under_independence():
    """Independent pairs: the p-values are uniform, so about 10% of them fall at or below 0.1."""
    rng = np.random.default_rng(6)
    p_values = []
    for _ in range(200):
        x, z = rng.normal(size=(60, 1)), rng.normal(size=(60, 1))
        statistic, null = ksg_null(x, z, 3, 19, rng)
        p_values.append((1 + np.sum(null >= statistic)) / 20)
    share = np.mean(np.array(p_values) <= 0.1)
    assert abs(share - 0.1) < 3 * math.sqrt(0.1 * 0.9 / 200)  # 0.1 +- 0.064


def test_the_sequential_shuffle_test_stops_early_for_independent_pairs_and_stays_valid():
    """Besag and Clifford: stopped after h shuffles reach the statistic, p = h / shuffles run."""
    rng = np.random.default_rng(13)
    p_values, runs = [], []
    for _ in range(300):
        x, z = rng.normal(size=(60, 1)), rng.normal(size=(60, 1))
        statistic, null = ksg_null(x, z, 3, 99, rng, stop_after=5)
        p_values.append(permutation_p_value(statistic, null, 99, 5))
        runs.append(len(null))
    p_values = np.array(p_values)
    for level in (0.05, 0.1, 0.3):
        assert np.mean(p_values <= level) < level + 3 * math.sqrt(level * (1 - level) / 300)
    assert np.mean(p_values <= 0.3) > 0.3 - 3 * math.sqrt(0.3 * 0.7 / 300)  # not too conservative either
    assert np.median(runs) < 15  # about 2 h shuffles: 10 of the 99
    x = rng.normal(size=(300, 1))
    statistic, null = ksg_null(x, x + rng.normal(size=(300, 1)), 3, 99, rng, stop_after=5)
    assert len(null) == 99 and permutation_p_value(statistic, null, 99, 5) == 0.01


def test_permutation_p_values_by_hand():
    null = np.array([0.1, 0.5, np.nan, 0.2])
    assert permutation_p_value(0.3, null, 4, None) == 3 / 5  # 0.5 and the NaN reach 0.3
    assert permutation_p_value(0.3, null, 9, 2) == 2 / 4  # stopped at 2 reaching: Besag and Clifford
    assert permutation_p_value(0.6, null, 4, 2) == 2 / 5  # all ran, 1 reached (the NaN)


def test_benjamini_hochberg_against_a_hand_computation():
    # Sorted: 0.01, 0.03, 0.04, 0.2; times m / rank: 0.04, 0.06, 0.0533, 0.2; the minimum from the top.
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2]))
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2], abs=1e-15)
    q = benjamini_hochberg(np.array([np.nan, 0.01, 0.04]))  # a failed feature does not count among the tests
    assert np.isnan(q[0]) and q[1:] == pytest.approx([0.02, 0.04], abs=1e-15)


def test_every_form_of_table_gives_the_same_screen(table, screened):
    arrays = {name: table[name].to_numpy() for name in table.columns}
    assert mivb.screen(arrays, "y", permutations=PERMUTATIONS, executor="serial", progress=False).equals(screened)
    numpy_table = mivb.screen(table.to_numpy(), "y", names=list(table.columns), permutations=PERMUTATIONS,
                              executor="serial", progress=False)
    assert numpy_table.equals(screened)


def test_every_executor_and_any_order_of_the_features_give_the_same_screen(table, screened):
    features = list(reversed([name for name in table.columns if name != "y"]))
    with ThreadPoolExecutor(2) as pool:
        threads = mivb.screen(table, "y", features=features, permutations=PERMUTATIONS, executor=pool,
                              progress=False)
    assert threads.equals(screened)
    assert mivb.screen(table, "y", permutations=PERMUTATIONS, workers=2, progress=False).equals(screened)


def test_a_group_of_columns_runs_the_default_with_a_trained_critics_p_value(table):
    groups = {"both": ["linear", "wave"], "noise": ["noise0", "noise1"]}
    result = mivb.screen(table, "y", features=["noise2"], groups=groups, permutations=19, folds=2,
                         executor="serial", progress=False, steps=60, batch_size=32, backend="torch")
    rows = result.set_index("feature")
    assert list(result.columns[5:7]) == ["lower", "upper"]
    assert rows.loc["both", "family"] in ("copula", "infonce") and rows.loc["both", "mi"] > 0.15
    assert rows.loc["both", "p_value"] == 0.05  # no shuffle of the test pairs reaches the held-out statistic
    assert rows.loc["both", "lower"] < rows.loc["both", "mi"] < rows.loc["both", "upper"]
    assert rows.loc["noise", "p_value"] > 0.05
    assert math.isnan(rows.loc["noise2", "lower"]) and "ksg runs once on all rows" in rows.loc["noise2", "notes"]


def test_a_feature_that_fails_is_a_row_with_its_error(table):
    broken = table.assign(broken=np.where(np.arange(N) == 3, np.nan, table.noise0))
    with pytest.warns(UserWarning, match="1 of 9 features failed"):
        result = mivb.screen(broken, "y", permutations=19, executor="serial", progress=False)
    row = result.iloc[-1]
    assert row.feature == "broken" and math.isnan(row.mi) and math.isnan(row.q_value) and not row.selected
    assert row.notes.startswith("failed: InvalidArgumentError: x: expected finite samples")
    assert result.q_value[:-1].notna().all()


def test_a_p_value_at_its_floor_that_bh_cannot_select_says_so():
    rng = np.random.default_rng(7)
    columns = {f"f{i}": rng.normal(size=200) for i in range(30)}
    columns["y"] = columns["f0"] + rng.normal(size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = mivb.screen(columns, "y", permutations=19, executor="serial", progress=False)
    top = result.iloc[0]
    assert top.feature == "f0" and top.p_value == 0.05 and not top.selected  # q = 0.05 * 30 = 1.5 -> 1
    assert "more permutations could select it" in top.notes


@pytest.mark.parametrize(("call", "error", "message"), [
    ({"target": "z"}, InvalidArgumentError, r"target: expected names in data \(.*'y'\), received target='z'"),
    ({"features": ["linear", "nope"]}, InvalidArgumentError, "features: expected names in data"),
    ({"features": ["y"]}, InvalidArgumentError, "features: expected columns apart from the target's"),
    ({"features": "linear"}, InvalidTypeError, "features: expected a list of column names"),
    ({"groups": {"linear": ["wave"]}, "features": ["linear"]}, InvalidArgumentError, "groups: expected names apart"),
    ({"permutations": 0}, InvalidArgumentError, "permutations: expected a positive integer"),
    ({"fdr": 1.0}, InvalidArgumentError, "fdr: expected a false-discovery rate strictly between 0 and 1"),
    ({"executor": "dask"}, InvalidTypeError, "executor: expected one of"),
    ({"names": ["a"]}, InvalidArgumentError, "names: expected None for a table that names its columns"),
    ({"bound": "ksg"}, InvalidArgumentError, "bound: expected no such option of screen"),
])
def test_bad_input_is_refused_with_a_clear_message(table, call, error, message):
    with pytest.raises(error, match=message):
        mivb.screen(table, **{"target": "y", **call})


def test_a_target_with_nan_and_tables_of_other_kinds_are_refused(table):
    with pytest.raises(InvalidArgumentError, match="target: expected finite samples"):
        mivb.screen(table.assign(y=np.where(np.arange(N) == 0, np.nan, table.y)), "y")
    with pytest.raises(InvalidArgumentError, match="names: expected one name per column of a 2-D NumPy table"):
        mivb.screen(table.to_numpy(), "y")
    with pytest.raises(InvalidTypeError, match="table: expected a pandas DataFrame, a mapping"):
        mivb.screen([[1.0, 2.0]], "y")


def test_the_command_reads_a_table_file_and_writes_the_python_apis_table(table, tmp_path, capsys):
    from mivb.cli import main

    source, out = tmp_path / "table.csv", tmp_path / "screen.csv"
    table.to_csv(source, index=False, float_format="%.17g")  # every float exactly
    status = main(["screen", str(source), "--target", "y", "--permutations", str(PERMUTATIONS), "--workers", "1",
                   "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0 and "2 of 8 columns selected at fdr 0.1" in printed
    expected = mivb.screen(table, "y", permutations=PERMUTATIONS, executor="serial", progress=False)
    written = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(written.feature) == list(expected.feature)
    assert written.mi.to_numpy() == pytest.approx(expected.mi.to_numpy(), rel=1e-15)
    assert list(written.p_value) == list(expected.p_value) and list(written.selected) == list(expected.selected)
    assert printed.splitlines()[2].split()[:2] == ["wave", f"{expected.mi[0]:.4f}"]


def test_the_commands_groups_stop_after_folds_and_training_options_are_the_python_apis(table, tmp_path, capsys):
    from mivb.cli import main

    source, out = tmp_path / "table.csv", tmp_path / "screen.csv"
    table.to_csv(source, index=False, float_format="%.17g")
    status = main(["screen", str(source), "--target", "y", "--features", "noise0", "--group", "both=linear,wave",
                   "--permutations", "19", "--stop-after", "0", "--folds", "2", "--steps", "60", "--backend", "torch",
                   "--workers", "1", "--out", str(out)])
    assert status == 0 and "[no-interval]" in capsys.readouterr().out  # noise0's KSG row, under --folds
    expected = mivb.screen(table, "y", features=["noise0"], groups={"both": ["linear", "wave"]}, permutations=19,
                           stop_after=None, folds=2, steps=60, backend="torch", executor="serial", progress=False)
    written = pd.read_csv(out)
    assert list(written.feature) == list(expected.feature) == ["both", "noise0"]
    for column in ("mi", "lower", "upper", "p_value"):
        np.testing.assert_allclose(written[column], expected[column], rtol=1e-12, equal_nan=True)
    assert written.family[0] == expected.family[0] and math.isfinite(written.lower[0])


def test_the_command_refuses_an_unknown_target_and_a_table_without_header(table, tmp_path, capsys):
    from mivb.cli import main

    source = tmp_path / "table.csv"
    table.to_csv(source, index=False)
    assert main(["screen", str(source), "--target", "q"]) == 3  # a data error
    assert "mivb: target: expected names in data" in capsys.readouterr().err
    table.to_csv(source, index=False, header=False)
    assert main(["screen", str(source), "--target", "y"]) == 3
    assert "table: expected a CSV whose first line names its columns" in capsys.readouterr().err


def ross_by_hand(x, labels, k):
    """Ross (2014) written out: every distance of every pair, no trees (a NumPy reference)."""
    from scipy.special import digamma

    n, distance = len(x), np.abs(x[:, None] - x[None, :])
    terms = []
    for i in range(n):
        same = np.flatnonzero((labels == labels[i]) & (np.arange(n) != i))
        k_i = min(k, len(same))
        radius = np.sort(distance[i, same])[k_i - 1]
        m_i = np.sum(distance[i] < radius)  # itself included
        terms.append(digamma(k_i) - digamma(len(same) + 1) - digamma(m_i))
    return digamma(n) + np.mean(terms)


def test_ross_estimator_of_class_labels_against_a_numpy_reference():
    rng = np.random.default_rng(10)
    labels = np.repeat([0, 1, 2], [150, 100, 3])  # a class of 3: k falls to 2 there
    x = rng.normal(size=len(labels)) + 1.5 * (labels == 1)
    statistic, null, _ = ross_null(x[:, None], labels, 3, 5, np.random.default_rng(0))
    assert statistic == pytest.approx(ross_by_hand(x, labels, 3), abs=1e-12)
    shuffled = labels[np.random.default_rng(0).permutation(len(labels))]
    assert null[0] == pytest.approx(ross_by_hand(x, shuffled, 3), abs=1e-12)
    with pytest.raises(InvalidArgumentError, match="target: expected class labels with at least 2 rows in every class"):
        ross_null(x[:, None], np.append(labels[:-1], 3), 3, 5, np.random.default_rng(0))


def test_a_target_of_class_labels_screens_with_ross_and_ba():
    rng = np.random.default_rng(11)
    classes = rng.choice(["cat", "dog"], size=400)
    columns = {"shifted": rng.normal(size=400) + 1.5 * (classes == "dog"), "noise": rng.normal(size=400),
               "other": rng.normal(size=400), "y": classes}
    result = mivb.screen(pd.DataFrame(columns), "y", features=["shifted", "noise"],
                         groups={"pair": ["noise", "other"]}, permutations=39, executor="serial", progress=False,
                         steps=30, batch_size=32)
    rows = result.set_index("feature")
    assert list(rows.family[["shifted", "noise", "pair"]]) == ["ross", "ross", "ba"]
    assert rows.loc["shifted", "mi"] > 0.1 and rows.loc["shifted", "selected"]  # about 0.26 nats
    assert not rows.loc["noise", "selected"] and not rows.loc["pair", "selected"]
    assert rows.loc["pair", "kind"] == "lower"
    with pytest.raises(InvalidArgumentError, match="target: expected labels of at least 2 classes"):
        mivb.screen(columns | {"y": np.zeros(400, int)}, "y")


def test_class_labels_stored_as_floats_say_so_and_the_command_reads_them_with_classes(tmp_path, capsys):
    from mivb.cli import main

    rng = np.random.default_rng(12)
    classes = rng.integers(0, 2, size=300)
    frame = pd.DataFrame({"shifted": rng.normal(size=300) + 1.5 * classes, "y": classes.astype(float)})
    floats = mivb.screen(frame, "y", permutations=39, executor="serial", progress=False)
    assert floats.family[0] == "ksg" and "the target takes 2 distinct values in 300 rows" in floats.notes[0]
    frame.to_csv(tmp_path / "table.csv", index=False)
    assert main(["screen", str(tmp_path / "table.csv"), "--target", "y", "--classes", "--permutations", "39",
                 "--workers", "1", "--out", str(tmp_path / "out.csv")]) == 0
    written = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    expected = mivb.screen(frame.assign(y=classes), "y", permutations=39, executor="serial", progress=False)
    assert written.family[0] == "ross" and written.mi[0] == pytest.approx(expected.mi[0], rel=1e-15)
    capsys.readouterr()
    frame.assign(y=frame.y + 0.5).to_csv(tmp_path / "table.csv", index=False)
    assert main(["screen", str(tmp_path / "table.csv"), "--target", "y", "--classes"]) == 3
    assert "target: expected one column of whole numbers with --classes" in capsys.readouterr().err
