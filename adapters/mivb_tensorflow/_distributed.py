"""Data-parallel MI estimation with ``tf.distribute`` (``MirroredStrategy`` and other replica strategies).

Inside ``strategy.run``, each replica holds its own n pairs of a global batch of N = W * n. The
critic's column features (z's; for a conditional critic, q's moments of x) are gathered from every
replica with ``ReplicaContext.all_gather``, which is differentiable (its gradient is summed over
replicas), so a replica scores its n rows against all N columns; the bound's statistics are
combined over replicas (``mivb.bounds.objective`` with a ``gather``). Every replica gets the
bound's value on the global batch and MINE's EMA of the global batch. Gradients: a replica's
gradient is W times the gradient through its own rows, so the **mean** over replicas is the
single-device gradient. ``tf.distribute`` optimisers **sum** the replicas' gradients: divide the
loss by ``num_replicas_in_sync`` there.

    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        estimator = MIEstimator(2, 8, bound="infonce")

    def step(x, z):            # this replica's pairs
        with tf.GradientTape() as tape:
            value, mi_for_grads, bound_state = replica_objective(estimator, x, z)
            loss = -mi_for_grads / tf.distribute.get_replica_context().num_replicas_in_sync
        ...
    strategy.run(step, args=(x_per_replica, z_per_replica))
"""

from __future__ import annotations

import tensorflow as tf

from mivb.errors import invalid
from mivb.scores import MatrixScores, PairedScores, Scores
from mivb.spec import check_batch_shapes

from ._critics import Critic
from ._estimator import MIEstimator
from ._ops import ops


def _context() -> tf.distribute.ReplicaContext:
    context = tf.distribute.get_replica_context()
    if context is None or not tf.distribute.has_strategy():
        raise invalid("context", "a call inside strategy.run (the replica context of a tf.distribute strategy)",
                      context)
    return context


def replica_scores(critic: Critic, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor | None = None) -> Scores:
    """This replica's scores against the global batch: its rows of the N x N matrix, or K derangements.

    ``shifts`` None: all N - 1 other pairs of the global batch; otherwise the derangements
    ``z[(i + shifts[k]) % N]`` of the global index i (pass the same shifts on every replica).
    The critic's column features are gathered with gradients; the rows and their baseline stay local.
    """
    context = _context()
    n = x.shape[0]
    offset = tf.cast(context.replica_id_in_sync_group, tf.int32) * n
    rows, local_columns = critic.features(x, z)
    baseline = critic.row_baseline(x, z)
    baseline = None if baseline is None else ops.upcast(baseline)  # half-precision critics: bounds in float32
    total = n * context.num_replicas_in_sync
    columns = tf.reshape(context.all_gather(local_columns, axis=0), [total, *local_columns.shape[1:]])  # static again
    if shifts is None:
        return MatrixScores(ops, ops.upcast(critic.matrix(rows, columns)), offset, baseline)
    shifts = tf.cast(shifts, tf.int32)
    index = (tf.range(n)[:, None] + offset + shifts[None, :]) % total
    negatives = tf.gather(columns, index)
    expanded = tf.repeat(rows[:, None, :], shifts.shape[0], axis=1)
    return PairedScores(ops, ops.upcast(critic.pairs(rows, local_columns)), ops.upcast(critic.pairs(expanded, negatives)),
                        baseline)


def replica_objective(estimator: MIEstimator, x: tf.Tensor, z: tf.Tensor, shifts: tf.Tensor | None = None, *,
                      critic_step: bool = False,
                      selection: bool = False) -> tuple[tf.Tensor, tf.Tensor, dict[str, tf.Tensor]]:
    """``(value, mi_for_grads, bound_state)`` of the global batch, called on each replica's pairs in
    ``strategy.run``.

    The counterpart of ``estimator.objective``: value and state are the global ones, the same on
    every replica; store the state with ``estimator.assign_bound_state`` after the step. The
    critic's own step passes ``critic_step=True`` (for the upper bounds it fits q(z | x) by
    likelihood); ``selection``: the value that ranks critics.
    """
    context = _context()
    check_batch_shapes(tuple(x.shape), tuple(z.shape))
    if estimator.config.negative_samples is not None and shifts is None:
        raise invalid("shifts", "the K derangement shifts of the global batch, the same on every replica", shifts)
    world = context.num_replicas_in_sync

    def gather(statistics: tf.Tensor) -> tf.Tensor:
        return tf.reshape(context.all_gather(statistics[None, :], axis=0), [world, statistics.shape[0]])

    return estimator.spec.objective(replica_scores(estimator.critic, x, z, shifts), estimator.bound_state,
                                    train=True, critic_step=critic_step, selection=selection, gather=gather,
                                    world_size=world)
