"""mivb.plotting: what each line of a plot shows, files written with Agg, matplotlib kept optional."""

import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure  # the tests session installs the plot extra

import mivb
from mivb.plotting import PlottingNotAvailableError, check_plot_path, plot_demo, plot_estimate


@pytest.fixture(scope="module")
def gaussians():
    return mivb.correlated_gaussians(800, 2, 0.9, seed=1)


@pytest.fixture(scope="module")
def results(gaussians):
    x, z, _ = gaussians
    # the network's estimates, whose ceiling is log 32 (a reported linear critic reads larger batches)
    return [mivb.estimate(x, z, bound=name, steps=120, batch_size=32, seed=0, linear_fallback=False)
            for name in ("infonce", "smile")]


def horizontal_levels(ax):
    """The y of every horizontal line on the axes, by label."""
    return {line.get_label(): line.get_ydata()[0] for line in ax.get_lines() if len(set(line.get_ydata())) == 1
            and len(line.get_ydata()) == 2}


def test_estimate_plot_shows_the_curve_the_held_out_value_the_ceiling_and_the_truth(results, gaussians):
    infonce = results[0]
    ax = plot_estimate(infonce, ax=Figure().subplots(), truth=gaussians[2])
    curve = ax.get_lines()[0]
    assert np.array_equal(curve.get_xdata(), np.arange(1, 121)) and np.array_equal(curve.get_ydata(), infonce.history)
    smoothed = ax.get_lines()[1]  # 120 steps: a moving average over 120 // 50 = 2 steps
    assert np.allclose(smoothed.get_ydata(), (infonce.history[1:] + infonce.history[:-1]) / 2)
    levels = horizontal_levels(ax)
    assert levels[f"held-out estimate {infonce.mi:.3f} ± {infonce.stderr:.3f}"] == pytest.approx(infonce.mi, rel=1e-12)
    assert levels[f"infonce ceiling log(K + 1) = {math.log(32):.3f}"] == pytest.approx(math.log(32))
    assert levels[f"true MI {gaussians[2]:.3f}"] == pytest.approx(gaussians[2], rel=1e-12)
    # the ceiling, twice the data's top here, would squash the curve: it stays out of view, named above the axes
    low, high = ax.get_ylim()
    assert low < min(infonce.mi, gaussians[2]) and max(infonce.mi, gaussians[2]) < high < math.log(32)
    assert [text.get_text() for text in ax.texts] == [f"ceiling {math.log(32):.2f} above"]
    assert ax.get_ylabel() == "lower bound (nats)" and ax.get_title() == f"infonce ({infonce.backend})"


def test_bits_scale_every_value_and_smile_has_no_ceiling(results):
    smile = results[1]
    ax = plot_estimate(smile, ax=Figure().subplots(), units="bits")
    bits = smile.mi / math.log(2)
    levels = horizontal_levels(ax)  # bits computed two ways: equal to rounding, not bit for bit
    assert list(levels) == [f"held-out estimate {bits:.3f} ± {smile.stderr / math.log(2):.3f}"]
    assert levels.popitem()[1] == pytest.approx(bits, rel=1e-12)
    assert np.allclose(ax.get_lines()[0].get_ydata(), smile.history / math.log(2))
    assert ax.get_ylabel() == "lower bound (bits)"
    with pytest.raises(mivb.UnknownNameError, match="received units='bit'"):
        plot_estimate(smile, units="bit")


def test_estimate_plot_method_writes_a_file_or_draws_on_given_axes(results, tmp_path):
    path = tmp_path / "estimate.png"
    ax = results[0].plot(path)
    assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 10_000
    assert ax.get_title().startswith("infonce")
    given = Figure().subplots()
    assert results[1].plot(ax=given) is given and given.get_title().startswith("smile")


def test_demo_plot_writes_the_format_its_file_name_asks_for(results, gaussians, tmp_path):
    path = plot_demo(results, gaussians[2], tmp_path / "demo.pdf")
    assert path == tmp_path / "demo.pdf" and path.read_bytes().startswith(b"%PDF")
    with pytest.raises(mivb.InvalidArgumentError, match="at least one estimate"):
        plot_demo([], 1.0, tmp_path / "none.png")


def test_bad_paths_fail_before_drawing(tmp_path):
    with pytest.raises(mivb.InvalidArgumentError, match="a format matplotlib writes .*received plot="):
        check_plot_path(tmp_path / "curve.docx")
    with pytest.raises(mivb.InvalidArgumentError, match="an existing folder"):
        check_plot_path(tmp_path / "missing" / "curve.png")
    assert check_plot_path(str(tmp_path / "curve.SVG")) == tmp_path / "curve.SVG"


def test_missing_matplotlib_is_a_mivb_error_naming_the_extra(results, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if matplotlib were not installed
    with pytest.raises(PlottingNotAvailableError) as error:
        results[0].plot()
    assert str(error.value) == 'plotting needs matplotlib: pip install "mivb[plot]"'
    assert isinstance(error.value, mivb.MivbError) and isinstance(error.value, ImportError)


def test_mivb_never_imports_matplotlib_and_files_leave_pyplot_alone(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import mivb, mivb.cli, mivb.plotting
        assert "matplotlib" not in sys.modules
        history = np.linspace(0.0, 1.0, 200)
        result = mivb.Estimate(mi=0.9, stderr=0.05, history=history, bound="infonce", backend="torch", config=None,
                               test_values=np.full(4, 0.9), ceiling=np.log(128.0))
        result.plot({str(tmp_path / "agg.png")!r})
        assert "matplotlib" in sys.modules and "matplotlib.pyplot" not in sys.modules
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "agg.png").stat().st_size > 5_000


def test_a_classical_estimate_is_drawn_as_one_level_without_a_training_curve(gaussians):
    x, z, _ = gaussians
    result = mivb.estimate(x, z, bound="gaussian")
    ax = plot_estimate(result, ax=Figure().subplots())
    levels = horizontal_levels(ax)
    assert levels == {f"estimate on all pairs {result.mi:.3f} ± {result.stderr:.3f}": pytest.approx(result.mi)}
    assert ax.get_ylabel() == "estimate (nats)" and "training batches" not in [line.get_label() for line in ax.lines]


def patch_ys(patch):
    """The data y of a patch's corners (axhspan draws a Rectangle or, before matplotlib 3.9, a Polygon)."""
    return patch.get_patch_transform().transform(patch.get_path().vertices)[:, 1]


def legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def crossfitted(gaussians):
    x, z, _ = gaussians
    with warnings.catch_warnings():  # two folds disagree: a note that the interval is wide
        warnings.simplefilter("ignore")
        return mivb.estimate(x, z, steps=100, batch_size=32, seed=0, folds=2, level=0.9)


@pytest.fixture(scope="module")
def conditional(gaussians):
    x, z, _ = gaussians
    y = x[:, :1] + np.random.default_rng(1).normal(size=(len(x), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mivb.estimate(x, z, given=y, steps=100, batch_size=32, seed=0)


def test_an_interval_is_a_band_labelled_with_its_level(crossfitted):
    low, high = crossfitted.interval
    ax = plot_estimate(crossfitted, ax=Figure().subplots())
    label = f"90% interval ({low:.3f}, {high:.3f}), 2 folds"
    band = next(patch for patch in ax.patches if patch.get_label() == label)
    assert (patch_ys(band).min(), patch_ys(band).max()) == pytest.approx((low, high), rel=1e-12)
    texts = legend_texts(ax)
    assert label in texts and f"cross-fitted estimate {crossfitted.mi:.3f} ± {crossfitted.stderr:.3f}" in texts
    assert "training batches (fold 1 of 2)" in texts  # the curve is one fold's: the first
    curve = ax.get_lines()[0]
    assert np.array_equal(curve.get_ydata(), crossfitted.per_fold[0].history)
    ylow, yhigh = ax.get_ylim()
    assert ylow < low and yhigh > high
    in_bits = plot_estimate(crossfitted, ax=Figure().subplots(), units="bits")
    bits = [value / math.log(2) for value in crossfitted.interval]
    assert f"90% interval ({bits[0]:.3f}, {bits[1]:.3f}), 2 folds" in legend_texts(in_bits)


def test_one_split_draws_no_interval(results):
    ax = plot_estimate(results[0], ax=Figure().subplots())
    assert not any("interval" in text for text in legend_texts(ax))
    assert not any("interval" in patch.get_label() for patch in ax.patches)
    assert "training batches" in legend_texts(ax)


def test_a_conditional_estimate_draws_each_term_and_their_difference(conditional):
    joint, marginal = conditional.terms
    ax = plot_estimate(conditional, ax=Figure().subplots())
    assert ax.get_title() == f"I(X; Z | Y) = I(X; (Z, Y)) - I(X; Y), infonce ({conditional.backend})"
    assert ax.get_ylabel() == "I(X; Z | Y) and its terms (nats)"
    levels = horizontal_levels(ax)
    difference = f"conditional MI (difference of the two) {conditional.mi:.3f} ± {conditional.stderr:.3f}"
    assert levels == {f"I(X; (Z, Y)) held-out {joint.mi:.3f}": pytest.approx(joint.mi, rel=1e-12),
                      f"I(X; Y) held-out {marginal.mi:.3f}": pytest.approx(marginal.mi, rel=1e-12),
                      difference: pytest.approx(conditional.mi, rel=1e-12)}
    curves = {line.get_label(): line.get_ydata() for line in ax.get_lines() if line.get_label() not in levels}
    # each term's own training curve, never one of them passed off as the difference's
    assert np.array_equal(curves["_I(X; (Z, Y)) training batches"], joint.history)
    assert np.array_equal(curves["_I(X; Y) training batches"], marginal.history)
    assert np.allclose(curves["I(X; Y) training, moving average"], (marginal.history[1:] + marginal.history[:-1]) / 2)
    assert not any(label.startswith("training") for label in curves)
    assert "I(X; (Z, Y)) training, moving average" in legend_texts(ax)
    assert conditional.interval is None and not any("interval" in patch.get_label() for patch in ax.patches)


def test_the_legend_stays_below_the_axes_a_near_ceiling_in_view_and_the_reported_critic_named():
    history = np.linspace(0.0, 1.0, 200)
    near = mivb.Estimate(mi=0.9, stderr=0.05, history=history, bound="infonce", backend="torch", config=None,
                         test_values=np.full(4, 0.9), ceiling=1.2, linear_critic=object())
    ax = plot_estimate(near, ax=Figure().subplots())
    assert ax.get_ylim()[1] > 1.2 and not ax.texts  # a ceiling close to the data is drawn in view
    assert "the estimate: the linear critic's, which read more" in legend_texts(ax)
    ax.figure.draw_without_rendering()  # the legend's place is known once laid out
    assert ax.get_legend().get_window_extent().y1 < ax.get_window_extent().y0  # below the axes: never on a curve
    classical = mivb.Estimate(mi=0.5, stderr=0.01, history=np.zeros(0), bound="gaussian", backend="numpy",
                              config=None, test_values=np.full(1, 0.5), kind="classical")
    ax = plot_estimate(classical, ax=Figure().subplots())
    assert ax.get_xlabel() == "" and list(ax.get_xticks()) == []  # no training, no step axis
