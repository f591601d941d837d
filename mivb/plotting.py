"""Plots of estimates: the training curve, the held-out estimate, its interval, the InfoNCE ceiling and the truth.

matplotlib is imported here only when something is drawn, so ``import mivb`` never needs it.
Figures written to a file are drawn on a bare Figure with the Agg canvas, which works without a
display and leaves pyplot's global state (and an interactive session's backend) alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .bounds import BOUNDS
from .errors import PlottingNotAvailableError, invalid, unknown_name


class _Level(Protocol):
    @property
    def level(self) -> float: ...


class PlottedEstimate(Protocol):
    """What a plot reads of a [`mivb.Estimate`][]. A protocol, not an import of the class:
    ``Estimate.plot`` imports this module, which would otherwise import it back in a circle."""

    @property
    def mi(self) -> float: ...
    @property
    def stderr(self) -> float: ...
    @property
    def history(self) -> np.ndarray: ...
    @property
    def bound(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def config(self) -> _Level: ...
    @property
    def ceiling(self) -> float | None: ...
    @property
    def diverged_at(self) -> int | None: ...
    @property
    def interval(self) -> tuple[float, float] | None: ...
    @property
    def per_fold(self) -> tuple[PlottedEstimate, ...]: ...
    @property
    def terms(self) -> tuple[PlottedEstimate, ...]: ...

PLOT_INSTALL = 'pip install "mivb[plot]"'
UNIT_SCALES = {"nats": 1.0, "bits": 1.0 / math.log(2.0)}
SMOOTHING_WINDOWS = 50  # the moving average spans 1/50 of training
PANEL_SIZE = (5.0, 4.4)  # inches per panel, its legend below the axes included
# A ceiling that would stretch the value axis by more than this share of the data's span is left out
# of the view and named in the legend: at log 128 above an MI of 2, it squashed the curve to a strip.
CEILING_STRETCH = 0.5
PANELS_PER_ROW = 3
DPI = 120


def check_plot_path(path: str | Path) -> Path:
    """Fail before a long training run rather than after it: matplotlib must be installed, the
    suffix a format matplotlib writes, and the folder must exist."""
    _require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(path)
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in formats:
        raise invalid("plot", f"a file name ending in a format matplotlib writes ({', '.join(sorted(formats))})",
                      str(path))
    if not path.parent.is_dir():
        raise invalid("plot", "a file in an existing folder", str(path))
    return path


def plot_estimate(result: PlottedEstimate, ax: Any = None, truth: float | None = None, *, units: str = "nats",
                  path: str | Path | None = None) -> Any:
    """Draw one estimate: the training value per step (and its moving average), the held-out
    estimate with its standard error, its interval (with ``folds``: a hatched band labelled with
    the level), InfoNCE's ceiling log(K + 1), and ``truth`` (nats) when known.

    With ``folds``, the training curve is the first fold's. A conditional estimate (``given=``,
    kind ``"difference"``) has no training curve of its own: each term's is drawn, I(X; (Z, Y))
    and I(X; Y), with its held-out value, and the difference between them is the estimate.

    Draws on ``ax``, or on a new figure when None; with ``path``, also writes the figure there.
    Returns the matplotlib Axes.
    """
    scale = _unit_scale(units)
    path = None if path is None else check_plot_path(path)
    if ax is None:
        _, (ax,) = _figure(1, path is not None)
    _draw(ax, result, truth, scale, units)
    if path is not None:
        ax.figure.savefig(path, dpi=DPI)
    return ax


def plot_demo(results: Sequence[PlottedEstimate], truth: float, path: str | Path) -> Path:
    """Write one panel per bound (training curve, held-out estimate, truth) side by side, on a
    shared value axis so the bounds compare at a glance."""
    if not results:
        raise invalid("results", "at least one estimate to plot", results)
    path = check_plot_path(path)
    figure, axes = _figure(len(results), True)
    for ax, result in zip(axes, results):
        _draw(ax, result, truth, 1.0, "nats")
    lows, highs = zip(*(ax.get_ylim() for ax in axes))
    for ax in axes:
        ax.set_ylim(min(lows), max(highs))
    figure.suptitle(f"Correlated Gaussians, true I(X; Z) = {truth:.3f} nats")
    figure.savefig(path, dpi=DPI)
    return path


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlottingNotAvailableError(f"plotting needs matplotlib: {PLOT_INSTALL}") from None


def _unit_scale(units: str) -> float:
    if units not in UNIT_SCALES:
        raise unknown_name("units", units, UNIT_SCALES)
    return UNIT_SCALES[units]


def _figure(panels: int, for_file: bool) -> tuple[Any, list[Any]]:
    _require_matplotlib()
    rows = -(-panels // PANELS_PER_ROW)
    columns = -(-panels // rows)  # rows filled evenly: 4 panels are 2 x 2, not 3 and 1
    size = (PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows)
    if for_file:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=size, layout="constrained")
        FigureCanvasAgg(figure)
        grid = figure.subplots(rows, columns, squeeze=False)
    else:
        import matplotlib.pyplot as plt

        figure, grid = plt.subplots(rows, columns, figsize=size, squeeze=False, layout="constrained")
    axes = list(grid.flat)
    for unused in axes[panels:]:
        unused.remove()
    return figure, axes[:panels]


TERM_NAMES = ("I(X; (Z, Y))", "I(X; Y)")  # the terms of a conditional estimate, result.terms
TERM_COLORS = ("C0", "C2")
QUANTITIES = {"lower": "lower bound", "upper": "upper bound", "classical": "estimate", "estimate": "estimate",
              "difference": "I(X; Z | Y) and its terms"}


def _draw(ax: Any, result: PlottedEstimate, truth: float | None, scale: float, units: str) -> None:
    levels: list[float] = []
    curves: list[np.ndarray] = []
    folds = f" (fold 1 of {len(result.per_fold)})" if result.per_fold else ""
    if result.kind == "difference":  # its history is the joint term's: draw each term's, never as the difference's
        for term, name, color in zip(result.terms, TERM_NAMES, TERM_COLORS):
            curves.append(_curve(ax, term.history, scale, color, f"{name} ", folds, legend_batches=False))
            if math.isfinite(term.mi):
                ax.axhline(term.mi * scale, color=color, linestyle="--", linewidth=1,
                           label=f"{name} held-out {term.mi * scale:.3f}")
                levels.append(term.mi * scale)
    else:
        curves.append(_curve(ax, result.history, scale, "C0", "", folds))
    history = np.concatenate([np.zeros(0), *curves])
    mi, stderr = result.mi * scale, result.stderr * scale
    if math.isfinite(mi):
        which = {"classical": "estimate on all pairs", "difference": "conditional MI (difference of the two)"}.get(
            result.kind, "cross-fitted estimate" if result.per_fold else "held-out estimate")
        which = "copula estimate" if result.bound == "copula" and not result.per_fold else which  # training pairs' model
        ax.axhline(mi, color="C1", linewidth=2, label=f"{which} {mi:.3f} ± {stderr:.3f}")
        levels.append(mi)
        if math.isfinite(stderr):
            ax.axhspan(mi - stderr, mi + stderr, color="C1", alpha=0.25, linewidth=0)
    if result.interval is not None and all(math.isfinite(bound) for bound in result.interval):
        low, high = (bound * scale for bound in result.interval)
        percent = f"{result.config.level * 100:.10g}%"
        ax.axhspan(low, high, facecolor="none", edgecolor="C1", hatch="//", linewidth=0.8, alpha=0.6,
                   label=f"{percent} interval ({low:.3f}, {high:.3f})"
                         + (f", {len(result.per_fold)} folds" if result.per_fold else ""))
        levels += [low, high]
    ceiling = None if result.ceiling is None else result.ceiling * scale
    if ceiling is not None:
        formula = BOUNDS[result.bound].ceiling_formula if result.bound in BOUNDS else ""
        ax.axhline(ceiling, color="0.4", linestyle="--", label=f"{result.bound} ceiling {formula} = {ceiling:.3f}")
    if truth is not None:
        ax.axhline(truth * scale, color="black", linestyle=":", label=f"true MI {truth * scale:.3f}")
        levels.append(truth * scale)
    if result.diverged_at is not None:
        ax.axvline(result.diverged_at, color="C3", linestyle="-.", label=f"diverged at step {result.diverged_at}")
    # why the estimate can sit above the network's curve: a legend entry, no line
    if result.kind == "lower" and getattr(result, "linear_critic", None) is not None:
        ax.plot([], [], linestyle="none", label="the estimate: the linear critic's, which read more")
    elif (lower := getattr(result, "lower", None)) is not None and len(result.history):  # a fitted model's
        if math.isfinite(lower.mi):  # the network's held-out InfoNCE, beside the copula's estimate
            ax.axhline(lower.mi * scale, color="C2", linestyle="--", linewidth=1,
                       label=f"network's held-out InfoNCE{folds} {lower.mi * scale:.3f}")
            levels.append(lower.mi * scale)
        ax.plot([], [], linestyle="none", label="estimate: the copula's; curve: the network's")
    low, high = _value_range(history, levels)
    if ceiling is not None and ceiling > high + CEILING_STRETCH * (high - low):
        # inside the top left corner, where a training curve starts low: above the axes it ran into the title
        ax.annotate(f"ceiling {ceiling:.2f} above", xy=(0.02, 0.98), xycoords="axes fraction", ha="left", va="top",
                    fontsize="small", color="0.4")
    elif ceiling is not None:
        low, high = _value_range(history, [*levels, ceiling])
    ax.set_ylim(low, high)
    title = f"{result.bound} ({result.backend})"
    if getattr(result.config, "bound", None) == "auto":  # estimate's default: the copula, or the network's InfoNCE
        title = f"default: {title}"
    if result.kind == "difference":
        title = f"I(X; Z | Y) = I(X; (Z, Y)) - I(X; Y), {title}"
    trained = len(history) > 0
    ax.set(title=title, xlabel="training step" if trained else "", ylabel=f"{QUANTITIES[result.kind]} ({units})")
    if not trained:  # a classical estimate: no training, so no step axis
        ax.set_xticks([])
    # below the axes, where it can never cover a curve
    # one column: two ran wider than a panel, into the next panel's legend and off the figure's edge
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16 if trained else -0.04), ncol=1, fontsize="small",
              frameon=False)


def _curve(ax: Any, values: np.ndarray, scale: float, color: str, prefix: str, suffix: str,
           legend_batches: bool = True) -> np.ndarray:
    """The training value per step and its moving average, labelled ``{prefix}training ...{suffix}``;
    the values drawn. Without ``legend_batches`` the raw curve is left out of the legend when the
    moving average is in it (a conditional plot has two curves of each)."""
    history = np.where(np.isfinite(values), values, np.nan) * scale
    steps = np.arange(1, len(history) + 1)
    window = len(history) // SMOOTHING_WINDOWS
    if len(history):  # a classical estimate has no training curve
        label = f"{prefix}training batches{suffix}"
        ax.plot(steps, history, color=color, alpha=0.35, linewidth=0.8,
                label=label if legend_batches or window < 2 else f"_{label}")
    if window >= 2:
        smoothed = np.convolve(history, np.full(window, 1.0 / window), mode="valid")
        ax.plot(steps[window - 1:], smoothed, color=color, label=f"{prefix}training, moving average{suffix}")
    return history


def _value_range(history: np.ndarray, levels: list[float]) -> tuple[float, float]:
    """Limits that show the lines and the bulk of the curve: the first steps of dv or nwj can sit
    orders of magnitude below the rest and would flatten everything else."""
    finite = history[np.isfinite(history)]
    values = levels + ([float(np.percentile(finite, 1)), float(np.percentile(finite, 99.5))] if finite.size else [])
    if not values:
        return -1.0, 1.0
    low, high = min(values), max(values)
    pad = 0.08 * (high - low) or 0.5
    return low - pad, high + pad

