"""``smile``: Song & Ermon 2020, ``mean(p) - LME(clip(G, -c, c))``; the critic trains on the
Jensen-Shannon objective (docs/bounds.md, "The lower bounds").

DV on negatives clipped to ``[-clip, clip]`` (``clip``: default 5, None for none), which bounds the
variance of the partition function at the cost of a bias: where many pairs' log density ratio
exceeds the clip, the estimate reads above the MI, and its notes say so (``Bound.ratio_clip``:
``mivb.diagnosis.clip_note`` reads the network's ratios of held-out pairs against it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import invalid
from ..ops import Array
from ..pointwise import normalised
from ..scores import Scores
from ._core import LOGSUMEXP, SUM, Bound, Statistics, Totals
from ._float64 import as_float64, lme, sigmoid
from ._shared import jensen_shannon, jensen_shannon_statistics


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


BOUND = Bound("smile", statistics, value, "SMILE: DV on clipped negatives", "Song & Ermon 2020", gradient="JSD",
              params={"clip": 5.0}, check_params=check_params, reference=reference, log_ratio=normalised,
              linear_crosscheck=True, ratio_clip=lambda params: params["clip"],
              param_help={"clip": "the negatives' scores are clipped to [-CLIP, CLIP] in its log-mean-exp"},
              cases=({"clip": 1.0}, {"clip": None}))
