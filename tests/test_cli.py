"""The ``mivb`` command: files of each format, results equal to the Python API's, one-line errors."""

import json
import math
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import mivb
from mivb.cli import error_status, main, steps_for_epochs
from mivb.datafiles import load_array
from mivb.estimate import split_sizes
from mivb.plotting import UNIT_SCALES

# The network's path, as before the default held it against the copula (test_default_reports_... below).
QUICK = ["--steps", "30", "--batch-size", "32", "--seed", "0", "--bound", "infonce"]
QUICK_API = {"steps": 30, "batch_size": 32, "seed": 0, "bound": "infonce"}
FAILURE, USAGE, DATA = 1, 2, 3  # the exit statuses of `mivb --help`


@pytest.fixture(scope="module")
def pairs():
    """float64 samples, so every file format holds exactly the same numbers."""
    x, z, true_mi = mivb.correlated_gaussians(500, 2, 0.8, seed=3)
    return x.astype(np.float64), z.astype(np.float64), true_mi


@pytest.fixture(scope="module")
def api_result(pairs):
    x, z, _ = pairs
    return mivb.estimate(x, z, **QUICK_API)


@pytest.fixture
def files(tmp_path, pairs):
    x, z, _ = pairs
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "z.npy", z)
    np.savez(tmp_path / "both.npz", x=x, z=z)
    np.savez(tmp_path / "only_z.npz", samples=z)
    np.savetxt(tmp_path / "x_header.csv", x, delimiter=",", header="x0,x1", comments="")
    np.savetxt(tmp_path / "z_plain.csv", z, delimiter=",")
    return tmp_path


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(capsys, *argv, status=USAGE):
    """The one line a failing command prints, after checking its exit status (usage errors by default)."""
    code, out, err = run(capsys, *argv)
    assert code == status and out == "", (code, out, err)
    assert err.startswith("mivb: ") and err.count("\n") == 1, err
    return err


def data_error(capsys, *argv):
    return one_line_error(capsys, *argv, status=DATA)


def test_the_default_reports_the_copula_with_the_network_beside_it(capsys, files, pairs):
    x, z, _ = pairs
    expected = mivb.estimate(x, z, steps=30, batch_size=32, seed=0, progress=False)
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", "--steps", "30", "--batch-size", "32",
                         "--seed", "0", "--json")
    report = json.loads(out)
    assert status == 0 and (report["bound"], report["kind"], report["critic"]) == ("copula", "estimate", None)
    assert report["mi"] == expected.mi and report["lower"] == expected.lower.mi and report["ceiling"] is None
    assert report["config"]["bound"] == "auto"
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", "--steps", "30", "--batch-size", "32",
                         "--seed", "0")
    lines = out.splitlines()
    assert lines[1].startswith(f"I(X; Z) = {expected.mi:.4f} ± {expected.stderr:.4f} nats  (copula: an estimate, no bound;")
    assert lines[2] == (f"held-out lower bound beside it: {expected.lower.mi:.4f} ± {expected.lower.stderr:.4f} nats "
                        "(infonce)")


def test_json_output_is_the_python_api_result(capsys, files, api_result):
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--json")
    assert status == 0
    report = json.loads(out)
    assert report["mi"] == api_result.mi and report["stderr"] == api_result.stderr
    assert (report["units"], report["bound"], report["backend"]) == ("nats", "infonce", api_result.backend)
    assert report["ceiling"] == pytest.approx(math.log(32)) and report["lower"] is None
    assert report["notes"] == list(api_result.notes) and report["diverged_at"] is None
    assert report["config"] == json.loads(json.dumps(api_result.config.to_dict()))
    # what happened: the steps run (config.steps is only the most), why training stopped, how long it took
    assert report["steps"] == len(api_result.history) and report["best_step"] == api_result.best_step
    assert report["stopped_early"] == api_result.stopped_early and report["stop_reason"] == api_result.stop_reason
    assert report["unreliable"] is False and report["seconds"] > 0
    assert report["critic"] == ("linear" if api_result.linear_critic is not None else "network")
    # one split (no --folds): no interval, no folds, and no terms (no --given)
    assert report["interval"] is None and report["per_fold"] == [] and report["terms"] == []
    assert report["level"] == 0.95 and report["config"]["folds"] is None and api_result.interval is None


def test_no_linear_fallback_reports_the_network(capsys, files):
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--json",
                         "--no-linear-fallback")
    report = json.loads(out)
    assert status == 0 and report["critic"] == "network" and report["config"]["linear_fallback"] is False


def test_every_file_format_reads_the_same_numbers(files, pairs):
    x, z, _ = pairs
    for source, expected in [("x.npy", x), ("both.npz:x", x), ("both.npz:z", z), ("only_z.npz", z),
                             ("x_header.csv", x), ("z_plain.csv", z)]:
        loaded = load_array(str(files / source), "x")
        assert loaded.dtype == np.float64 and np.array_equal(loaded, expected), source


def test_mixed_formats_give_the_python_api_result(capsys, files, api_result):
    status, out, _ = run(capsys, "estimate", f"{files / 'both.npz'}:x", files / "z_plain.csv", *QUICK, "--json")
    assert status == 0 and json.loads(out)["mi"] == api_result.mi


def test_columns_of_one_csv_are_x_and_z(capsys, tmp_path, pairs, api_result):
    """data.csv:a,b names columns by the header's names or 0-based indices, in the order given."""
    x, z, _ = pairs
    np.savetxt(tmp_path / "table.csv", np.hstack([z[:, :1], x, z[:, 1:]]), delimiter=",", header="z0,x0,x1,z1",
               comments="")
    table = tmp_path / "table.csv"
    status, out, _ = run(capsys, "estimate", f"{table}:x0,x1", f"{table}:z0,3", *QUICK, "--json")
    assert status == 0 and json.loads(out)["mi"] == api_result.mi
    assert np.array_equal(load_array(f"{table}:z1,z0", "z"), z[:, ::-1])
    err = data_error(capsys, "estimate", f"{table}:x0,x2", f"{table}:z0", *QUICK)
    assert err == (f"mivb: x: expected columns of {table} named by a name of its header (z0, x0, x1, z1) or a "
                   f"0-based index below 4, separated by commas ('x2' is neither), received x='{table}:x0,x2'\n")
    assert "data.csv:a,b data.csv:c" in data_error(capsys, "estimate", table, *QUICK)


def test_bounds_names_the_flags_that_set_each_parameter(capsys):
    from mivb.cli import parser

    status, out, _ = run(capsys, "bounds")
    estimate_flags = {flag for action in parser()._subparsers._group_actions[0].choices["estimate"]._actions
                      for flag in action.option_strings}
    named = re.findall(r"--[\w-]+", out)
    assert status == 0 and {"--clip", "--alpha", "--neighbours"} <= set(named) <= estimate_flags
    assert "k=3" not in out and "--neighbours 3" in out


def test_demo_help_describes_every_option_and_offers_only_bounds_it_can_run(capsys):
    from mivb.cli import parser

    demo = parser()._subparsers._group_actions[0].choices["demo"]
    assert demo.description and all(action.help for action in demo._actions)
    assert "ba" not in next(action for action in demo._actions if "--bounds" in action.option_strings).choices
    with pytest.raises(SystemExit) as exit_info:  # argparse: not a choice
        main(["demo", "--bounds", "ba", "--no-plot"])
    assert exit_info.value.code == USAGE and "invalid choice: 'ba'" in capsys.readouterr().err


def test_csv_header_detection_comments_and_integers(tmp_path):
    (tmp_path / "one.csv").write_text("\ufeff# made by hand\nvalue\n1\n2.5\n-3e1\n")
    assert np.array_equal(load_array(str(tmp_path / "one.csv"), "z"), [[1.0], [2.5], [-30.0]])
    (tmp_path / "numbers.csv").write_text("1,2\n3,4\n")
    assert np.array_equal(load_array(str(tmp_path / "numbers.csv"), "z"), [[1.0, 2.0], [3.0, 4.0]])
    np.save(tmp_path / "ints.npy", np.arange(4))  # read as floats here; `mivb estimate` refuses them, as the API does
    ints = load_array(str(tmp_path / "ints.npy"), "x")
    assert ints.dtype == np.float64 and np.array_equal(ints, [0.0, 1.0, 2.0, 3.0])


def test_human_output_and_units_in_bits(capsys, files, api_result):
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"read 500 pairs: x = {files / 'x.npy'} (500, 2), z = {files / 'z.npy'} (500, 2)"
    assert lines[1].startswith(f"I(X; Z) = {api_result.mi:.4f} ± {api_result.stderr:.4f} nats  (infonce: a lower bound; ")
    assert "30 steps, seed 0)" in lines[1]
    assert re.fullmatch(rf"training: {re.escape(api_result.stop_reason)}; \d+\.\d s", lines[2]), lines[2]
    assert not any(line.startswith("unreliable") for line in lines)
    assert not any("interval" in line for line in lines)  # one split: no interval to report
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--json", "--units", "bits")
    report = json.loads(out)
    assert report["units"] == "bits"
    assert report["mi"] == pytest.approx(api_result.mi / math.log(2), rel=1e-12)
    assert report["stderr"] == pytest.approx(api_result.stderr / math.log(2), rel=1e-12)
    assert report["ceiling"] == pytest.approx(math.log2(32), rel=1e-12)


def test_options_reach_the_estimate(capsys, files, pairs):
    x, z, _ = pairs
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", "--bound", "smile", "--critic",
                         "bilinear", "--steps", "20", "--batch-size", "16", "--learning-rate", "0.001",
                         "--seed", "5", "--device", "cpu", "--json")
    assert status == 0
    report = json.loads(out)
    expected = mivb.estimate(x, z, bound="smile", critic="bilinear", steps=20, batch_size=16, learning_rate=1e-3,
                             seed=5, device="cpu")
    assert report["mi"] == expected.mi and report["ceiling"] is None
    assert report["config"]["critic"]["kind"] == "bilinear" and report["config"]["device"] == "cpu"


def test_notes_are_printed_once_and_not_repeated_as_warnings(capsys, tmp_path, recwarn):
    x, z, _ = mivb.correlated_gaussians(2000, 10, mivb.data.rho_for_mi(10, 8.0), seed=0)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "z.npy", z)
    options = {"bound": "infonce", "steps": 400, "batch_size": 16, "learning_rate": 0.002, "seed": 0}
    status, out, _ = run(capsys, "estimate", tmp_path / "x.npy", tmp_path / "z.npy",
                         *[f"--{key.replace('_', '-')}={value}" for key, value in options.items()])
    assert status == 0 and len(recwarn) == 0
    with pytest.warns(UserWarning):  # 8 nats, but log(16) = 2.77 at most: near the ceiling, still rising
        expected = mivb.estimate(x, z, **options)
    assert expected.notes
    assert [line for line in out.splitlines() if line.startswith("note: ")] == [f"note: {n}" for n in expected.notes]
    codes = [mivb.notes.code_of(n) for n in expected.notes]
    assert f"(mivb explain {' '.join(dict.fromkeys(codes))} says more)" in out.splitlines()


def test_explain_prints_each_codes_long_text_and_lists_them_all(capsys):
    status, out, _ = run(capsys, "explain", "ceiling", "rising")
    assert status == 0 and out.startswith("[ceiling] ") and "\n\n[rising] " in out
    assert " ".join(out.split()) == " ".join(mivb.notes.explain([], "ceiling").split() + mivb.notes.explain([], "rising").split())
    assert max(map(len, out.splitlines())) <= 100
    status, out, _ = run(capsys, "explain")
    assert status == 0 and [line.split()[0] for line in out.splitlines()] == list(mivb.notes.NOTES)
    err = one_line_error(capsys, "explain", "ceil")
    assert err.startswith("mivb: code: expected one of 'below-zero', ") and "received code='ceil'" in err


def test_epochs_become_steps_over_the_training_split(capsys, files):
    # 500 pairs: 100 test, 50 validation, 350 train: 10 batches of 32 per epoch (the ragged last one dropped)
    assert steps_for_epochs(2, 500, 32) == 20 and steps_for_epochs(0.5, 500, 32) == 5
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", "--epochs", "2",
                         "--batch-size", "32", "--seed", "0", "--json")
    assert status == 0 and json.loads(out)["config"]["steps"] == 20
    with pytest.raises(SystemExit) as exit_info:  # argparse: --steps and --epochs exclude each other
        main(["estimate", "x.npy", "z.npy", "--steps", "5", "--epochs", "1"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_single_held_out_batch_has_a_jackknife_stderr_and_json_stays_strict(capsys, tmp_path, pairs):
    x, z, _ = pairs
    np.save(tmp_path / "x.npy", x[:180])
    np.save(tmp_path / "z.npy", z[:180])
    status, out, _ = run(capsys, "estimate", tmp_path / "x.npy", tmp_path / "z.npy", *QUICK, "--json",
                         "--bound", "infonce")
    report = json.loads(out)  # 36 held-out pairs: one batch of 32, its spread left one out at a time (#29)
    assert status == 0 and math.isfinite(report["stderr"]) and math.isfinite(report["mi"])
    status, out, _ = run(capsys, "estimate", tmp_path / "x.npy", tmp_path / "z.npy", *QUICK, "--json",
                         "--bound", "infonce", "--test-fraction", "0.01")
    report = json.loads(out)  # 2 held-out pairs: none to leave out, no stderr, and a note says why
    assert status == 0 and report["stderr"] is None and math.isfinite(report["mi"])
    assert "NaN" not in out and any(note.startswith("no standard error") for note in report["notes"])


def test_plot_file_is_written(capsys, files):
    plot = files / "curve.png"
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--plot", plot)
    assert status == 0 and out.splitlines()[-1] == f"plot: {plot}"
    assert plot.read_bytes().startswith(b"\x89PNG") and plot.stat().st_size > 10_000
    svg = files / "curve.svg"
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--json", "--plot", svg)
    assert json.loads(out)["plot"] == str(svg) and b"<svg" in svg.read_bytes()


def test_file_errors_are_one_line(capsys, files, tmp_path):
    x = files / "x.npy"
    assert "received x='" in data_error(capsys, "estimate", tmp_path / "missing.npy", files / "z.npy")
    assert "an existing file" in data_error(capsys, "estimate", x, tmp_path / "missing.csv")
    assert "ending in .npy, .npz, .csv" in data_error(capsys, "estimate", x, tmp_path / "z.txt")
    np.save(tmp_path / "short.npy", np.ones(400))
    err = data_error(capsys, "estimate", x, tmp_path / "short.npy", *QUICK)
    assert "z: expected as many samples as x (n=500)" in err
    np.save(tmp_path / "objects.npy", np.array([1.0, "a"], dtype=object), allow_pickle=True)
    assert "without pickle" in data_error(capsys, "estimate", x, tmp_path / "objects.npy")
    np.savez(tmp_path / "objects.npz", z=np.array([None, 1.0], dtype=object))
    assert "without pickle" in data_error(capsys, "estimate", x, f"{tmp_path / 'objects.npz'}:z")
    (tmp_path / "fake.npy").write_text("not an array")
    assert "NumPy's .npy header" in data_error(capsys, "estimate", x, tmp_path / "fake.npy")
    (tmp_path / "fake.npz").write_text("not a zip")
    assert "a .npz archive" in data_error(capsys, "estimate", x, tmp_path / "fake.npz")
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    assert "an array of real numbers" in data_error(capsys, "estimate", x, tmp_path / "text.npy")


def test_npz_errors_list_the_names(capsys, files):
    both = files / "both.npz"
    err = data_error(capsys, "estimate", files / "x.npy", both)
    assert f"one of the 2 arrays in {both} ({both}:x, {both}:z)" in err
    assert "('x', 'z')" in data_error(capsys, "estimate", files / "x.npy", f"{both}:y")


def test_csv_errors_name_the_row(capsys, files, tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,oops\n")
    err = data_error(capsys, "estimate", files / "x.npy", tmp_path / "bad.csv")
    assert "comma-separated numbers" in err and "'oops'" in err
    (tmp_path / "empty.csv").write_text("\n# nothing\n")
    assert "at least one row" in data_error(capsys, "estimate", files / "x.npy", tmp_path / "empty.csv")


def test_option_errors_are_one_line(capsys, files, tmp_path):
    xz = (files / "x.npy", files / "z.npy")
    assert "received bound='nce'" in one_line_error(capsys, "estimate", *xz, "--bound", "nce")
    assert "received critic='deep'" in one_line_error(capsys, "estimate", *xz, "--critic", "deep")
    assert "received steps=0" in one_line_error(capsys, "estimate", *xz, "--steps", "0")
    assert "received epochs=-1.0" in one_line_error(capsys, "estimate", *xz, "--epochs", "-1")
    assert "received learning_rate=-0.1" in one_line_error(capsys, "estimate", *xz, "--learning-rate", "-0.1")
    assert "received backend='pytorch'" in one_line_error(capsys, "estimate", *xz, "--backend", "pytorch")
    assert "received device='gpu'" in one_line_error(capsys, "estimate", *xz, *QUICK, "--device", "gpu")
    assert "a format matplotlib writes" in one_line_error(capsys, "estimate", *xz, "--plot", tmp_path / "c.xyz")
    assert "an existing folder" in one_line_error(capsys, "estimate", *xz, "--plot", tmp_path / "no" / "c.png")


@pytest.mark.parametrize("epochs", ["1e308", "inf", "nan", "0", "-1"])
def test_epochs_out_of_range_are_one_line(capsys, files, epochs):
    err = one_line_error(capsys, "estimate", files / "x.npy", files / "z.npy", "--epochs", epochs, "--batch-size", "32")
    assert err.startswith("mivb: epochs: expected a positive number of passes over the training split")
    assert err.endswith(f", received epochs={float(epochs)!r}\n")
    if epochs == "1e308":  # 10 steps a pass: at most (2**63 - 1) / 10 passes
        assert "at most 9.22e+17 (fewer than 2**63 steps, at 10 per pass)" in err


def test_epochs_beyond_an_int64_of_steps_are_refused():
    # Checked here, not through the command: before the check, 1e19 passes drew a schedule forever.
    assert steps_for_epochs(9e17, 500, 32) == 9 * 10**18
    with pytest.raises(mivb.MivbError, match=r"at most 9.22e\+17 .* received epochs=1e\+19$"):
        steps_for_epochs(1e19, 500, 32)


def test_samples_must_be_vectors_or_images(capsys, files, tmp_path, pairs):
    x, _, _ = pairs
    np.save(tmp_path / "cube.npy", x.reshape(500, 1, 2))  # (n, a, b): neither (n, d) nor (n, C, H, W)
    err = data_error(capsys, "estimate", tmp_path / "cube.npy", files / "z.npy", *QUICK)
    assert err == ("mivb: x: expected samples of shape (n,) or (n, d) (vectors), or (n, C, H, W) (images; "
                   "(n, H, W, C) in JAX and TensorFlow), received x=ndarray(shape=(500, 1, 2), dtype=float64)\n")
    np.save(tmp_path / "scalar.npy", np.float64(1.0))
    assert "received z=ndarray(shape=(), dtype=float64)" in data_error(
        capsys, "estimate", files / "x.npy", tmp_path / "scalar.npy")


def test_one_npz_holding_x_and_z(capsys, files, api_result):
    status, out, _ = run(capsys, "estimate", files / "both.npz", *QUICK, "--json")
    assert status == 0 and json.loads(out)["mi"] == api_result.mi
    status, out, _ = run(capsys, "estimate", files / "both.npz", *QUICK)
    assert out.startswith(f"read 500 pairs: x = {files / 'both.npz'}:x (500, 2), z = {files / 'both.npz'}:z (500, 2)")
    for alone in [files / "x.npy", files / "only_z.npz", f"{files / 'both.npz'}:x"]:
        err = data_error(capsys, "estimate", alone, *QUICK)
        assert err == ("mivb: z: expected a file of Z samples (.npy, .npz, .csv), unless X is a .npz archive holding "
                       "arrays named x and z (columns of one CSV: data.csv:a,b data.csv:c), received z=None\n")


def test_demo_argument_errors_are_one_line(capsys):
    demo = ["demo", "--no-plot", "--steps", "2", "--samples", "300", "--bounds", "infonce"]
    assert one_line_error(capsys, *demo, "--dim", "0").endswith("dim: expected a positive integer, received dim=0\n")
    assert "received samples=0" in one_line_error(capsys, *demo, "--samples", "0")
    assert "seed: expected an integer in [0, 2**63), received seed=-1" in one_line_error(capsys, *demo, "--seed", "-1")
    for mi in ["-1", "nan", "inf", "1e308", "40"]:
        err = one_line_error(capsys, *demo, "--dim", "2", "--mi", mi)
        assert err == (f"mivb: mi: expected a number of nats >= 0, less than about 36 (at dim=2, more needs a "
                       f"correlation of 1), received mi={float(mi)!r}\n")


def test_demo_prints_the_table_and_writes_one_panel_per_bound(capsys, tmp_path):
    plot = tmp_path / "demo.png"
    status, out, _ = run(capsys, "demo", "--steps", "30", "--samples", "1000", "--dim", "2", "--mi", "1",
                         "--bounds", "infonce", "smile", "--plot", plot)
    assert status == 0
    lines = out.splitlines()
    x, z, true_mi = mivb.correlated_gaussians(1000, 2, mivb.data.rho_for_mi(2, 1.0), seed=0)
    assert lines[0].startswith("Correlated Gaussians: 1000 pairs in 2 dimensions") and f"{true_mi:.3f} nats" in lines[0]
    expected = mivb.estimate(x, z, bound="smile", steps=30, seed=0)
    smile_row = next(line for line in lines if line.startswith("smile"))
    assert smile_row.split()[1:4] == [f"{expected.mi:.3f}", f"{expected.stderr:.3f}", f"{expected.mi - true_mi:+.3f}"]
    assert lines[-1] == f"plot: {plot}" and plot.stat().st_size > 10_000


def test_demo_writes_its_plot_here_by_default_and_runs_without_matplotlib(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    demo = ["demo", "--steps", "20", "--samples", "600", "--dim", "2", "--bounds", "infonce"]
    status, out, _ = run(capsys, *demo)
    assert status == 0 and out.splitlines()[-1] == "plot: mivb-demo.png"
    assert (tmp_path / "mivb-demo.png").stat().st_size > 10_000
    (tmp_path / "mivb-demo.png").unlink()
    status, out, _ = run(capsys, *demo, "--no-plot")
    assert status == 0 and "plot" not in out and not (tmp_path / "mivb-demo.png").exists()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if matplotlib were not installed
    status, out, _ = run(capsys, *demo)
    assert status == 0 and out.splitlines()[-1] == 'plots: pip install "mivb[plot]" adds a plot of the training curves'
    assert not (tmp_path / "mivb-demo.png").exists()
    err = one_line_error(capsys, *demo, "--plot", "explicit.png", status=FAILURE)  # a missing install, not usage
    assert err == 'mivb: plotting needs matplotlib: pip install "mivb[plot]"\n'


def test_bounds_and_backends(capsys):
    status, out, _ = run(capsys, "bounds")
    assert status == 0 and [line.split()[0] for line in out.splitlines()] == list(mivb.estimators())
    status, out, _ = run(capsys, "backends")
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert status == 0 and list(rows) == list(mivb.backends.registered())
    for name, spec in mivb.backends.registered().items():
        if name in mivb.available_backends():
            assert rows[name].split()[1:] == ["available"]
        else:
            assert rows[name].split(None, 1)[1].startswith("not available: ") and spec.install in rows[name]


def test_python_dash_m_runs_the_command_without_tracebacks(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    listed = subprocess.run([sys.executable, "-m", "mivb", "bounds"], check=False, capture_output=True, text=True, env=env)
    assert listed.returncode == 0 and listed.stdout.split()[0] == next(iter(mivb.BOUNDS))
    failed = subprocess.run([sys.executable, "-m", "mivb", "estimate", str(tmp_path / "x.npy"), "z.npy"],
                            check=False, capture_output=True, text=True, env=env)
    assert failed.returncode == DATA and failed.stdout == ""  # a missing data file: 3 (was 2, as every error)
    assert failed.stderr == f"mivb: x: expected an existing file, received x='{tmp_path / 'x.npy'}'\n"


def test_integer_and_boolean_files_are_refused_as_the_python_api_refuses_them(capsys, files, pairs):
    x, z, _ = pairs
    labels = np.arange(1000).reshape(500, 2)
    np.save(files / "labels.npy", labels)
    with pytest.raises(mivb.InvalidTypeError) as api_error:
        mivb.estimate(labels, z)
    err = data_error(capsys, "estimate", files / "labels.npy", files / "z.npy", *QUICK)
    assert err == f"mivb: {api_error.value}\n"
    assert "cast integer or boolean data explicitly" in err and "dtype=int64" in err
    np.savez(files / "mixed.npz", x=x, z=z > 0)
    err = data_error(capsys, "estimate", files / "mixed.npz", *QUICK)
    assert err.startswith("mivb: z: expected real floating-point samples") and "dtype=bool" in err
    np.savetxt(files / "whole.csv", np.round(z * 100), delimiter=",", fmt="%d")  # text has no dtype: numbers
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "whole.csv", *QUICK, "--json")
    assert status == 0 and math.isfinite(json.loads(out)["mi"])


def test_an_unreliable_estimate_says_so(capsys, files):
    same = (files / "x.npy", files / "x.npy")  # x identical to z: infinite MI, no finite answer
    status, out, _ = run(capsys, "estimate", *same, *QUICK)
    assert status == 0
    assert "unreliable: do not trust this number (the notes say why)" in out.splitlines()
    status, out, _ = run(capsys, "estimate", *same, *QUICK, "--json")
    report = json.loads(out)
    assert report["unreliable"] is True and any("same array" in note for note in report["notes"])


def test_every_estimate_option_has_a_flag(capsys, files, pairs):
    x, z, _ = pairs
    options = {"bound": "smile", "clip": 2.0, "steps": 40, "batch_size": 16, "learning_rate": 1e-3,
               "negative_samples": 6, "ema_decay": 0.9, "test_fraction": 0.25, "validation_fraction": 0.15,
               "patience": 2, "transform": "standardize", "seed": 4}
    argv = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *argv, "--json")
    report = json.loads(out)
    expected = mivb.estimate(x, z, **options)
    assert status == 0 and report["mi"] == expected.mi and report["steps"] == len(expected.history)
    assert report["config"] == json.loads(json.dumps(expected.config.to_dict()))
    assert report["config"]["critic"]["negative_samples"] == 6 and report["config"]["bound_params"] == {"clip": 2.0}
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--no-early-stopping",
                         "--transform", "none", "--json")
    report = json.loads(out)
    expected = mivb.estimate(x, z, early_stopping=False, transform=None, **QUICK_API)
    assert report["mi"] == expected.mi and report["stop_reason"] == "all 30 steps" and not report["stopped_early"]
    assert report["config"]["early_stopping"] is False and report["config"]["transform"] is None
    assert "received clip=2.0" in one_line_error(capsys, "estimate", files / "x.npy", files / "z.npy", "--clip", "2")
    assert "received devices=2" in one_line_error(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK,
                                                   "--backend", "torch", "--devices", "2")
    with pytest.raises(SystemExit) as exit_info:
        main(["estimate", "x.npy", "--devices", "some"])
    assert exit_info.value.code == USAGE and "a number of devices or all" in capsys.readouterr().err


def test_compile_flag_asks_for_a_compiled_training_step(capsys, files, monkeypatch):
    import mivb.cli

    asked = []
    real_estimate = mivb.cli.quiet_estimate

    def spy(*args, **kwargs):
        asked.append(kwargs["compile"])
        return real_estimate(*args, **{**kwargs, "compile": False})  # inductor takes minutes on a CPU

    monkeypatch.setattr(mivb.cli, "quiet_estimate", spy)
    for flags in ([], ["--compile"]):
        assert run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, *flags)[0] == 0
    assert asked == [False, True]


def test_epochs_follow_the_split_of_the_flags(capsys, files):
    # 500 pairs at 0.3/0.2: 250 training pairs, 7 batches of 32; without early stopping 0.3: 350, 10 batches
    assert steps_for_epochs(2, 500, 32, 0.3, 0.2) == 14 and steps_for_epochs(2, 500, 32, 0.3, 0.0) == 20
    assert steps_for_epochs(3, 40, 128) == 3  # 28 training pairs: estimate lowers the batch to them, one per epoch
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", "--epochs", "2", "--batch-size", "32",
                         "--no-early-stopping", "--seed", "0", "--json")
    assert status == 0 and json.loads(out)["config"]["steps"] == 24  # 400 training pairs, 12 batches


def test_the_progress_bar_goes_to_stderr_and_ends_its_line(capsys, files):
    status, out, err = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--progress", "--json")
    report = json.loads(out)
    assert status == 0 and err.endswith(f"{report['stop_reason']}]\n")
    status, out, err = run(capsys, "estimate", files / "x.npy", files / "z.npy", *QUICK, "--no-progress")
    assert status == 0 and err == ""


def test_help_says_what_the_code_does(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["estimate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert exit_info.value.code == 0
    assert split_sizes(1000, 0.2, 0.1) == (700, 100, 200)  # the defaults the help puts in words
    assert "a critic trains on 70% of the pairs, 10% decide when training stops" in text and "other 20%" in text
    assert "80%" not in text.replace("80%/20%", "")  # 80/20 only without early stopping
    assert "joint, separable, bilinear, classifier, conditional, conv" in text
    for flag in ["--clip", "--patience", "--transform", "--negative-samples", "--test-fraction",
                 "--validation-fraction", "--no-early-stopping", "--ema-decay", "--progress"]:
        assert flag in text, flag
    for status, meaning in [(0, "done"), (USAGE, "usage error"), (DATA, "data error"), (FAILURE, "any other error")]:
        assert f"{status} {meaning}" in text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert f"{DATA} data error" in " ".join(capsys.readouterr().out.split())


def test_exit_status_by_kind_of_error():
    assert error_status(mivb.errors.invalid("x", "finite samples", 1.0)) == DATA
    assert error_status(mivb.errors.invalid("z", "finite samples", 1.0)) == DATA
    assert error_status(mivb.errors.invalid("steps", "a positive integer", 0)) == USAGE
    assert error_status(mivb.BackendNotAvailableError("backend: jax is not installed")) == FAILURE
    assert error_status(mivb.errors.PlottingNotAvailableError("plotting needs matplotlib")) == FAILURE


FOLDS = ["--steps", "100", "--batch-size", "32", "--seed", "0", "--folds", "2"]
FOLDS_API = {"steps": 100, "batch_size": 32, "seed": 0, "folds": 2}


@pytest.fixture(scope="module")
def triples():
    """600 pairs of x and z and a y that explains part of x: I(X; Z | Y) differs from I(X; Z)."""
    x, z, _ = mivb.correlated_gaussians(600, 2, 0.8, seed=3)
    y = x[:, :1] + np.random.default_rng(1).normal(size=(600, 1))
    return x.astype(np.float64), z.astype(np.float64), y.astype(np.float64)


@pytest.fixture
def triple_files(tmp_path, triples):
    x, z, y = triples
    np.savez(tmp_path / "xzy.npz", x=x, z=z, y=y)
    np.save(tmp_path / "y.npy", y)
    return tmp_path


def test_folds_give_the_python_api_interval_in_json_and_text(capsys, triple_files, triples):
    x, z, _ = triples
    archive = triple_files / "xzy.npz"
    with warnings.catch_warnings():  # two folds disagree: a note that the interval is wide
        warnings.simplefilter("ignore")
        expected = mivb.estimate(x, z, level=0.9, **FOLDS_API)
    assert expected.interval is not None and len(expected.per_fold) == 2
    status, out, _ = run(capsys, "estimate", archive, *FOLDS, "--level", "0.9", "--json")
    report = json.loads(out)
    assert status == 0 and report["mi"] == expected.mi and report["stderr"] == expected.stderr
    assert report["interval"] == list(expected.interval) and report["level"] == 0.9
    assert report["per_fold"] == [fold.mi for fold in expected.per_fold] and report["terms"] == []
    assert report["config"]["folds"] == 2 and report["config"]["level"] == 0.9
    assert report["stop_reason"] == expected.stop_reason and report["stop_reason"].startswith("2 folds: ")
    status, out, _ = run(capsys, "estimate", archive, *FOLDS, "--level", "0.9", "--units", "bits")
    lines = out.splitlines()  # every value in the chosen units: the interval and the folds too
    bits = UNIT_SCALES["bits"]
    low, high = (value * bits for value in expected.interval)
    folds = [fold.mi * bits for fold in expected.per_fold]
    steps = ", ".join(str(len(fold.history)) for fold in expected.per_fold)
    assert status == 0 and lines[1].startswith(f"I(X; Z) = {expected.mi * bits:.4f} ± {expected.stderr * bits:.4f} "
                                               "bits  (infonce: a lower bound; ")
    assert f"2 folds ({steps} steps), seed 0)" in lines[1]
    assert lines[2] == (f"90% interval ({low:.4f}, {high:.4f}) bits, from 2 folds ({folds[0]:.4f}, {folds[1]:.4f}): "
                        "it covers the critic's training and the test noise, not the bound's bias")


def test_given_y_estimates_the_conditional_mi_of_the_python_api(capsys, triple_files, triples):
    x, z, y = triples
    archive = triple_files / "xzy.npz"
    with warnings.catch_warnings():  # the terms' notes, if any: the command prints them
        warnings.simplefilter("ignore")
        expected = mivb.estimate(x, z, given=y, steps=100, batch_size=32, seed=0)
    assert expected.kind == "difference"
    joint, marginal = expected.terms
    status, out, _ = run(capsys, "estimate", archive, *FOLDS[:-2], "--given", f"{archive}:y", "--json")
    report = json.loads(out)
    assert status == 0 and report["kind"] == "difference" and report["mi"] == expected.mi
    assert report["terms"] == [joint.mi, marginal.mi] and report["mi"] == pytest.approx(joint.mi - marginal.mi)
    assert report["interval"] is None and report["per_fold"] == [] and report["ceiling"] is None
    status, out, _ = run(capsys, "estimate", archive, *FOLDS[:-2], "--given", triple_files / "y.npy")
    lines = out.splitlines()  # Y from any file, here a .npy: the same numbers
    assert status == 0 and lines[0] == (f"read 600 pairs: x = {archive}:x (600, 2), z = {archive}:z (600, 2), "
                                        f"given y = {triple_files / 'y.npy'} (600, 1)")
    assert lines[1].startswith(f"I(X; Z | Y) = {expected.mi:.4f} ± {expected.stderr:.4f} nats  (infonce: a "
                               "difference of two estimates (conditional MI), no bound; ")
    assert lines[2] == f"terms: I(X; (Z, Y)) = {joint.mi:.4f}, I(X; Y) = {marginal.mi:.4f} nats"


def test_fold_level_and_given_errors_have_their_exit_status(capsys, triple_files):
    archive = triple_files / "xzy.npz"
    err = one_line_error(capsys, "estimate", archive, *FOLDS[:-1], "1")
    assert err == ("mivb: folds: expected None (one split) or an integer >= 2 (5 is a good choice), "
                   "received folds=1\n")
    assert "received folds=0" in one_line_error(capsys, "estimate", archive, "--epochs", "1", "--folds", "0")
    assert "received level=1.5" in one_line_error(capsys, "estimate", archive, *FOLDS, "--level", "1.5")
    assert "received folds=2" in one_line_error(capsys, "estimate", archive, "--bound", "gaussian", "--folds", "2")
    with pytest.raises(SystemExit) as exit_info:  # argparse: not a number
        main(["estimate", str(archive), "--folds", "two"])
    assert exit_info.value.code == USAGE and "invalid int value: 'two'" in capsys.readouterr().err
    # Y is data: a missing file, too few samples, integers are data errors, named 'given'
    assert "received given='" in data_error(capsys, "estimate", archive, "--given", triple_files / "no.npy")
    np.save(triple_files / "short.npy", np.ones(500))
    assert "given: expected 600 samples" in data_error(capsys, "estimate", archive, *QUICK, "--given",
                                                       triple_files / "short.npy")
    np.save(triple_files / "labels.npy", np.arange(600))
    err = data_error(capsys, "estimate", archive, *QUICK, "--given", triple_files / "labels.npy")
    assert err.startswith("mivb: given: expected real floating-point samples") and "dtype=int64" in err
    assert error_status(mivb.errors.invalid("given", "finite samples", 1.0)) == DATA


def test_epochs_with_folds_count_the_training_part_of_each_fold(capsys, files):
    # 500 pairs in 2 folds: 250 test, 50 validation, 200 train: 6 batches of 32 per epoch
    status, out, _ = run(capsys, "estimate", files / "x.npy", files / "z.npy", "--epochs", "2", "--folds", "2",
                         "--batch-size", "32", "--seed", "0", "--json")
    report = json.loads(out)
    assert status == 0 and report["config"]["steps"] == steps_for_epochs(2, 500, 32, 0.5) == 12
    assert len(report["per_fold"]) == 2 and len(report["interval"]) == 2


def test_help_describes_folds_level_and_given(capsys):
    with pytest.raises(SystemExit):
        main(["estimate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--folds K cross-fitting: train K critics" in text and "for K times the cost" in text
    assert "an interval that covers the critic's training" in text
    assert "--level LEVEL the coverage of the --folds interval, between 0 and 1 (default: 0.95)" in text
    assert "--given Y the samples of Y" in text and "X.npz:y" in text and "I(X; Z | Y) = I(X; (Z, Y)) - I(X; Y)" in text
    assert "3 data error (X, Z or --given Y" in text
