"""``smile``: Song & Ermon 2020, ``mean(p) - LME(clip(G, -c, c))``; the critic trains on the
Jensen-Shannon objective (docs/bounds.md, "The lower bounds").

DV on negatives clipped to ``[-clip, clip]`` (``clip``: default 5, None for none), which bounds the
variance of the partition function at the cost of a bias: where many pairs' log density ratio
exceeds the clip, the estimate reads above the MI, and its notes say so (``notes``, its
``Bound.notes`` hook, reads the network's ratios of held-out pairs against the clip).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import invalid
from ..notes import note
from ..ops import Array
from ..pointwise import normalised
from ..scores import Scores
from ._core import LOGSUMEXP, SUM, Bound, HeldOut, Statistics, Totals
from ._float64 import as_float64, lme, sigmoid
from ._shared import jensen_shannon, jensen_shannon_statistics

# Where a share s of the held-out pairs has a log density ratio above the clip c, the clipped
# partition function misses their mass (E_q[min(r, e^c)] is about P_p(log r <= c)), which lifts the
# value by about -log(1 - s) nats above the unclipped DV of the same critic (Song & Ermon 2020).
# Measured with the defaults (torch, seed 0, clip 5; s from the critic's normalised ratios of
# CLIP_CHECK_PAIRS test pairs): on 20,000 pairs of d = 20 Gaussians, truths 2, 3, 4, 5, 6 and 10
# nats gave s = 0.06, 0.19, 0.32, 0.48, 0.61 and 0.90, and smile read 1.68, 2.76, 4.37, 6.38, 7.70
# and 17.1; on the 12 tasks of benchmarks/tasks.py (5,000 pairs, truths up to 1.1) s <= 0.002.
# Above CLIP_BIAS_NOTE nats of lift, a note (from 4 nats there, where smile read 9% high; `mivb
# demo`'s accurate 2.97 at 3 nats has 0.17); above CLIP_BIAS_UNRELIABLE (from 5 nats, 28% high)
# the estimate is unreliable.
CLIP_BIAS_NOTE, CLIP_BIAS_UNRELIABLE = 0.25, 0.5
CLIP_CHECK_PAIRS = 512  # held-out pairs whose ratios are read (normalised over the other 511)


def statistics(scores: Scores, params: Mapping[str, Any]) -> Statistics:
    clip, ops = params["clip"], scores.ops
    clipped = scores.logsumexp_negatives() if clip is None else scores.logsumexp_negatives(
        lambda g: ops.clip(g, -clip, clip))
    return {"pos": (scores.sum_positives(), SUM), "neg": (clipped, LOGSUMEXP), **jensen_shannon_statistics(scores)}


def value(t: Totals, params: Mapping[str, Any], state: Mapping[str, Array]) -> tuple[Array, Array]:
    """``mean(p) - LME(clip(G, -c, c))``; the gradient follows the Jensen-Shannon objective."""
    return t.mean("pos") - t.log_mean_exp("neg"), jensen_shannon(t)


def reference(pos: np.ndarray, neg: np.ndarray, params: Mapping[str, Any],
              state: Mapping[str, Any]) -> tuple[float, np.ndarray, np.ndarray]:
    """The value, and the Jensen-Shannon objective's gradient with respect to (p, G), in float64."""
    pos, neg = as_float64(pos, neg)
    n, k = neg.shape
    clip = params["clip"]
    return (float(pos.mean()) - lme(neg if clip is None else np.clip(neg, -clip, clip)), sigmoid(-pos) / n,
            -sigmoid(neg) / (n * k))


def check_params(params: Mapping[str, Any]) -> None:
    clip = params["clip"]
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0
                             or not math.isfinite(clip)):
        raise invalid("clip", "None (no clipping) or a finite number > 0", clip)


def clip_note(bound: str, clip: float, log_ratios: np.ndarray) -> tuple[str | None, bool]:
    """A note when many held-out pairs' log ratios exceed ``clip``, so that the clip, not the critic,
    makes much of the value; and whether that makes the estimate unreliable."""
    share = float(np.mean(log_ratios > clip))
    lift = -math.log1p(-share) if share < 1 else math.inf
    if not lift > CLIP_BIAS_NOTE:
        return None, False
    return note("clip", share=share, pairs=len(log_ratios), bound=bound, clip=clip, lift=lift), \
        lift > CLIP_BIAS_UNRELIABLE


def notes(params: Mapping[str, Any], held_out: HeldOut) -> tuple[list[str], bool]:
    """The clip note on a finite estimate of at least 2 held-out pairs, read from the network's
    ratios of the first ``CLIP_CHECK_PAIRS`` of them; none without a clip."""
    clip = params["clip"]
    if clip is None or held_out.pairs < 2 or not math.isfinite(held_out.mi):
        return [], False
    text, unreliable = clip_note(held_out.bound, clip, held_out.log_ratios(CLIP_CHECK_PAIRS))
    return [text] if text else [], unreliable


BOUND = Bound("smile", statistics, value, "SMILE: DV on clipped negatives", "Song & Ermon 2020", gradient="JSD",
              params={"clip": 5.0}, check_params=check_params, reference=reference, log_ratio=normalised,
              linear_crosscheck=True, notes=notes,
              param_help={"clip": "the negatives' scores are clipped to [-CLIP, CLIP] in its log-mean-exp"},
              cases=({"clip": 1.0}, {"clip": None}))
