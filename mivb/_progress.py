"""How ``mivb.estimate`` reports on training: a tqdm bar, a callback, and the ``"mivb"`` logger.

After each chunk of training (the steps between two validation checks, at most 100) the
``Monitor`` advances the bar, logs one DEBUG record, and calls the user's callback with a
[`TrainingProgress`][]; when training ends it finishes the bar with the reason (the line is
always ended, so what is printed next starts on its own line) and logs it at INFO.

tqdm is imported only when a bar is shown, so ``import mivb`` still imports NumPy alone.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidTypeError, invalid

if TYPE_CHECKING:
    from .diagnosis import TrainingRun
    from .result import EstimateConfig

LOGGER = logging.getLogger("mivb")


@dataclass(frozen=True)
class TrainingProgress:
    """What ``estimate``'s ``callback`` receives after each chunk of training (immutable).

    Attributes:
        step: the steps trained so far; the last call's ``step`` is ``len(result.history)`` (unless training
            diverged in the chunk after it).
        steps: the most steps the run may take (``config.steps``).
        value: the training value (nats) at the chunk's last step, ``result.history[step - 1]``.
        mean: the mean training value over the chunk (less noisy than ``value``).
        validation: the validation score at this check, as in ``result.validation`` (``-inf`` for a
            score no bound can take); None without early stopping (no validation split).
        best_step: the step of the critic that would be kept if training ended now: the best on
            validation so far with early stopping, else ``step``.
    """

    step: int
    steps: int
    value: float
    mean: float
    validation: float | None
    best_step: int


def check_callback(callback: object) -> None:
    if callback is not None and not callable(callback):
        raise invalid("callback", "None or a function taking one mivb TrainingProgress record (step, steps, value, "
                      "mean, validation, best_step)", callback, error=InvalidTypeError)


def check_progress(progress: object) -> None:
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise invalid("progress", "None (a bar when stderr is a terminal or in a notebook), True or False",
                      progress, error=InvalidTypeError)


def in_notebook() -> bool:
    """Whether stderr goes to a Jupyter kernel's front end (a notebook in Jupyter, VS Code or Colab;
    JupyterLite), where tqdm.auto draws a widget (a text bar without ipywidgets)."""
    return type(sys.stderr).__module__.startswith("ipykernel") or "IPython.utils._process_emscripten" in sys.modules


def stop_reason(run: TrainingRun, config: EstimateConfig, by_callback: bool) -> str:
    """Why training ended, in words: "stopped early at step 609 (best at 390)", "diverged at step 13",
    "stopped by the callback at step 300", "the stream ran dry at step 109", "all 5000 steps"."""
    steps = len(run.history)
    best = f" (best at {run.best_step})" if config.early_stopping else ""
    if run.diverged_at is not None:
        return f"diverged at step {run.diverged_at}"
    if by_callback:
        return f"stopped by the callback at step {steps}{best}"
    if run.ran_dry:
        return f"the stream ran dry at step {steps}{best}"
    if run.stopped_early:
        return f"stopped early at step {steps}{best}"
    return f"all {steps} steps{best}"


class Monitor:
    """The bar, the log and the callback of one training run."""

    def __init__(self, config: EstimateConfig, progress: bool | None,
                 callback: Callable[[TrainingProgress], Any] | None) -> None:
        self.config, self.callback, self.stopped_by_callback = config, callback, False
        self.label = f"{config.bound}/{config.backend}"
        show = (sys.stderr.isatty() or in_notebook()) if progress is None else bool(progress)
        self.bar = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=config.steps, desc=f"mivb {self.label}", unit="step", file=sys.stderr, leave=True,
                            dynamic_ncols=True)

    def chunk(self, step: int, values: np.ndarray, validation: float | None, best_step: int) -> bool:
        """Report a chunk ending at ``step``; True when the callback asks to stop."""
        record = TrainingProgress(step=step, steps=self.config.steps, value=float(values[-1]),
                                  mean=float(np.mean(values)), validation=validation, best_step=best_step)
        if self.bar is not None:
            self.bar.set_postfix_str(f"mi={record.value:.3f}", refresh=False)
            self.bar.update(step - self.bar.n)
        if LOGGER.isEnabledFor(logging.DEBUG):
            score = "" if validation is None else f", validation {validation:.4f}, best at step {best_step}"
            LOGGER.debug("%s: step %d/%d: training %.4f (chunk mean %.4f)%s", self.label, step, self.config.steps,
                         record.value, record.mean, score)
        stop = None if self.callback is None else self.callback(record)
        # Only True stops (a callback that returns, say, the characters it wrote goes on); after the
        # last step there is nothing left to stop.
        if isinstance(stop, (bool, np.bool_)) and stop and step < self.config.steps:
            self.stopped_by_callback = True
            LOGGER.debug("%s: the callback asked to stop at step %d", self.label, step)
        return self.stopped_by_callback

    def finish(self, run: TrainingRun) -> str:
        """End the bar's line with the reason training stopped, log it, and return it."""
        reason = stop_reason(run, self.config, self.stopped_by_callback)
        if self.bar is not None:
            bar, steps = self.bar, len(run.history)
            bar.set_postfix_str(reason, refresh=False)
            bar.update(steps - bar.n)
            if run.diverged_at is None:  # a run that ended well is complete at its own length, not "12%"
                bar.total = steps
                container = getattr(bar, "container", None)  # a notebook widget keeps its own maximum
                if container is not None:
                    container.children[1].max = steps
            bar.close()
            self.bar = None
        LOGGER.info("%s: %s", self.label, reason)
        return reason

    def close(self) -> None:
        """End the bar's line when training raised (an interrupt): never leave the cursor after it."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

