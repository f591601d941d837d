"""Adaptive gradient clipping of an MI term added to another loss.

Belghazi et al. 2018 (MINE, section on adaptive gradient clipping): in ``loss + beta * scale * I``,
``scale = min(||g_loss||, ||g_I||) / ||g_I||`` so the MI term never pushes harder than the loss it
regularises; ``scale = 1`` when ``g_I`` is zero. Norms are global L2 norms over the parameter list.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ops import Array, ArrayOps


def global_norm(ops: ArrayOps, grads: Sequence[Array]) -> Array:
    return ops.sqrt(sum(ops.sum(g * g) for g in grads))


def clip_scale(ops: ArrayOps, norm_loss: Array, norm_mi: Array) -> Array:
    """The clipping factor, a constant for differentiation."""
    norm_loss, norm_mi = ops.stop_gradient(norm_loss), ops.stop_gradient(norm_mi)
    safe = ops.where(norm_mi > 0, norm_mi, ops.full_like(norm_mi, 1.0))
    return ops.where(norm_mi > 0, ops.minimum(norm_loss, norm_mi) / safe, ops.full_like(norm_mi, 1.0))

