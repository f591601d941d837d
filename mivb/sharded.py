"""The bounds of BOUNDS.md on a batch split over several devices or processes (data parallelism).

Each of W ranks holds n pairs of a global batch of N = W * n and scores its own rows against the
global columns: ``pos`` (n,) and ``neg`` (n, K), with K = N - 1 for the full matrix (the rank's
rows of the N x N matrix without their diagonal entries) or K sampled derangements of the global
batch. Every bound is then a function of a few per-rank statistics (sums, and one logsumexp of
the negatives), which each rank gathers from all the others:

- ``mean(p)`` over the global batch is the sum of the per-rank sums over N;
- ``LME(G)`` over all N * K negatives is the logsumexp of the per-rank logsumexps minus log(N * K),
  so no rank ever sees another rank's scores, and nothing overflows;
- InfoNCE's per-row terms are local (each row holds all its K + 1 scores) and averaged over N rows;
- the JSD surrogate of ``js`` and ``smile`` is two global means.

So every rank computes the same value, equal (to rounding) to the single-device bound on the
concatenated global batch, and MINE's EMA folds in the global ``LME(G)``: the same state on every
rank, equal to the single-device state after the same global batches.

Gradients. ``gather`` must be a differentiable all-gather whose backward sums the cotangents
from all ranks (the transpose of an all-gather: a reduce-scatter, or an all-reduce then a slice),
as the differentiable gathers of ``torch.distributed.nn``, ``jax.lax.all_gather`` and
TensorFlow's ``ReplicaContext.all_gather`` do; the negatives' columns (embeddings or samples)
must be gathered the same way. Every rank then differentiates the same global value, so rank r
receives ``W`` times the gradient through its own shard, and the **average** of the per-rank
gradients over ranks (what DistributedDataParallel does) is exactly the single-device gradient;
their sum is ``W`` times it (divide the loss by ``W`` where gradients are summed, as
``tf.distribute`` optimisers do).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .bounds import BOUNDS, with_gradient_of
from .ema import EmaState, ema_update
from .errors import invalid
from .ops import Array, ArrayOps

Gather = Callable[[Array], Array]  # (m,) statistics of this rank -> (W, m) of every rank, differentiable


def check_world_size(world_size: Any, rows: int) -> int:
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise invalid("world_size", "a positive integer number of ranks", world_size)
    if rows * world_size < 2:
        raise invalid("pos", "a global batch of N >= 2 pairs", f"{rows} pairs on each of {world_size} ranks")
    return world_size


def sharded_objective(
    ops: ArrayOps, name: str, pos: Array, neg: Array, params: dict[str, Any], ema: EmaState, decay: float,
    gather: Gather, world_size: int, fold: bool = True,
) -> tuple[Array, Array, EmaState]:
    """One training step's ``(value, mi_for_grads, ema)`` on this rank's rows of a global batch.

    The data-parallel counterpart of :func:`mivb.bounds.training_objective`: ``pos`` (n,) and
    ``neg`` (n, K) are this rank's rows, ``world_size`` ranks hold n rows each, and ``gather`` is
    the differentiable all-gather described above. The value and the EMA are the global ones,
    the same on every rank; averaging ``mi_for_grads``'s gradients over ranks gives the
    single-device gradient. ``fold=False`` (``mivb.bound``'s ``log_ema``): MINE divides by ``ema``
    as given, the batch's own ``LME(G)`` while it is unset, and the state is returned unchanged.
    """
    if name not in BOUNDS:
        raise invalid("bound", f"one of {', '.join(map(repr, BOUNDS))}", name)
    n, k = neg.shape
    rows = n * check_world_size(world_size, n)
    stats = {"pos": ops.sum(pos), "neg": ops.logsumexp(neg)}
    if name == "infonce":
        scores = ops.concat([ops.reshape(pos, (n, 1)), neg], axis=1)
        stats["rows"] = ops.sum(pos - ops.logsumexp(scores, axis=1))
    if name in ("js", "smile"):
        stats["jsd"] = ops.sum(-ops.softplus(-pos)) / rows - ops.sum(ops.softplus(neg)) / (rows * k)
    clip = params.get("clip") if name == "smile" else None
    if clip is not None:
        stats["clipped"] = ops.logsumexp(ops.clip(neg, -clip, clip))
    keys = list(stats)
    gathered = gather(ops.stack([stats[key] for key in keys]))  # (W, m): every rank's statistics
    column = {key: gathered[:, j] for j, key in enumerate(keys)}
    mean_pos = ops.sum(column["pos"]) / rows
    lme = ops.logsumexp(column["neg"]) - math.log(rows * k)

    if name in ("dv", "mine"):
        value = surrogate = mean_pos - lme
        if name == "mine":
            if fold:
                ema = ema_update(ops, ema, lme, decay)
            denominator = ops.where(ops.isnan(ema.log_ema), lme, ema.log_ema)
            surrogate = mean_pos - ops.exp(lme - ops.stop_gradient(denominator))
    elif name == "nwj":
        value = surrogate = mean_pos - ops.exp(lme - 1.0)
    elif name == "infonce":
        value = surrogate = ops.sum(column["rows"]) / rows + math.log(k + 1)
    elif name == "js":
        value, surrogate = 1.0 + mean_pos - ops.exp(lme), ops.sum(column["jsd"])
    else:  # smile
        clipped = lme if clip is None else ops.logsumexp(column["clipped"]) - math.log(rows * k)
        value, surrogate = mean_pos - clipped, ops.sum(column["jsd"])
    return value, with_gradient_of(ops, value, surrogate), ema
