"""``mivb.independence_test``: is there any dependence between X and Z at all? A permutation test."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from ._progress import in_notebook
from .arguments import EstimateArguments
from .catalogue import estimators
from .classical import CLASSICAL
from .errors import invalid, unknown_name
from .estimate import estimate
from .intervals import check_level
from .notes import explain, note
from .pipeline import classical_inputs, result, seed_or_drawn, trained_inputs
from .protocol import fit, score
from .result import Estimate
from .schedule import check_positive_int
from .streams import is_stream
from .tables import from_table

MAX_PERMUTATIONS = 1_000_000  # the null's values are kept: 8 MB; 10**12 asked for 7 TiB
# seconds: a permutation loop projected longer is refused before it runs (KSG's default 199
# shuffles of 100,000 pairs would take hours; KSG alone refuses a run over 60 s).
PERMUTATION_SECONDS_LIMIT = 1800.0


@dataclass(frozen=True)
class IndependenceTest:
    """The result of [`independence_test`][].

    ``statistic`` is the estimate on the test pairs (``estimate`` holds it in full), ``null`` the
    same statistic on each shuffle of z, ``p_value`` = (1 + #{null >= statistic}) / (1 +
    permutations); ``dependent`` is ``p_value <= level``. ``notes`` say when the answer is
    shaky: too few permutations to reach the level comfortably, a p-value within Monte Carlo
    error of the level, a statistic that is unreliable.
    """

    statistic: float
    p_value: float
    level: float
    permutations: int
    estimate: Estimate = field(repr=False)
    null: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def dependent(self) -> bool:
        return self.p_value <= self.level

    def explain(self, code: str | None = None) -> str:
        """The long explanation of each note, by its code; with ``code``, that code's alone (see
        [`Estimate.explain`][mivb.Estimate.explain])."""
        return explain(self.notes, code)

    def __repr__(self) -> str:
        verdict = "dependent" if self.dependent else "no dependence shown"
        notes = f", notes={list(self.notes)}" if self.notes else ""
        return (f"IndependenceTest(p_value={self.p_value:.4g}, {verdict} at level {self.level:g}, "
                f"statistic={self.statistic:.4f} nats ({self.estimate.bound}), permutations={self.permutations}"
                f"{notes})")


def independence_test(x: Any, z: Any = None, *, bound: str = "infonce", permutations: int = 199,
                      level: float = 0.05, **options: Any) -> IndependenceTest:
    """Test the hypothesis that X and Z are independent, with a permutation p-value.

    For a variational bound, the critic is trained as [`mivb.estimate`][mivb.estimate.estimate] trains it (on the
    training split, stopped on the validation split); the statistic is its held-out value on the
    test split, pairs that took no part in training. Then z is shuffled within the test split,
    ``permutations`` times, and the same critic scores each shuffle on the same test batches.
    Under independence the test pairs and their shuffles are exchangeable and the critic does not
    depend on them, so the p-value is exact at every sample size, whatever the critic learned; a
    poor critic costs power, never validity. Only the test split (``test_fraction``, 20% by
    default) carries the statistic: a larger share can raise power. For a classical estimator
    (``ksg``, ``gaussian``), the statistic is the estimator on all pairs, recomputed on each
    shuffle of z (the shuffle test of KSG), at ``permutations`` times its cost.

    Args:
        x, z: paired samples, as [`mivb.estimate`][mivb.estimate.estimate] takes them.
        bound: any name of ``mivb.estimators()``; ``infonce`` (default) has the lowest variance.
        permutations: shuffles of z; the smallest p-value is 1 / (1 + permutations), so at least
            1 / level - 1 are needed (19 for level 0.05), and a few hundred make the decision firm.
        level: the test's size: ``dependent`` is ``p_value <= level``.
        **options: any other option of [`mivb.estimate`][mivb.estimate.estimate] (``backend``, ``steps``, ``seed``,
            ``test_fraction``, ``data`` with x and z as names, ...) and the bound's parameters;
            not ``folds`` or ``given``.

    Returns:
        An [`IndependenceTest`][].
    """
    if options.get("data") is not None:
        x, z = from_table(options.pop("data"), x=x, z=z).values()
    if is_stream(x, z):
        raise invalid("x", "arrays x and z, not a stream: the test shuffles z among the test pairs and scores every "
                      "shuffle, which a stream read once cannot give", x)
    if z is None:
        raise invalid("z", "samples paired with x", z)
    if not isinstance(bound, str) or bound not in estimators():
        raise unknown_name("bound", bound, estimators())
    permutations = check_positive_int("permutations", permutations)
    if permutations > MAX_PERMUTATIONS:
        raise invalid("permutations", f"at most {MAX_PERMUTATIONS:,} (a p-value resolution of "
                      f"{1 / (1 + MAX_PERMUTATIONS):.0e}, far below any level)", permutations)
    level = check_level(level)
    if 1 / (1 + permutations) > level:
        raise invalid("permutations", f"at least {math.ceil(1 / level - 1)} to reach level={level:g} (the smallest "
                      f"p-value is 1 / (1 + permutations))", permutations)
    for name in ("folds", "given"):
        if options.get(name) is not None:
            raise invalid(name, "None: the test trains one critic on one split and conditions on nothing",
                          options[name])
    # The statistic is the network's: the null scores the network on shuffles, never the linear critic.
    arguments = replace(_arguments(bound, options), linear_fallback=False)
    rng = np.random.default_rng(np.random.SeedSequence(arguments.seed).spawn(5)[4])  # not the protocol's streams
    null = np.empty(permutations)
    if bound in CLASSICAL:
        started = time.perf_counter()
        found = estimate(x, z, bound=arguments.name, seed=arguments.seed, **arguments.options(),
                         **arguments.bound_params)
        _check_time(bound, time.perf_counter() - started, permutations)  # each shuffle costs what the statistic did
        estimator, params, xs, zs, _ = classical_inputs(x, z, arguments)

        def shuffled(k: int) -> float:
            return float(estimator.function(xs, zs[rng.permutation(len(zs))], **params)[0])
    else:
        config, x_all, z_all, labels = trained_inputs(x, z, arguments)
        fitted = fit(x_all, z_all, config, labels, arguments.progress, arguments.callback)
        found = result(fitted, warn=False)

        def shuffled(k: int) -> float:
            started = time.perf_counter()
            x_test, z_test = fitted.test_pairs
            fitted.trainer.put("shuffled", x_test, z_test[rng.permutation(len(z_test))])
            values, _ = score(fitted.trainer, np.random.default_rng(fitted.test_seed), "shuffled", fitted.test_size,
                              fitted.config)
            if k == 1:  # the second shuffle: the first may include compiling the scoring of a new split
                _check_time(bound, time.perf_counter() - started, permutations)
            return float(values.mean())
    bar = _bar(permutations, arguments.progress, bound)
    try:
        for k in range(permutations):
            null[k] = shuffled(k)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    # A NaN on either side counts as reaching the statistic: the p-value errs towards 1, never 0.
    p_value = (1 + int(np.sum(~(null < found.mi)))) / (1 + permutations)
    return IndependenceTest(found.mi, p_value, level, permutations, found, null,
                            tuple(_notes(found, p_value, level, permutations)))


def _check_time(bound: str, seconds: float, permutations: int) -> None:
    """Refuse a permutation loop projected to take longer than ``PERMUTATION_SECONDS_LIMIT``."""
    projected = seconds * permutations
    if projected > PERMUTATION_SECONDS_LIMIT:
        fits = max(1, int(PERMUTATION_SECONDS_LIMIT / max(seconds, 1e-9)))
        raise invalid("permutations", f"at most about {fits} here: each shuffle takes {seconds:.3g} s with {bound}, so "
                      f"{permutations} would take about {projected:.3g} s, over the {PERMUTATION_SECONDS_LIMIT:g} s "
                      f"allowed; use fewer permutations, fewer pairs or a trained bound", permutations)


def _bar(permutations: int, progress: bool | None, bound: str) -> Any:
    """A tqdm bar over the shuffles, shown as estimate's training bar is (``progress``)."""
    if not ((sys.stderr.isatty() or in_notebook()) if progress is None else bool(progress)):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=permutations, desc=f"mivb {bound} permutations", unit="shuffle", file=sys.stderr, leave=True,
                dynamic_ncols=True)


def _arguments(bound: str, options: dict[str, Any]) -> EstimateArguments:
    """estimate's arguments: its defaults, the options given, the rest as bound parameters; a seed."""
    names = {f.name for f in fields(EstimateArguments)} - {"bound", "bound_params"}
    given = {key: value for key, value in options.items() if key in names}
    return EstimateArguments(**{**given, "seed": seed_or_drawn(given.get("seed"))}, bound=bound,
                             bound_params={k: v for k, v in options.items() if k not in names})


def _notes(found: Estimate, p_value: float, level: float, permutations: int) -> list[str]:
    notes = []
    if (1 + permutations) * level < 10:
        notes.append(note("few-permutations", permutations=permutations, smallest=1 / (1 + permutations), level=level,
                          needed=math.ceil(10 / level) - 1))
    monte_carlo = math.sqrt(p_value * (1 - p_value) / permutations)
    if abs(p_value - level) < 2 * monte_carlo:
        notes.append(note("p-near-level", p_value=p_value, error=monte_carlo, level=level))
    if found.unreliable:
        notes.append(note("unreliable-statistic"))
    return notes
