"""``mivb.estimate_many``: the same estimates on every executor and in any order, failures in their
rows, a cache that a rerun reads, and clear errors."""

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import mivb
from mivb.errors import InvalidArgumentError, InvalidTypeError, UnknownNameError
from mivb.many import TaskFailure, task_seed

QUICK = {"bound": "infonce", "steps": 30, "batch_size": 32}  # a trained critic: seeds matter


@pytest.fixture(scope="module")
def pairs():
    return {rho: mivb.correlated_gaussians(400, 1, rho, seed=2)[:2] for rho in (0.0, 0.6, 0.9)}


def values(results):
    return {key: result.mi for key, result in results.items()}


@pytest.fixture(scope="module")
def serial(pairs):
    return values(mivb.estimate_many(pairs, executor="serial", progress=False, **QUICK))


def test_each_task_is_estimate_with_a_seed_from_the_calls_seed_and_its_key(pairs, serial):
    for rho, (x, z) in pairs.items():
        assert serial[rho] == mivb.estimate(x, z, seed=task_seed(0, rho), progress=False, **QUICK).mi
    assert serial[0.9] > serial[0.0] + 0.2  # the estimates themselves: 0.83 nats against 0 (truth)


def test_the_seeds_differ_between_keys_and_calls():
    assert len({task_seed(0, 0), task_seed(0, "0"), task_seed(1, 0), task_seed(0, 1)}) == 4
    assert task_seed(7, "a") == task_seed(7, "a") < 2**31


def test_local_processes_and_a_thread_pool_give_the_serial_results_in_any_order(pairs, serial):
    assert values(mivb.estimate_many(pairs, workers=2, progress=False, **QUICK)) == serial
    backwards = dict(reversed(pairs.items()))
    with ThreadPoolExecutor(2) as pool:
        assert values(mivb.estimate_many(backwards, executor=pool, progress=False, **QUICK)) == serial


def test_a_list_of_tasks_gives_a_list_seeded_by_position(pairs):
    tasks = list(pairs.values())
    results = mivb.estimate_many(tasks, bound="gaussian", executor="serial", progress=False)
    assert isinstance(results, list)
    assert [r.mi for r in results] == [mivb.estimate(x, z, bound="gaussian").mi for x, z in tasks]
    assert [r.config.seed for r in results] == [task_seed(0, i) for i in range(3)]


def test_a_failed_task_is_reported_in_its_row_and_the_others_run(pairs):
    tasks = {**pairs, "constant": (np.ones(400), pairs[0.6][1])}
    results = mivb.estimate_many(tasks, bound="gaussian", executor="serial", progress=False)
    failure = results["constant"]
    assert isinstance(failure, TaskFailure) and failure.key == "constant"
    assert failure.error.startswith("InvalidArgumentError: x: expected no constant feature")
    assert "Traceback" in failure.traceback
    assert abs(results[0.9].mi - 0.830) < 0.1  # -1/2 log(1 - 0.81)


def test_a_rerun_with_a_cache_runs_only_the_tasks_not_done(pairs, tmp_path, monkeypatch):
    estimate_module = sys.modules["mivb.estimate"]
    real, calls = estimate_module.estimate, []

    def counted(x, z, **options):
        calls.append(options["seed"])
        return real(x, z, **options)

    monkeypatch.setattr(estimate_module, "estimate", counted)
    tasks = {**pairs, "constant": (np.ones(400), pairs[0.6][1])}
    first = mivb.estimate_many(tasks, executor="serial", cache_dir=tmp_path, progress=False, **QUICK)
    assert len(calls) == 4 and len(list(tmp_path.glob("*.pkl"))) == 3  # the failure is not cached
    second = mivb.estimate_many(tasks, executor="serial", cache_dir=tmp_path, progress=False, **QUICK)
    assert len(calls) == 5 and calls[-1] == task_seed(0, "constant")  # only the failed task ran again
    assert {k: r.mi for k, r in second.items() if k != "constant"} == {k: r.mi for k, r in first.items()
                                                                       if k != "constant"}
    mivb.estimate_many(tasks, executor="serial", cache_dir=tmp_path, progress=False, **{**QUICK, "steps": 31})
    assert len(calls) == 9  # other options: other digests, every task runs


def test_names_in_a_table_select_the_columns(pairs):
    x, z = pairs[0.6]
    frame = pd.DataFrame({"a": x[:, 0], "b": z[:, 0]})
    [result] = mivb.estimate_many([("a", "b")], data=frame, bound="gaussian", executor="serial", progress=False)
    assert result.mi == mivb.estimate(x, z, bound="gaussian").mi
    with pytest.raises(InvalidArgumentError, match=r"^x: expected names in data \('a', 'b'\), received x='c' "
                       r"\(in tasks\[1\]\)$"):
        mivb.estimate_many([("a", "b"), ("c", "b")], data=frame, executor="serial")


@pytest.mark.parametrize(("call", "error", "message"), [
    ({"executor": "threads"}, InvalidTypeError, ("executor: expected one of 'processes', 'serial', 'ray', a "
     "concurrent.futures.Executor or a Dask distributed.Client, received executor='threads'")),
    ({"workers": 0}, InvalidArgumentError, "workers: expected None or a positive number"),
    ({"workers": 2, "executor": "serial"}, InvalidArgumentError, "workers: expected None with an executor other"),
    ({"seed": None}, InvalidTypeError, "seed: expected an integer"),
    ({"bound": "infonse"}, UnknownNameError, "bound: expected one of 'alpha', 'auto', .* received bound='infonse'"),
    ({"bound": ["ksg", "nope"]}, UnknownNameError, "received bound='nope'"),
    ({"steps": 0}, InvalidArgumentError, "steps: expected a positive integer, received steps=0"),
    ({"test_fraction": 1.5}, InvalidArgumentError, "test_fraction: expected a fraction strictly between 0 and 1"),
    ({"progress": True, "bound": "gaussian"}, None, None),
])
def test_bad_options_are_refused_before_any_task_runs(pairs, call, error, message):
    if error is None:  # the control: the same call with good options runs
        assert len(mivb.estimate_many(pairs, executor="serial", **call)) == 3
        return
    with pytest.raises(error, match=message):
        mivb.estimate_many(pairs, **call)


def test_tasks_must_be_pairs():
    with pytest.raises(InvalidTypeError, match="tasks: expected a list of"):
        mivb.estimate_many("xz")
    with pytest.raises(InvalidTypeError, match=r"tasks\[0\]: expected an \(x, z\) pair"):
        mivb.estimate_many([np.zeros(3)])


def test_one_progress_bar_counts_every_task_those_from_the_cache_included(pairs, tmp_path, capsys):
    options = {"bound": "gaussian", "executor": "serial", "cache_dir": tmp_path, "progress": True}
    mivb.estimate_many(pairs, **options)
    first = capsys.readouterr().err
    assert first.count("mivb estimates") >= 2 and "3/3" in first and "0/3" in first
    mivb.estimate_many({**pairs, "more": pairs[0.6]}, **options)
    again = capsys.readouterr().err
    assert "3/4" in again and "4/4" in again and "0/4" not in again  # three loaded, one run


def test_ray_not_installed_names_the_pip_install(pairs, monkeypatch):
    import importlib

    real = importlib.import_module

    def without_ray(name, *args):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_ray)
    with pytest.raises(mivb.BackendNotAvailableError, match=r'executor="ray" needs Ray, not installed: pip install '
                                                            r'"mivb\[ray\]"'):
        mivb.estimate_many(pairs, executor="ray", bound="gaussian")


def test_the_command_estimates_each_pair_of_a_table_file_as_the_python_api(tmp_path, capsys):
    from mivb.cli import main

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 1000))
    frame = pd.DataFrame({"a": a, "b": b, "y": a + 0.5 * b + rng.normal(size=1000), "k": np.ones(1000)})
    source, out = tmp_path / "table.csv", tmp_path / "many.csv"
    frame.to_csv(source, index=False, float_format="%.17g")
    status = main(["estimate-many", str(source), "--pair", "both=a,b:y", "--pair", "b:y", "--pair", "k:y",
                   "--bound", "gaussian", "--workers", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    expected = mivb.estimate_many({"both": (["a", "b"], "y"), "b:y": ("b", "y"), "k:y": ("k", "y")}, data=frame,
                                  bound="gaussian", executor="serial", progress=False)
    written = pd.read_csv(out)
    assert status == 0 and list(written.pair) == ["both", "b:y", "k:y"]
    np.testing.assert_allclose(written.mi[:2], [expected["both"].mi, expected["b:y"].mi], rtol=1e-12)
    assert written.mi[0] == pytest.approx(0.5 * np.log(1 + 1.25), abs=0.06)  # y = a + b / 2 + noise
    assert isinstance(expected["k:y"], TaskFailure) and np.isnan(written.mi[2])
    assert written.notes[2] == f"failed: {expected['k:y'].error}" and "failed: " in printed.splitlines()[-2]
