"""What estimate says while it trains: the tqdm bar, the callback, and the "mivb" logger."""

import dataclasses
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import mivb
from mivb._progress import TrainingProgress, stop_reason
from mivb.diagnosis import TrainingRun

# 1000 pairs, batch 32: 700 training pairs, a validation check every 21 steps
SMALL = {"batch_size": 32, "seed": 0}


@pytest.fixture(scope="module")
def gaussians():
    return mivb.correlated_gaussians(1000, 2, 0.8, seed=0)


def last_line(err):
    """The bar's final state: tqdm redraws the line with carriage returns, and close() ends it."""
    assert err.endswith("\n"), repr(err[-200:])
    return err.rstrip("\n").split("\n")[-1].split("\r")[-1]


def test_early_stopping_ends_the_bar_line_with_the_reason(capfd, gaussians):
    x, z, _ = gaussians
    result = mivb.estimate(x, z, steps=5000, patience=2, progress=True, **SMALL)
    out, err = capfd.readouterr()
    steps = len(result.history)
    assert result.stopped_early and steps < 5000
    assert result.stop_reason == f"stopped early at step {steps} (best at {result.best_step})"
    line = last_line(err)
    # complete at its own length, not an abort at 2% of 5000; the reason closes the line
    assert line.startswith("mivb infonce/") and "100%" in line and f"{steps}/{steps}" in line, line
    assert line.rstrip().endswith(f"{result.stop_reason}]"), line  # tqdm pads over a longer earlier line
    assert out == ""


def test_all_steps_and_no_early_stopping(capfd, gaussians):
    x, z, _ = gaussians
    result = mivb.estimate(x, z, steps=40, early_stopping=False, progress=True, **SMALL)
    line = last_line(capfd.readouterr().err)
    assert result.stop_reason == "all 40 steps" and not result.stopped_early
    assert "40/40" in line and line.endswith("all 40 steps]")


def test_divergence_ends_the_bar_with_the_step(capfd):
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.9, seed=0)
    with pytest.warns(UserWarning, match="diverged"):
        result = mivb.estimate(x, z, bound="nwj", learning_rate=5.0, steps=1000, progress=True, **SMALL)
    assert result.diverged_at is not None and result.unreliable
    assert result.stop_reason == f"diverged at step {result.diverged_at}"
    line = last_line(capfd.readouterr().err)
    assert line.endswith(f"diverged at step {result.diverged_at}]") and "/1000" in line  # not shown as complete


def test_progress_false_and_a_redirected_stderr_print_nothing(capfd, gaussians):
    x, z, _ = gaussians
    mivb.estimate(x, z, steps=30, progress=False, **SMALL)
    assert capfd.readouterr() == ("", "")
    mivb.estimate(x, z, steps=30, **SMALL)  # the default: stderr here is not a terminal, nor a notebook
    assert capfd.readouterr() == ("", "")


def test_progress_must_be_a_bool_or_none(gaussians):
    x, z, _ = gaussians
    with pytest.raises(mivb.InvalidTypeError, match=r"^progress: expected None .*, received progress='yes'$"):
        mivb.estimate(x, z, steps=2, progress="yes")


def test_the_callback_sees_every_chunk(gaussians):
    x, z, _ = gaussians
    records = []
    result = mivb.estimate(x, z, steps=100, callback=records.append, **SMALL)
    steps = [r.step for r in records]
    assert steps == sorted(set(steps)) and steps[-1] == len(result.history) == 100
    assert steps == [21, 42, 63, 84, 100]  # a check every 700 // 32 = 21 steps
    assert [r.validation for r in records] == pytest.approx(list(result.validation))
    for previous, record in zip([0, *steps], records):
        assert record.steps == 100
        assert record.value == result.history[record.step - 1]
        assert record.mean == pytest.approx(result.history[previous:record.step].mean())
    assert records[-1].best_step == result.best_step
    best = [r.best_step for r in records]
    assert best == sorted(best) and all(b <= s for b, s in zip(best, steps))
    with pytest.raises(dataclasses.FrozenInstanceError):
        records[0].step = 5


def test_the_callback_without_early_stopping(gaussians):
    x, z, _ = gaussians
    records = []
    result = mivb.estimate(x, z, steps=250, early_stopping=False, callback=records.append, **SMALL)
    assert [r.step for r in records] == [100, 200, 250] == [r.best_step for r in records]
    assert all(r.validation is None for r in records) and len(result.history) == 250


@pytest.mark.parametrize("early_stopping", [True, False])
def test_a_callback_returning_true_stops_training(gaussians, early_stopping):
    x, z, _ = gaussians
    seen = []

    def stop_after_50(record: TrainingProgress) -> bool:
        seen.append(record)
        return record.step >= 50

    result = mivb.estimate(x, z, steps=1000, early_stopping=early_stopping, callback=stop_after_50, **SMALL)
    stopped = seen[-1].step
    assert stopped >= 50 and len(result.history) == stopped < 1000 and result.stopped_early
    assert result.stop_reason.startswith(f"stopped by the callback at step {stopped}")
    assert result.best_step == seen[-1].best_step
    if early_stopping:
        assert result.stop_reason == f"stopped by the callback at step {stopped} (best at {result.best_step})"


def test_only_true_stops(gaussians):
    x, z, _ = gaussians
    calls = []
    result = mivb.estimate(x, z, steps=60, early_stopping=False, callback=lambda r: calls.append(r) or 7, **SMALL)
    assert len(result.history) == 60 and not result.stopped_early and len(calls) == 1
    result = mivb.estimate(x, z, steps=60, callback=lambda r: np.bool_(True), **SMALL)
    assert result.stopped_early and len(result.history) == 21


def test_a_callback_that_is_not_callable_is_a_clear_error(gaussians):
    x, z, _ = gaussians
    with pytest.raises(mivb.InvalidTypeError) as error:
        mivb.estimate(x, z, steps=2, callback=3)
    assert str(error.value).startswith("callback: expected None or a function taking one mivb TrainingProgress")
    assert str(error.value).endswith("received callback=3") and isinstance(error.value, TypeError)


def test_a_callback_error_propagates_and_the_bar_line_is_ended(capfd, gaussians):
    x, z, _ = gaussians

    def broken(record):
        raise RuntimeError("no disk for the logs")

    with pytest.raises(RuntimeError, match="no disk"):
        mivb.estimate(x, z, steps=100, progress=True, callback=broken, **SMALL)
    assert capfd.readouterr().err.endswith("\n")


def test_training_is_logged_on_the_mivb_logger(caplog, gaussians):
    x, z, _ = gaussians
    records = []
    with caplog.at_level(logging.DEBUG, logger="mivb"):
        result = mivb.estimate(x, z, steps=100, callback=records.append, **SMALL)
    logged = [r for r in caplog.records if r.name == "mivb"]
    debug = [r.getMessage() for r in logged if r.levelno == logging.DEBUG]
    info = [r.getMessage() for r in logged if r.levelno == logging.INFO]
    assert len(debug) == len(records) and debug[0].startswith(f"infonce/{result.backend}: step 21/100: training ")
    assert "validation" in debug[0]
    assert info == [f"infonce/{result.backend}: {result.stop_reason}"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="mivb"):
        mivb.estimate(x, z, steps=30, **SMALL)
    assert [r.levelno for r in caplog.records if r.name == "mivb"] == [logging.INFO]


def test_stop_reasons():
    config = mivb.EstimateConfig(steps=5000)
    history = np.zeros(609)
    assert stop_reason(TrainingRun(history, np.zeros(29), 390, True, None), config, False) == \
        "stopped early at step 609 (best at 390)"
    assert stop_reason(TrainingRun(history[:13], np.zeros(0), 0, False, 13), config, False) == "diverged at step 13"
    assert stop_reason(TrainingRun(history, np.zeros(29), 390, True, None), config, True) == \
        "stopped by the callback at step 609 (best at 390)"
    no_stopping = dataclasses.replace(config, early_stopping=False)
    assert stop_reason(TrainingRun(np.zeros(5000), np.zeros(0), 5000, False, None), no_stopping, False) == \
        "all 5000 steps"


def test_import_mivb_does_not_import_tqdm():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = "import sys, mivb; print('tqdm' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert imported.stdout == "False\n"


def test_the_default_shows_the_bar_in_a_notebook(monkeypatch, gaussians):
    import io

    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})()
    monkeypatch.setattr(sys, "stderr", kernel_stream)  # what a Jupyter kernel makes of stderr: no terminal
    x, z, _ = gaussians
    result = mivb.estimate(x, z, steps=30, **SMALL)
    assert last_line(kernel_stream.getvalue()).endswith(f"{result.stop_reason}]")
