"""The machinery every bound shares: [`Bound`][], the registry, and one batch's value (``objective``).

A [`Bound`][] has two parts. ``statistics`` reduces the scores to a few scalars, each a sum or
a logsumexp, so that the scalars of several shards of one batch combine exactly (sums add,
logsumexps logsumexp). ``value`` turns the combined [`Totals`][] into the reported value and
the surrogate whose gradient training follows. One device and data parallelism share both parts:
the only difference is whether the statistics are gathered from other ranks before ``value``.

Everything else the library needs to know of a bound (its float64 reference, its parameters and
their command-line flags, its pointwise rule, whether the linear cross-check applies, its ceiling,
its own notes on an estimate, its conformance tolerance) is an attribute of the object too: no module branches on a
bound's name. The built-in bounds are one module each in this package (``mivb/bounds/<name>.py``);
[`register_bound`][] adds one, as the package's ``__init__`` does for each of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends import backend_of
from ..classical import CLASSICAL
from ..ema import ema_update
from ..errors import (
    InvalidArgumentError,
    InvalidTypeError,
    Shown,
    UnknownNameError,
    describe,
    invalid,
    unknown_name,
)
from ..ops import Array, ArrayOps
from ..scores import MatrixScores, PairedScores, Scores, check_floating, check_full_matrix, check_pos_neg

SUM, LOGSUMEXP = "sum", "logsumexp"  # how one statistic of several shards combines
Statistics = dict[str, tuple[Array, str]]
Gather = Callable[[Array], Array]  # (m,) statistics of this rank -> (W, m) of every rank, differentiable
# What a bound's held-out value is: a lower or an upper bound on I(X; Z), or an estimate that is
# neither in practice (l1out bounds the MI only in expectation and only for the exact q(z | x));
# mivb.estimators() adds "classical".
KINDS = ("lower", "upper", "estimate")
# How closely the conformance suite holds a backend's value on a full matrix to its value on the
# (p, G) taken from it: to rounding of the largest score ("relative"), or that times the value's own
# size for a bound that exponentiates a logsumexp ("exponentiated": value = ... - exp(LME(...))).
TOLERANCES = ("relative", "exponentiated")
# (scores, baseline, params) -> log r per pair: a bound's pointwise rule (mivb.pointwise)
LogRatio = Callable[[np.ndarray, "np.ndarray | None", Mapping[str, Any]], np.ndarray]


@dataclass(frozen=True)
class HeldOut:
    """What a bound's notes hook reads of a finished estimate: the bound's name, the value ``mi``
    read on ``pairs`` held-out pairs, and ``log_ratios(m)``, the trained network's log density ratio
    of the first ``m`` of them (computed only when asked, as it scores the pairs again)."""

    bound: str
    mi: float
    pairs: int
    log_ratios: Callable[[int], np.ndarray]


# (params, held-out) -> (notes, unreliable): a bound's own notes on an estimate (Bound.notes)
NotesHook = Callable[[Mapping[str, Any], HeldOut], tuple[list[str], bool]]


@dataclass(frozen=True)
class Totals:
    """A batch's statistics, combined over every shard: what a bound's value is a function of."""

    ops: ArrayOps
    rows: int  # N, pairs in the whole batch
    negatives_per_row: int  # K
    values: Mapping[str, Array]

    def __getitem__(self, key: str) -> Array:
        return self.values[key]

    def mean(self, key: str) -> Array:
        """A sum over the N positives (or rows), as a mean."""
        return self.values[key] / self.rows

    def mean_negatives(self, key: str) -> Array:
        """A sum over the N * K negatives, as a mean."""
        return self.values[key] / (self.rows * self.negatives_per_row)

    def log_mean_exp(self, key: str) -> Array:
        """A logsumexp over the N * K negatives, as the log of their mean exp (LME of docs/bounds.md)."""
        return self.values[key] - math.log(self.rows * self.negatives_per_row)


@dataclass(frozen=True)
class MovingAverage:
    """A bound's state: an exponential moving average, in log space, of one quantity per batch.

    Belghazi et al. 2018 (MINE, section 3.2). The state is ``{name: scalar}``, NaN while unset;
    each training step folds in ``of(totals)`` (without gradient) before the bound's ``value``
    reads it. Evaluation never folds.
    """

    name: str
    of: Callable[[Totals], Array]

    def init(self, ops: ArrayOps, like: Array) -> dict[str, Array]:
        return {self.name: ops.full_like(like, math.nan)}

    def update(self, ops: ArrayOps, state: Mapping[str, Array], totals: Totals, decay: float) -> dict[str, Array]:
        return {self.name: ema_update(ops, state[self.name], self.of(totals), decay)}


@dataclass(frozen=True)
class Bound:
    """One estimator of I(X; Z) from critic scores.

    Args:
        name: what users pass as ``bound=``.
        statistics: ``(scores, params) -> {key: (scalar, SUM or LOGSUMEXP)}``, from the reductions
            of [`mivb.scores.MatrixScores`][] / [`PairedScores`][].
        value: ``(totals, params, state) -> (value, surrogate)``: the reported value and the
            quantity whose gradient training follows (the same object when they agree).
        summary, paper: one line each, listed by ``mivb bounds``.
        kind: ``"lower"`` or ``"upper"`` bound on the MI, or ``"estimate"`` (a bound only under
            conditions training does not meet, such as ``l1out``'s exact q(z | x)).
        gradient: what the gradient follows, in words.
        critic: the critic kind the bound needs (``"conditional"``: scores that are the log-densities
            of a variational q(z | x), as the upper bounds need), or None for any critic.
        baseline: whether the bound reads a learned log-baseline ``log a(.)`` of each row's sample
            (``scores.baseline``); estimators then train a small network for it beside the critic.
        fit: ``(totals, params) -> what a critic step maximises``, when it is not the bound (the
            upper bounds fit q(z | x) by maximum likelihood, then read the bound off it); None: the
            surrogate of ``value``.
        params: the bound's parameters and their defaults.
        check_params: raises a [`mivb.MivbError`][] for a bad parameter value.
        state: a [`MovingAverage`][] the estimator keeps for this bound, or None.
        reference: ``(pos, neg, params, state) -> (value, d_pos, d_neg)`` in float64, the training
            gradient in closed form (a bound with a baseline also takes ``baseline=`` and returns
            ``d_baseline``); the conformance suite checks every backend against it.
        max_value: ``(K, params) -> the largest value the bound can take`` with K negatives per row,
            for a bound with a ceiling; ``estimate`` notes an estimate near it.
        log_ratio: ``(scores, baseline, params) -> log r per pair`` from a chunk's full score matrix,
            when the bound's optimal critic determines the log density ratio (``mivb.pointwise``);
            None: no pointwise MI.
        linear_crosscheck: whether the bound is a function of the scores alone (no baseline, no
            q(z | x)), so that the Gaussian critic of ``mivb.crosscheck`` can be scored under it
            beside the network, and a note made when it reads clearly more.
        linear_fallback: whether a fixed critic's value on a batch is a lower bound in expectation
            (InfoNCE, NWJ), so that the better of two critics chosen on validation pairs cannot
            overshoot: ``estimate`` may then report the linear critic's value, and read the
            network's on wider batches.
        optimal_offset: the bound's optimal critic is ``optimal_offset + log r`` (NWJ's: 1); the
            linear critic is shifted by it before being scored.
        ceiling_formula: ``max_value`` in words, as the plots label the ceiling (``"log(K + 1)"``).
        notes: ``(params, held_out) -> (notes, unreliable)``, the bound's own notes on an estimate
            (texts from ``mivb.notes.note``) and whether they make it unreliable, from a
            [`HeldOut`][mivb.bounds.HeldOut] (smile's: where many held-out pairs' log ratios exceed its clip, the value
            reads above the MI); the report step calls it for every bound that has one.
        tolerance: the conformance suite's rounding allowance, one of ``TOLERANCES``.
        param_help: one line for each parameter that ``mivb estimate`` sets with a flag
            ``--<parameter>`` (a parameter without it has no flag: ``ba``'s entropy is counted from
            the labels).
        cases: more parameters (and state) the conformance suite checks the bound with, beyond its
            defaults; for a bound with a parameter without default, the first is its example.
    """

    name: str
    statistics: Callable[[Scores, Mapping[str, Any]], Statistics]
    value: Callable[[Totals, Mapping[str, Any], Mapping[str, Array]], tuple[Array, Array]]
    summary: str
    paper: str = ""
    kind: str = "lower"
    gradient: str = "the value"
    critic: str | None = None
    baseline: bool = False
    fit: Callable[[Totals, Mapping[str, Any]], Array] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    check_params: Callable[[Mapping[str, Any]], None] | None = None
    state: MovingAverage | None = None
    reference: Callable[..., tuple[Any, ...]] | None = None
    max_value: Callable[[int, Mapping[str, Any]], float | None] | None = None
    log_ratio: LogRatio | None = None
    linear_crosscheck: bool = False
    linear_fallback: bool = False
    optimal_offset: float = 0.0
    ceiling_formula: str = ""
    notes: NotesHook | None = None
    tolerance: str = "relative"
    param_help: Mapping[str, str] = field(default_factory=dict)
    cases: tuple[Mapping[str, Any], ...] = ()

    def ceiling(self, negatives_per_row: int, params: Mapping[str, Any]) -> float | None:
        """The most this bound can ever read with K negatives per row (InfoNCE: log(K + 1)), if any."""
        return None if self.max_value is None else self.max_value(negatives_per_row, params)

    @property
    def state_names(self) -> tuple[str, ...]:
        return () if self.state is None else (self.state.name,)

    def resolve_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters with defaults filled in; unknown names and bad values are errors."""
        for key in params:
            if key not in self.params:
                choices = ", ".join(repr(p) for p in self.params) or "none"
                raise UnknownNameError(f"{key}: bound {self.name!r} takes the parameters {choices}, "
                                         f"received {key}={params[key]!r}")
        # NumPy scalars (np.float32(5.0)) as the Python numbers they hold: every check takes them
        merged = {**self.params, **{key: value.item() if isinstance(value, np.generic) else value
                                    for key, value in params.items()}}
        if self.check_params is not None:
            self.check_params(merged)
        return merged

    def initial_state(self, ops: ArrayOps, like: Array) -> dict[str, Array]:
        return {} if self.state is None else self.state.init(ops, like)


BOUNDS: dict[str, Bound] = {}


def register_bound(bound: Bound, *, replace: bool = False) -> Bound:
    """Make ``bound`` available by name everywhere: ``mivb.bound``, ``mivb.estimate``, every backend's
    estimators and distributed estimators, ``mivb bounds``, and the conformance suite (against
    ``bound.reference`` when it has one). Returns ``bound``.

    Examples:
        >>> import numpy as np, mivb
        >>> from mivb.bounds import SUM, LOGSUMEXP
        >>> half_dv = mivb.Bound(
        ...     "half_dv", summary="half of Donsker-Varadhan",
        ...     statistics=lambda s, params: {"pos": (s.sum_positives(), SUM), "neg": (s.logsumexp_negatives(), LOGSUMEXP)},
        ...     value=lambda t, params, state: ((t.mean("pos") - t.log_mean_exp("neg")) / 2,) * 2)
        >>> _ = mivb.register_bound(half_dv)
        >>> float(mivb.bound("half_dv", np.eye(3))) == float(mivb.bound("dv", np.eye(3))) / 2
        True
        >>> _ = mivb.unregister_bound("half_dv")
    """
    if not isinstance(bound, Bound):
        raise invalid("bound", "a mivb.Bound", bound, error=InvalidTypeError)
    if not isinstance(bound.name, str) or not bound.name.isidentifier():
        raise invalid("bound.name", "a name made of letters, digits and underscores", bound.name)
    if bound.kind not in KINDS:
        raise unknown_name("bound.kind", bound.kind, KINDS)
    if bound.tolerance not in TOLERANCES:
        raise unknown_name("bound.tolerance", bound.tolerance, TOLERANCES)
    if bound.name in BOUNDS and not replace:
        raise invalid("bound.name", "a name not registered yet (pass replace=True to redefine it)", bound.name)
    if bound.name in CLASSICAL:
        raise invalid("bound.name", "a name no other estimator has (estimate would run that one, never this bound)",
                      bound.name)
    _check_parts(bound)
    BOUNDS[bound.name] = bound
    return bound


def _check_parts(bound: Bound) -> None:
    """A bound's functions are callables, its parameter names strings, and, where every parameter has
    a default, a probe on a 4 x 4 NumPy score matrix gives statistics and a scalar value as
    ``objective`` needs them: mistakes surface here, not deep in training."""
    for part in ("statistics", "value"):
        if not callable(getattr(bound, part)):
            raise invalid(f"bound.{part}", "a function", getattr(bound, part), error=InvalidTypeError)
    for part in ("fit", "check_params", "reference", "max_value", "log_ratio", "notes"):
        if getattr(bound, part) is not None and not callable(getattr(bound, part)):
            raise invalid(f"bound.{part}", "None or a function", getattr(bound, part), error=InvalidTypeError)
    if not isinstance(bound.params, Mapping) or not all(isinstance(key, str) and key.isidentifier()
                                                        for key in bound.params):
        raise invalid("bound.params", "a mapping of parameter names (strings) to their defaults", bound.params)
    if not isinstance(bound.param_help, Mapping) or not set(bound.param_help) <= set(bound.params):
        raise invalid("bound.param_help", "a mapping of some of the bound's parameters to one line of help each",
                      bound.param_help)
    if any(default is None for default in bound.params.values()):
        return  # a parameter without default (ba's entropy): nothing to probe with
    from .._numpy_backend import ops

    scores = MatrixScores(ops, np.log(np.full((4, 4), 0.25)) + 2.0 * np.eye(4),
                          baseline=np.zeros(4) if bound.baseline else None)
    try:
        statistics = bound.statistics(scores, dict(bound.params))
    except Exception as error:
        raise _probe_failed("statistics", error) from error
    if not isinstance(statistics, Mapping) or not all(
            isinstance(key, str) and isinstance(entry, tuple) and len(entry) == 2 and entry[1] in (SUM, LOGSUMEXP)
            for key, entry in statistics.items()):
        raise invalid("bound.statistics", "a function returning a dict {name: (scalar, SUM or LOGSUMEXP)}",
                      Shown(f"a function returning {describe(statistics)}"))
    try:
        value = objective(bound, scores, bound.resolve_params({}), bound.initial_state(ops, scores.positives()))[:2]
    except Exception as error:
        raise _probe_failed("value", error) from error
    for result in value:
        if type(result) in (int, float) or np.shape(result) != () or not isinstance(result, (np.ndarray, np.generic)):
            raise invalid("bound.value", "a function returning (value, surrogate), each a scalar computed from the "
                          "totals (a plain Python number carries no gradient)",
                          Shown(f"a function returning {describe(result)}"))


def _probe_failed(part: str, error: Exception) -> InvalidArgumentError:
    message = f"{type(error).__name__}: {error}"
    return InvalidArgumentError(f"bound.{part}: expected a function that runs on a 4 x 4 score matrix with the "
                                f"default parameters, received one that raised {message[:200]}")


def unregister_bound(name: str) -> Bound:
    """Remove a registered bound; returns it."""
    return BOUNDS.pop(get_bound(name).name)


def get_bound(name: Any) -> Bound:
    if not isinstance(name, str) or name not in BOUNDS:
        raise unknown_name("bound", name, BOUNDS)
    return BOUNDS[name]


def with_gradient_of(ops: ArrayOps, value: Array, surrogate: Array) -> Array:
    """A scalar whose value is ``value`` exactly and whose gradient is that of ``surrogate``.

    Equal to docs/bounds.md's ``surrogate + stop_gradient(value - surrogate)``, but written so the
    forward value is bit-for-bit ``value`` (``s - s`` is exactly zero in IEEE arithmetic), also
    when the surrogate is infinite (``inf - inf`` would be NaN: the zero is put in its place).
    """
    if value is surrogate:
        return value
    zero = surrogate - ops.stop_gradient(surrogate)
    return ops.stop_gradient(value) + ops.where(ops.isnan(zero), ops.full_like(zero, 0.0), zero)


def check_world_size(world_size: Any, rows: int) -> int:
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise invalid("world_size", "a positive integer number of ranks", world_size)
    if rows * world_size < 2:
        raise invalid("pos", "a global batch of N >= 2 pairs", f"{rows} pairs on each of {world_size} ranks")
    return world_size


def totals(scores: Scores, statistics: Statistics, gather: Gather | None = None, world_size: int = 1) -> Totals:
    """The statistics of the whole batch: this shard's, or every rank's combined through ``gather``."""
    ops = scores.ops
    rows = scores.rows * check_world_size(world_size, scores.rows)
    if gather is None:
        values = {key: statistic for key, (statistic, _) in statistics.items()}
    else:
        gathered = gather(ops.stack([statistic for statistic, _ in statistics.values()]))  # (W, m)
        values = {key: (ops.sum if how == SUM else ops.logsumexp)(gathered[:, j])
                  for j, (key, (_, how)) in enumerate(statistics.items())}
    return Totals(ops, rows, scores.negatives_per_row, values)


def objective(bound: Bound, scores: Scores, params: Mapping[str, Any], state: Mapping[str, Array], *,
              decay: float | None = None, gather: Gather | None = None, world_size: int = 1,
              critic_step: bool = False, selection: bool = False) -> tuple[Array, Array, dict[str, Array]]:
    """One batch's ``(value, mi_for_grads, state)``: what every estimator object computes.

    ``critic_step``: the second value's gradient is what a critic step follows (the bound's
    ``fit`` where it has one), not what a user's model differentiates. ``selection``: the first
    value is what picks the best critic on held-out data: the bound's ``fit`` where it has one
    (the likelihood of an upper bound's q: the largest upper bound is never the best one).

    With ``decay`` (a training step), a bound with a moving average first folds this batch into
    ``state``, then reads it; without, ``state`` is read as given (NaN: unset, the batch's own
    quantity stands in). ``gather`` and ``world_size``: ``scores`` are one rank's rows of a global
    batch of ``world_size`` ranks, and ``gather`` is a differentiable all-gather whose backward
    sums the cotangents over ranks; every rank then gets the global value and state, and the
    average over ranks of the gradients is the single-device gradient (mivb/README: data parallelism).
    """
    combined = totals(scores, bound.statistics(scores, params), gather, world_size)
    if decay is not None and bound.state is not None:
        state = bound.state.update(scores.ops, state, combined, decay)
    value, surrogate = bound.value(combined, params, state)
    if critic_step and bound.fit is not None:
        surrogate = bound.fit(combined, params)
    if selection and bound.fit is not None:
        value = bound.fit(combined, params)
    return value, with_gradient_of(scores.ops, value, surrogate), dict(state)


def bound(name: str, *scores: Array, baseline: Array | None = None, **params: Any) -> Array:
    """A variational bound on I(X; Z) from critic scores, in nats.

    Call it as ``bound(name, scores)`` with the full (N, N) matrix ``scores[i, j] = T(x_i, z_j)``,
    or as ``bound(name, pos, neg)`` with the positive scores ``pos`` (N,) and the negative scores
    ``neg`` (N, K). The backend is that of the arrays (NumPy, torch, JAX or TensorFlow) and the
    result is a scalar of the same framework: its value is the bound as [the bounds][the-bounds]
    define it and, in the frameworks with autodiff, its gradient is the one training follows (for
    example ``js`` and ``smile`` follow the Jensen-Shannon objective, ``mine`` its EMA-corrected
    surrogate).

    NaN scores are an error for NumPy arrays. Framework tensors are not checked (a NaN gives NaN):
    inside a training loop a check would cost a device-to-host synchronisation every step.
    Infinite scores are allowed and give the bound's limit (for example ``-inf`` for ``dv`` when a
    negative score is ``+inf``). Half-precision scores (float16, bfloat16) are reduced in float32
    and give a float32 value, which cannot overflow where float16 would (at about |11|).

    Args:
        name: a registered bound: ``dv``, ``mine``, ``nwj``, ``infonce``, ``js``, ``smile``, or
            one added with [`register_bound`][]; see ``mivb.BOUNDS``.
        *scores: either the full matrix, or ``pos`` and ``neg``. For the upper bounds (``club``,
            ``l1out``) the scores are log-densities of a variational conditional, row i holding
            ``log q(z_i | x_j)`` for every j (its positive ``log q(z_i | x_i)``).
        baseline: for ``tuba`` and ``alpha``, the learned log-baseline ``log a(x_i)`` of each
            row, shape (N,); None is ``log a = 0``. An error for the other bounds.
        **params: the bound's parameters (``clip`` for ``smile``: default 5.0, None for none;
            ``alpha`` for ``alpha``: default 0.01) and
            its state (``log_ema`` for ``mine``: the updated moving average in log space, a number
            or a scalar of the scores' framework; unset, the batch's own average stands in).

    Examples:
        >>> import numpy as np, mivb
        >>> round(float(mivb.bound("infonce", np.eye(3) * 2.0)), 6)
        0.859068
    """
    if len(scores) not in (1, 2):
        raise invalid("scores", "one full (N, N) matrix, or pos (N,) and neg (N, K)", f"{len(scores)} arrays")
    arguments = dict(zip(("scores",) if len(scores) == 1 else ("pos", "neg"), scores))
    definition = get_bound(name)
    if baseline is not None:
        if not definition.baseline:
            with_one = ", ".join(repr(b.name) for b in BOUNDS.values() if b.baseline)
            raise invalid("baseline", f"None: bound {name!r} has no baseline (bounds with one: {with_one})",
                          baseline)
        rows = scores[0].shape[0]
        if tuple(getattr(baseline, "shape", ())) != (rows,):
            raise invalid("baseline", f"a 1-D array of N={rows} log-baselines, one per row", baseline)
        arguments["baseline"] = baseline
    adapter = backend_of(**arguments)
    if len(scores) == 1:
        check_full_matrix(scores[0])
    else:
        check_pos_neg(*scores)
    check_floating(**arguments)
    for argument, array in arguments.items():
        if isinstance(array, np.ndarray) and np.isnan(array).any():  # free to check on the host
            raise invalid(argument, f"scores without NaN (found {int(np.isnan(array).sum())})", array)
    upcast = {key: adapter.ops.upcast(array) for key, array in arguments.items()}
    if len(scores) == 1:
        layout: Scores = MatrixScores(adapter.ops, upcast["scores"], baseline=upcast.get("baseline"))
    else:
        layout = PairedScores(adapter.ops, upcast["pos"], upcast["neg"], baseline=upcast.get("baseline"))
    bound, params, state = call_arguments(name, params, adapter.ops, layout.positives())
    return objective(bound, layout, params, state)[1]


def call_arguments(name: str, arguments: Mapping[str, Any], ops: ArrayOps,
                   like: Array) -> tuple[Bound, dict[str, Any], dict[str, Array]]:
    """A bound called by name: its definition, its parameters and its state, from keyword arguments
    that mix the two (the bound's declarations tell them apart). A state not given is unset."""
    spec = get_bound(name)
    params = spec.resolve_params({key: value for key, value in arguments.items() if key not in spec.state_names})
    state = spec.initial_state(ops, like)
    for key in spec.state_names:
        if arguments.get(key) is not None:
            state[key] = _state_scalar(ops, key, arguments[key], like)
    return spec, params, state


def _state_scalar(ops: ArrayOps, key: str, given: Any, like: Array) -> Array:
    """A state value given by the caller: a number, or a floating-point scalar of the scores' framework."""
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        return ops.full_like(like, float(given))
    if getattr(given, "shape", None) == () and "float" in str(getattr(given, "dtype", "")):
        return given
    raise invalid(key, "None, a number or a floating-point scalar of the scores' framework", given)

