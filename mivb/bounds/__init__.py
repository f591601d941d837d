"""The bounds of docs/bounds.md, one module each, and the registry that names them.

Each built-in bound is a module of this package (``dv.py``, ``infonce.py``, ...) defining one
[`Bound`][] as ``BOUND``: its statistics and value, its float64 reference, its parameters, its
pointwise rule, whether the linear cross-check applies, its ceiling, its own notes and its conformance
tolerance, with a docstring giving the formula and the paper. ``UNITS`` below registers them, in
the order ``mivb bounds`` lists them; [`register_bound`][] adds a bound defined anywhere else, the
same kind of object. The machinery they share is in ``_core.py``.

Adding a built-in bound is one new module here plus its entry in ``UNITS`` (docs/architecture.md,
"Adding a bound").
"""

from __future__ import annotations

from . import alpha, ba, club, dv, infonce, js, l1out, mine, nwj, smile, tuba
from ._core import (
    BOUNDS,
    KINDS,
    LOGSUMEXP,
    SUM,
    TOLERANCES,
    Bound,
    Gather,
    HeldOut,
    LogRatio,
    MovingAverage,
    NotesHook,
    Statistics,
    Totals,
    bound,
    call_arguments,
    check_world_size,
    get_bound,
    objective,
    register_bound,
    totals,
    unregister_bound,
    with_gradient_of,
)
from ._shared import jensen_shannon, positives_and_negatives

# The registry: every built-in bound's module, in the order they are listed.
UNITS = (dv, mine, nwj, infonce, js, smile, tuba, alpha, ba, club, l1out)
for _unit in UNITS:
    register_bound(_unit.BOUND)
# `mivb demo`'s bounds when none are named: the default's InfoNCE beside two without a ceiling.
DEMO = (infonce.BOUND.name, smile.BOUND.name, mine.BOUND.name)

__all__ = [
    "BOUNDS",
    "DEMO",
    "KINDS",
    "LOGSUMEXP",
    "SUM",
    "TOLERANCES",
    "UNITS",
    "Bound",
    "Gather",
    "HeldOut",
    "LogRatio",
    "MovingAverage",
    "NotesHook",
    "Statistics",
    "Totals",
    "bound",
    "call_arguments",
    "check_world_size",
    "get_bound",
    "jensen_shannon",
    "objective",
    "positives_and_negatives",
    "register_bound",
    "totals",
    "unregister_bound",
    "with_gradient_of",
]
