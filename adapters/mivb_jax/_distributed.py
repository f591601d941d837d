"""Data-parallel MI estimation with ``jax.sharding``: the batch split over a mesh of devices.

[`ShardedMIEstimator`][] is [`MIEstimator`][] with sharding annotations: inside ``jax.jit``
each batch is split along a mesh axis, and the score matrix is laid out by rows, so each device
computes its own rows against all N columns (XLA all-gathers the critic's column features: z's,
or for a conditional critic q's moments of x; the rows and their baseline stay local) and the
reductions of the bound (the global logsumexp, the means) become all-reduces. It is the same
program as on one device, partitioned by the compiler (GSPMD), so values, gradients, MINE's EMA
and every update equal the single-device ones on the global batch, up to the order of float
additions. The state is replicated on every device.

    mesh = data_mesh()                                   # every local device, axis "batch"
    estimator = ShardedMIEstimator(dim_x=2, dim_z=8, bound="infonce", mesh=mesh)
    state = replicate(estimator.init(jax.random.key(0)), mesh)
    update = jax.jit(estimator.update)
    state, mi = update(state, x, z)                      # x, z: the global batch, N divisible by devices
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from mivb.errors import invalid
from mivb.scores import MatrixScores, PairedScores, Scores

from ._estimator import MIEstimator, MIState
from ._ops import ops


def data_mesh(devices: int | Sequence[jax.Device] | None = None, axis: str = "batch") -> Mesh:
    """A one-axis mesh over ``devices``: a list of devices, a count of local devices, or all of them."""
    local = jax.local_devices()
    if devices is None:
        chosen = local
    elif isinstance(devices, int) and not isinstance(devices, bool):
        if not 1 <= devices <= len(local):
            raise invalid("devices", f"a number of devices from 1 to the {len(local)} local devices JAX sees", devices)
        chosen = local[:devices]
    else:
        chosen = [] if isinstance(devices, bool) else list(devices)  # True is no count: refused below
        if not chosen or not all(isinstance(d, jax.Device) for d in chosen):
            raise invalid("devices", "None (all local devices), a count, or a list of jax devices", devices)
    return Mesh(np.array(chosen), (axis,))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Every array of ``tree`` (a state, data) copied to all devices of ``mesh``."""
    return jax.device_put(tree, NamedSharding(mesh, P()))


class ShardedMIEstimator(MIEstimator):
    """[`MIEstimator`][] whose batches are split over the devices of ``mesh`` (data parallelism).

    Each device scores its rows of the batch against every column of the global batch, so the
    negatives span all devices, and the result is the single-device result on the whole batch.
    The batch size must be divisible by the number of devices along ``axis``.

    Args:
        mesh: the devices (default: a mesh over every local device, see [`data_mesh`][]).
        axis: the mesh axis the batch is split along.
        other arguments: those of [`MIEstimator`][].
    """

    def __init__(self, dim_x: int | tuple[int, ...], dim_z: int | tuple[int, ...], *, mesh: Mesh | None = None,
                 axis: str = "batch", **kwargs: Any):
        super().__init__(dim_x, dim_z, **kwargs)
        self.mesh = data_mesh(axis=axis) if mesh is None else mesh
        if not isinstance(self.mesh, Mesh) or axis not in self.mesh.axis_names:
            raise invalid("mesh", f"a jax.sharding.Mesh with an axis named {axis!r}", mesh)
        self.axis = axis

    def _identity(self) -> tuple[Any, ...]:
        return (*super()._identity(), self.mesh, self.axis)

    @property
    def devices(self) -> int:
        count: int = self.mesh.shape[self.axis]
        return count

    def scores(self, state: MIState, x: jax.Array, z: jax.Array, shifts: jax.Array | None = None) -> Scores:
        """The batch's scores, each device holding its rows."""
        if x.shape[0] % self.devices:
            raise invalid("x", f"a batch size divisible by the {self.devices} devices of the mesh", x)
        rows, matrix_rows = NamedSharding(self.mesh, P(self.axis)), NamedSharding(self.mesh, P(self.axis, None))
        x, z = (jax.lax.with_sharding_constraint(a, rows) for a in (x, z))
        scores = super().scores(state, x, z, shifts)
        baseline = None if scores.baseline is None else jax.lax.with_sharding_constraint(scores.baseline, rows)
        if isinstance(scores, MatrixScores):
            return MatrixScores(ops, jax.lax.with_sharding_constraint(scores.scores, matrix_rows), baseline=baseline)
        return PairedScores(ops, jax.lax.with_sharding_constraint(scores.pos, rows),
                            jax.lax.with_sharding_constraint(scores.neg, matrix_rows), baseline)
