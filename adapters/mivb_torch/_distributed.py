"""Data-parallel MI estimation on ``torch.distributed``: the negatives span the global batch.

Each process (rank) holds its own n pairs of a global batch of N = W * n. The columns of the
score matrix (the critic's embeddings g(z), or a joint critic's features of z) are all-gathered
with a differentiable all-gather, so a rank scores its n rows against all N columns; the bound's
statistics are then combined over ranks (``mivb.bounds.objective`` with a ``gather``). Every rank gets the value of the
bound on the whole global batch, MINE's EMA of the global batch, and gradients whose average over
ranks (what ``DistributedDataParallel`` computes) is the single-device gradient on the global batch.

Run it under ``torchrun --nproc_per_node=W script.py`` (or any launcher that calls
``torch.distributed.init_process_group``); gloo on CPU, NCCL on GPUs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist

from mivb.bounds import call_arguments, objective
from mivb.errors import invalid
from mivb.scores import MatrixScores, PairedScores, Scores, check_floating
from mivb.spec import check_batch_shapes

from ._critics import Critic
from ._estimator import MIEstimator, Objective
from ._ops import ops


def _require_initialised(process_group: Any) -> None:
    if not (dist.is_available() and dist.is_initialized()):
        raise invalid("process_group", "an initialised torch.distributed process group (call "
                      "torch.distributed.init_process_group first, e.g. under torchrun)", process_group)


class _AllGather(torch.autograd.Function):
    """Concatenate every rank's tensor along dim 0; backward sums the cotangents over ranks and
    returns this rank's slice (the transpose of an all-gather). Works on every backend (gloo has
    no reduce-scatter, so the backward is an all-reduce and a slice)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, group: Any) -> torch.Tensor:
        ctx.group, ctx.rank, ctx.size = group, dist.get_rank(group), tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size(group))]
        dist.all_gather(parts, tensor.contiguous(), group=group)
        return torch.cat(parts)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=ctx.group)
        return grad[ctx.rank * ctx.size : (ctx.rank + 1) * ctx.size], None


def all_gather(tensor: torch.Tensor, group: Any = None) -> torch.Tensor:
    """Every rank's ``tensor`` concatenated along dim 0 (same shape on every rank), differentiable."""
    _require_initialised(group)
    gathered: torch.Tensor = _AllGather.apply(tensor, group)  # type: ignore[no-untyped-call]  # torch's, unannotated
    return gathered


def check_equal_batches(n: int, group: Any = None, device: torch.device | str = "cpu") -> None:
    """Every rank must hold the same number of pairs (the gathers need equal shapes). ``device``: where
    the group communicates (NCCL: the rank's GPU)."""
    sizes = [torch.zeros((), dtype=torch.int64, device=device) for _ in range(dist.get_world_size(group))]
    dist.all_gather(sizes, torch.tensor(n, dtype=torch.int64, device=device), group=group)
    counts = [int(s) for s in sizes]
    if len(set(counts)) > 1:
        raise invalid("x", "the same batch size n on every rank", f"sizes {counts} over ranks")


def sharded_scores(critic: Critic, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None,
                   group: Any = None) -> Scores:
    """This rank's scores against the global batch: its rows of the N x N matrix, or K derangements.

    ``shifts`` None: all N - 1 other pairs of the global batch (K = N - 1). Otherwise the K
    derangements ``z[(i + shifts[k]) % N]`` of the global index i, the same on every rank.
    The critic's column features (z's; for a conditional critic, q's moments of x) are gathered
    with gradients; the rows stay local.
    """
    _require_initialised(group)
    rank, n = dist.get_rank(group), x.shape[0]
    check_equal_batches(n, group, x.device)
    offset = rank * n
    rows, local_columns = critic.features(x, z)
    baseline = critic.row_baseline(x, z)
    baseline = None if baseline is None else ops.upcast(baseline)  # half-precision critics: bounds in float32
    columns = all_gather(local_columns, group)
    if shifts is None:
        return MatrixScores(ops, ops.upcast(critic.matrix(rows, columns)), offset, baseline)
    index = (torch.arange(offset, offset + n, device=x.device)[:, None] + shifts[None, :]) % columns.shape[0]
    negatives = columns[index]
    expanded = rows[:, None, :].expand(-1, negatives.shape[1], -1)
    return PairedScores(ops, ops.upcast(critic.pairs(rows, local_columns)), ops.upcast(critic.pairs(expanded, negatives)),
                        baseline)


def sharded_bound(name: str, *scores: torch.Tensor, offset: int = 0, group: Any = None,
                  baseline: torch.Tensor | None = None, **params: Any) -> torch.Tensor:
    """The bound on the global batch from this rank's scores: rows (n, N) of the global matrix whose
    first row is global row ``offset``, or ``pos`` (n,) and ``neg`` (n, K); ``baseline``: the log-baseline
    of this rank's rows (``tuba``, ``alpha``).

    Like ``mivb.bound(name, ...)`` on the whole batch: the same value on every rank; its gradients,
    averaged over ranks, are those of the single-device bound. The bound's state (``log_ema`` for
    ``mine``) is read as given, as in ``mivb.bound``.
    """
    _require_initialised(group)
    if len(scores) == 1:
        check_floating(scores=scores[0])
        layout: Scores = MatrixScores(ops, scores[0], offset, baseline)
    else:
        pos, neg = scores
        check_floating(pos=pos, neg=neg)
        layout = PairedScores(ops, pos, neg, baseline)
    bound, params, state = call_arguments(name, params, ops, scores[0])
    value: torch.Tensor = objective(bound, layout, params, state, gather=lambda s: _stats(s, group),
                                    world_size=dist.get_world_size(group))[1]
    return value


def _stats(statistics: torch.Tensor, group: Any) -> torch.Tensor:
    return all_gather(statistics[None, :], group)


class DistributedMIEstimator(MIEstimator):
    """[`MIEstimator`][] on a global batch spread over the ranks of a ``torch.distributed`` group.

    Each rank calls it on its own n pairs (the same n on every rank). The negatives are the whole
    global batch of N = W * n pairs: the rank's rows are scored against every rank's columns
    (embeddings for separable and bilinear critics, the z features for joint ones, gathered with
    gradients). What each rank gets:

    - ``mi``: the bound on the global batch, the same on every rank, equal to a single-device
      ``MIEstimator`` with the same parameters on the concatenated batch (rank 0's pairs first);
    - ``mi_for_grads``: its gradients, **averaged over ranks** (as ``DistributedDataParallel``
      averages), are the single-device gradients on the global batch, both for the critic and
      for any model upstream of x and z (so wrap that model in DDP as usual);
    - ``update``: backpropagates, averages the critic's gradients over ranks itself (one
      all-reduce), and steps Adam, so every rank keeps the same critic; MINE's EMA folds in the
      global batch, the same state on every rank.

    The critic's initial parameters are broadcast from the group's first rank at the first call
    (after any ``.to(device)``). Sampled negatives (``negative_samples=K``) are K derangements of
    the global batch; without explicit ``shifts`` they are drawn on the first rank and broadcast.

    Args:
        process_group: the group to spread over (default: the whole world).
        other arguments: those of [`MIEstimator`][].
    """

    def __init__(self, dim_x: int | tuple[int, ...], dim_z: int | tuple[int, ...], *, process_group: Any = None,
                 **kwargs: Any):
        _require_initialised(process_group)
        super().__init__(dim_x, dim_z, **kwargs)
        self.process_group = process_group
        self.world_size = dist.get_world_size(process_group)
        self.rank = dist.get_rank(process_group)
        self._source = dist.get_global_rank(process_group, 0) if process_group is not None else 0
        self._synchronised = False

    def synchronise(self) -> None:
        """Copy the first rank's critic (parameters and buffers) to every rank."""
        with torch.no_grad():
            for tensor in [*self.critic.parameters(), *self.critic.buffers()]:
                dist.broadcast(tensor.data, src=self._source, group=self.process_group)
        self._synchronised = True

    def _shifts(self, n: int, device: torch.device) -> torch.Tensor:
        total = n * self.world_size
        self.spec.check_batch_size(total)
        shifts = (torch.randperm(total - 1)[: self.config.negative_samples] + 1).to(device)
        dist.broadcast(shifts, src=self._source, group=self.process_group)  # NCCL: from the device
        return shifts

    def scores(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None) -> Scores:
        """This rank's scores against the global batch."""
        if not self._synchronised:
            self.synchronise()
        if self.config.negative_samples is not None and shifts is None:
            shifts = self._shifts(x.shape[0], x.device)
        with self.autocast(x.device):
            return sharded_scores(self.critic, x, z, shifts, self.process_group)

    def objective(self, x: torch.Tensor, z: torch.Tensor, shifts: torch.Tensor | None = None, *, train: bool = True,
                  critic_step: bool = False, selection: bool = False) -> Objective:
        check_batch_shapes(tuple(x.shape), tuple(z.shape))
        return self.spec.objective(self.scores(x, z, shifts), self.bound_state, train=train, critic_step=critic_step,
                                   selection=selection,
                                   gather=lambda s: _stats(s, self.process_group), world_size=self.world_size)

    def reduce_gradients(self) -> None:
        """Average the critic's gradients over ranks in one all-reduce, as DDP does."""
        grads = [p.grad for p in self.critic.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([grad.reshape(-1) for grad in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM, group=self.process_group)
        flat /= self.world_size
        start = 0
        for grad in grads:
            grad.copy_(flat[start : start + grad.numel()].view_as(grad))
            start += grad.numel()


def _entry(rank: int, function: Callable[..., Any], world_size: int, init_method: str, backend: str,
           args: tuple[Any, ...]) -> None:
    dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size)
    function(rank, world_size, *args)
    dist.barrier()  # gloo aborts a process whose peers tear the group down while it still talks to them
    dist.destroy_process_group()


def launch(function: Callable[..., Any], world_size: int = 2, args: tuple[Any, ...] = (),
           backend: str = "gloo") -> None:
    """Run ``function(rank, world_size, *args)`` in ``world_size`` fresh processes joined in one
    process group, without torchrun: data parallelism on one machine's CPUs (gloo) or GPUs (nccl).

    ``function`` must be importable by the new processes (defined at the top level of a module or
    of the script being run). An exception in any process is raised here.
    """
    import os
    import tempfile

    from torch.multiprocessing.spawn import spawn

    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise invalid("world_size", "a positive number of processes", world_size)
    with tempfile.TemporaryDirectory() as folder:
        init_method = "file://" + os.path.join(folder, "store")
        spawn(_entry, args=(function, world_size, init_method, backend, tuple(args)), nprocs=world_size)
