"""mivb.mi_matrix and `mivb matrix`: every pair of a table's variables, as one task of
estimate_many each, against the truth and against the pairs estimated one by one."""

import concurrent.futures
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import mivb
from mivb.cli import main
from mivb.errors import MivbError
from mivb.many import task_seed

N = 3000
RHO = 0.8


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(5)
    a = rng.normal(size=N)
    return {"a": a, "b": RHO * a + math.sqrt(1 - RHO**2) * rng.normal(size=N), "c": rng.normal(size=N),
            "d": rng.normal(size=N)}


@pytest.fixture(scope="module")
def matrix(table):
    return mivb.mi_matrix(table, executor="serial", progress=False)


def test_the_matrix_is_symmetric_with_a_nan_diagonal_and_reads_the_truth(matrix):
    assert list(matrix.index) == list(matrix.columns) == ["a", "b", "c", "d"]
    values = matrix.to_numpy()
    assert np.all(np.isnan(np.diag(values)))
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_array_equal(values[off], values.T[off])
    assert matrix.loc["a", "b"] == pytest.approx(-0.5 * math.log(1 - RHO**2), abs=0.06)  # 0.511
    for x, z in [("a", "c"), ("a", "d"), ("b", "c"), ("c", "d")]:
        assert abs(matrix.loc[x, z]) < 0.05


def test_each_entry_is_the_pairs_own_ksg_estimate_with_its_task_seed(table, matrix):
    alone = mivb.estimate(table["b"], table["d"], bound="ksg", seed=task_seed(0, ("b", "d")))
    assert matrix.loc["b", "d"] == alone.mi


def test_the_matrix_is_the_same_on_another_executor(table, matrix):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        again = mivb.mi_matrix(table, executor=pool, progress=False)
    pd.testing.assert_frame_equal(again, matrix)


def test_groups_are_variables_and_a_named_bound_runs_every_pair(table):
    found = mivb.mi_matrix(table, ["c"], groups={"ab": ["a", "b"]}, bound="gaussian", executor="serial",
                           progress=False)
    assert list(found.index) == ["c", "ab"]
    assert abs(found.loc["c", "ab"]) < 0.05
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 2))
    z = x @ [[0.6], [0.6]] + 0.5 * rng.normal(size=(N, 1))
    truth = 0.5 * math.log(1 + 0.72 / 0.25)  # z = w.x + noise: log(1 + |w|^2 / noise variance) / 2
    grouped = mivb.mi_matrix({"x0": x[:, 0], "x1": x[:, 1], "z": z[:, 0]}, ["z"], groups={"x": ["x0", "x1"]},
                             bound="gaussian", executor="serial", progress=False)
    assert grouped.loc["z", "x"] == pytest.approx(truth, abs=0.05)


def test_columns_and_groups_run_in_one_pool_each_pair_with_its_own_family(table, capsys):
    found = mivb.mi_matrix(table, ["c", "d"], groups={"ab": ["a", "b"]}, executor="serial", progress=True, steps=200)
    bars = capsys.readouterr().err
    assert "mivb pairs" in bars and "3/3" in bars and "1/1" not in bars  # one bar over the 3 pairs, not two
    ksg = mivb.estimate(table["c"], table["d"], bound="ksg", seed=task_seed(0, ("c", "d")))
    assert found.loc["c", "d"] == ksg.mi
    ab = np.column_stack([table["a"], table["b"]])
    default = mivb.estimate(table["c"], ab, steps=200, seed=task_seed(0, ("c", "ab")), progress=False)
    assert found.loc["c", "ab"] == pytest.approx(default.mi, abs=1e-9)
    assert abs(default.mi) < 0.05


def test_a_failed_pair_is_nan_and_named_in_a_warning(table):
    broken = {**table, "nan": np.where(np.arange(N) == 7, np.nan, table["c"])}
    with pytest.warns(RuntimeWarning, match=r"1 pairs failed.*\('a', 'nan'\)|\('nan', 'a'\)"):
        found = mivb.mi_matrix(broken, ["a", "nan"], executor="serial", progress=False)
    assert np.isnan(found.loc["a", "nan"])


def test_bad_tables_and_columns_are_refused_clearly(table):
    with pytest.raises(MivbError, match="columns: expected at least two variables"):
        mivb.mi_matrix(table, ["a"], progress=False)
    with pytest.raises(MivbError, match="columns: expected a list of column names"):
        mivb.mi_matrix(table, "a", progress=False)
    with pytest.raises(MivbError, match="received x='e'|received z='e'"):
        mivb.mi_matrix(table, ["a", "e"], executor="serial", progress=False)
    with pytest.raises(MivbError, match="names: expected one name per column"):
        mivb.mi_matrix(np.zeros((10, 3)), progress=False)
    with pytest.raises(MivbError, match="groups: expected names apart from the columns'"):
        mivb.mi_matrix(table, ["a", "b"], groups={"a": ["c", "d"]}, progress=False)


def test_the_command_prints_and_writes_the_matrix(tmp_path, table, matrix, capsys):
    source = tmp_path / "table.csv"
    names = ["a", "b", "c", "d"]
    np.savetxt(source, np.column_stack([table[name] for name in names]), delimiter=",", header=",".join(names),
               comments="")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main(["matrix", str(source), "--columns", "a", "b", "c", "--workers", "1",
                       "--out", str(tmp_path / "mi.csv")])
    out, _ = capsys.readouterr()
    assert status == 0, out
    assert out.splitlines()[0].startswith("MI (nats) between the 3 columns")
    written = pd.read_csv(tmp_path / "mi.csv", index_col=0)
    assert list(written.columns) == ["a", "b", "c"]
    # the CSV's float64 columns round-trip the table to the last digit or so: the same estimates
    assert written.loc["a", "b"] == pytest.approx(matrix.loc["a", "b"], abs=1e-6)
    assert f"{written.loc['a', 'b']:.4f}" in out
    assert main(["matrix", str(source), "--columns", "a", "q"]) == 3  # a data error, as screen's
    capsys.readouterr()
    status = main(["matrix", str(source), "--columns", "c", "--group", "ab=a,b", "--bound", "gaussian", "--workers", "1",
                   "--out", str(tmp_path / "groups.csv")])
    grouped = pd.read_csv(tmp_path / "groups.csv", index_col=0)
    expected = mivb.mi_matrix(table, ["c"], groups={"ab": ["a", "b"]}, bound="gaussian", executor="serial",
                              progress=False)
    assert status == 0 and list(grouped.columns) == ["c", "ab"]
    assert grouped.loc["c", "ab"] == pytest.approx(expected.loc["c", "ab"], abs=1e-6)
