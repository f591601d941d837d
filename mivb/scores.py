"""Critic scores: the two layouts of BOUNDS.md and the checks every bound applies to them."""

from __future__ import annotations

from typing import Any

from .errors import InvalidTypeError, invalid
from .ops import Array, ArrayOps


def split_full_matrix(ops: ArrayOps, scores: Array) -> tuple[Array, Array]:
    """(p, G) from a full (N, N) matrix: p is the diagonal, G the rows without their diagonal entry."""
    n = scores.shape[0]
    # Dropping the first entry of the flattened matrix puts every diagonal entry at the end of a
    # row of length N + 1; cutting that column leaves exactly the off-diagonal entries, row by row.
    shifted = ops.reshape(ops.reshape(scores, (n * n,))[1:], (n - 1, n + 1))[:, :n]
    return ops.diagonal(scores), ops.reshape(shifted, (n, n - 1))


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
