"""Statistics and objectives that several built-in bounds read: each bound's own module says which."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..ops import Array
from ..scores import Scores
from ._core import LOGSUMEXP, SUM, Statistics, Totals


def positives_and_negatives(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    """sum(p) and logsumexp(G): all that DV-type bounds need."""
    return {"pos": (scores.sum_positives(), SUM), "neg": (scores.logsumexp_negatives(), LOGSUMEXP)}


def jensen_shannon_statistics(scores: Scores) -> Statistics:
    ops = scores.ops
    return {"jsd_pos": (scores.sum_positives(lambda p: -ops.softplus(-p)), SUM),
            "jsd_neg": (scores.sum_negatives(ops.softplus), SUM)}


def jensen_shannon(t: Totals) -> Array:
    """The f-GAN Jensen-Shannon objective (Nowozin et al. 2016), maximised by T = log r."""
    return t.mean("jsd_pos") - t.mean_negatives("jsd_neg")


def row_baseline(scores: Scores) -> Array:
    """Each row's log-baseline, (rows, 1) to broadcast over its negatives; a scalar 0 when none was given."""
    if scores.baseline is None:
        return scores.ops.full_like(scores.positives(), 0.0)
    return scores.ops.reshape(scores.baseline, (-1, 1))


def positives_and_negative_sums(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    """sum(p) and sum(G): the means of log q(z | x) over the pairs and over the other pairs."""
    return {"pos": (scores.sum_positives(), SUM), "neg": (scores.sum_negatives(), SUM)}


def log_likelihood(t: Totals, params: Mapping[str, Any]) -> Array:
    """What the critic step of an upper bound maximises: the mean log q(z_i | x_i) of the pairs."""
    return t.mean("pos")
