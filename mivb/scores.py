"""Critic scores in the two layouts of [the bounds contract][the-bounds], and the reductions every bound is made of.

A bound never sees the layout: it asks a [`MatrixScores`][] or a [`PairedScores`][] for a
few sums and logsumexps over the positive and the negative scores. The full matrix answers them
directly, masking its diagonal, so no copy of its N * (N - 1) negatives is ever built; the same
object answers for one rank's rows of a matrix spread over several devices (``offset``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import InvalidTypeError, invalid
from .ops import Array, ArrayOps

Elementwise = Callable[[Array], Array]


def _identity(x: Array) -> Array:
    return x


@dataclass(frozen=True)
class MatrixScores:
    """Rows of the full matrix ``S[i, j] = T(x_i, z_j)``: row i's positive is at column ``offset + i``.

    One device holds all N rows (``offset=0``); rank r of W holds rows ``r * n`` to ``(r + 1) * n``
    of the global N x N matrix and passes ``offset=r * n``.
    """

    ops: ArrayOps
    scores: Array
    offset: int = 0
    baseline: Array | None = None  # (rows,) log a(.) of each row's sample, for the bounds with a baseline

    @property
    def rows(self) -> int:
        rows: int = self.scores.shape[0]
        return rows

    @property
    def negatives_per_row(self) -> int:
        negatives: int = self.scores.shape[1] - 1
        return negatives

    def positives(self) -> Array:
        return self.ops.diagonal(self.scores, self.offset)

    def sum_positives(self, f: Elementwise = _identity) -> Array:
        return self.ops.sum(f(self.positives()))

    def negatives(self) -> Array:
        """The scores laid out as the ``*_negatives_of`` reductions read them: here the whole matrix."""
        return self.scores

    def sum_negatives(self, f: Elementwise = _identity) -> Array:
        return self.sum_negatives_of(f(self.scores))

    def logsumexp_negatives(self, f: Elementwise = _identity) -> Array:
        return self.logsumexp_negatives_of(f(self.scores))

    def sum_negatives_of(self, entries: Array) -> Array:
        """The sum of ``entries`` (laid out like [`negatives`][]) at the negatives."""
        return self.ops.sum(self._masked(entries, 0.0))

    def logsumexp_negatives_of(self, entries: Array) -> Array:
        return self.ops.logsumexp(self._masked(entries, -math.inf))

    def row_logsumexp_negatives_of(self, entries: Array) -> Array:
        """Each row's logsumexp over its negatives: (rows,)."""
        return self.ops.logsumexp(self._masked(entries, -math.inf), axis=1)

    def leave_one_out_logsumexp(self) -> Array:
        """Entry [i, j]: the logsumexp of row i (its positive included) without entry j."""
        return leave_one_out_logsumexp(self.ops, self.scores)

    def _masked(self, entries: Array, fill: float) -> Array:
        mask = self.ops.diagonal_mask(self.scores, self.offset)
        return self.ops.where(mask, self.ops.full_like(entries, fill), entries)

    def sum_log_softmax_positives(self) -> Array:
        """The sum over rows of ``p_i - logsumexp(p_i, G_i1, ..., G_iK)``: each row already holds them all."""
        return self.ops.sum(self.positives() - self.ops.logsumexp(self.scores, axis=1))


@dataclass(frozen=True)
class PairedScores:
    """Positive scores ``pos`` (N,) and negative scores ``neg`` (N, K), e.g. from K derangements."""

    ops: ArrayOps
    pos: Array
    neg: Array
    baseline: Array | None = None  # (rows,) log a(.) of each row's sample, for the bounds with a baseline

    @property
    def rows(self) -> int:
        rows: int = self.neg.shape[0]
        return rows

    @property
    def negatives_per_row(self) -> int:
        negatives: int = self.neg.shape[1]
        return negatives

    def positives(self) -> Array:
        return self.pos

    def sum_positives(self, f: Elementwise = _identity) -> Array:
        return self.ops.sum(f(self.pos))

    def negatives(self) -> Array:
        return self.neg

    def sum_negatives(self, f: Elementwise = _identity) -> Array:
        return self.ops.sum(f(self.neg))

    def logsumexp_negatives(self, f: Elementwise = _identity) -> Array:
        return self.ops.logsumexp(f(self.neg))

    def sum_negatives_of(self, entries: Array) -> Array:
        return self.ops.sum(entries)

    def logsumexp_negatives_of(self, entries: Array) -> Array:
        return self.ops.logsumexp(entries)

    def row_logsumexp_negatives_of(self, entries: Array) -> Array:
        return self.ops.logsumexp(entries, axis=1)

    def leave_one_out_logsumexp(self) -> Array:
        """Entry [i, k]: the logsumexp of row i (``pos[i]`` and ``neg[i]``) without ``neg[i, k]``."""
        return leave_one_out_logsumexp(self.ops, self._rows())[:, 1:]

    def sum_log_softmax_positives(self) -> Array:
        return self.ops.sum(self.pos - self.ops.logsumexp(self._rows(), axis=1))

    def _rows(self) -> Array:
        return self.ops.concat([self.ops.reshape(self.pos, (self.rows, 1)), self.neg], axis=1)


Scores = MatrixScores | PairedScores


def leave_one_out_logsumexp(ops: ArrayOps, rows: Array) -> Array:
    """``out[i, j] = logsumexp(rows[i, k] for k != j)``, to rounding.

    ``log(1 - softmax)`` added to the row's logsumexp loses at most a few digits' worth (a factor
    1 / (1 - softmax)) while the entry's softmax is at most 3/4; at most one entry of a row has
    more, even after rounding (two entries at 1/2 can both round above 1/2), and its row is summed
    again without it.
    """
    total = ops.reshape(ops.logsumexp(rows, axis=1), (-1, 1))
    dominant = rows - total > math.log(0.75)  # softmax > 3/4
    nothing = ops.full_like(rows, -math.inf)
    without_dominant = ops.reshape(ops.logsumexp(ops.where(dominant, nothing, rows), axis=1), (-1, 1))
    share = ops.exp(ops.where(dominant, nothing, rows - total))  # 0 where dominant: no log(0) to differentiate
    return ops.where(dominant, without_dominant, total + ops.log1p(-share))


def check_full_matrix(scores: Any) -> None:
    shape = tuple(getattr(scores, "shape", ()))
    if len(shape) != 2 or shape[0] != shape[1]:
        raise invalid("scores", "a square (N, N) matrix of critic scores", scores)
    if shape[0] < 2:
        raise invalid("scores", "N >= 2 samples", scores)


def check_pos_neg(pos: Any, neg: Any) -> None:
    pos_shape = tuple(getattr(pos, "shape", ()))
    neg_shape = tuple(getattr(neg, "shape", ()))
    if len(pos_shape) != 1:
        raise invalid("pos", "a 1-D array of N positive scores", pos)
    if pos_shape[0] < 2:
        raise invalid("pos", "N >= 2 positive scores", pos)
    if len(neg_shape) != 2 or neg_shape[0] != pos_shape[0]:
        raise invalid("neg", f"a 2-D (N, K) array of negative scores with N={pos_shape[0]} rows", neg)
    if neg_shape[1] < 1:
        raise invalid("neg", "K >= 1 negative scores per row", neg)


def check_floating(**arrays: Any) -> None:
    """Scores must be real floating point, all of one dtype (float32 stays float32)."""
    dtypes = {argument: str(getattr(array, "dtype", type(array).__name__)) for argument, array in arrays.items()}
    for argument, dtype in dtypes.items():
        if "float" not in dtype or "complex" in dtype:
            raise invalid(argument, "real floating-point scores", arrays[argument], error=InvalidTypeError)
    if len(set(dtypes.values())) > 1:
        received = ", ".join(f"{a}.dtype={d}" for a, d in dtypes.items())
        raise InvalidTypeError(f"scores: expected one floating dtype for all scores, received {received}")
