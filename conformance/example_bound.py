"""A bound defined outside mivb, as a user would write one: the tests register it and the
conformance suite then holds it to its reference like a built-in bound.

``tempered_dv`` is Donsker-Varadhan on the critic's scores divided by a temperature t: still a
lower bound on I(X; Z), since T / t is just another critic.
"""

from __future__ import annotations

import math

import numpy as np

import mivb
from mivb.bounds import LOGSUMEXP, SUM
from mivb.pointwise import normalised


def statistics(scores, params):
    t = params["temperature"]
    return {"pos": (scores.sum_positives(lambda p: p / t), SUM),
            "neg": (scores.logsumexp_negatives(lambda g: g / t), LOGSUMEXP)}


def value(totals, params, state):
    value = totals.mean("pos") - totals.log_mean_exp("neg")
    return value, value  # the gradient follows the value


def check(params):
    t = params["temperature"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
        raise mivb.InvalidArgumentError(f"temperature: expected a number > 0, received temperature={t!r}")


def reference(pos, neg, params, state):
    """Value and gradients with respect to pos and neg, in float64, by calculus."""
    t = params["temperature"]
    n, k = neg.shape
    peak = np.max(neg / t)
    weights = np.exp(neg / t - peak)
    lse = peak + math.log(weights.sum())
    return (float(pos.mean() / t - (lse - math.log(n * k))), np.full(n, 1.0 / (n * t)),
            -weights / weights.sum() / t)


def log_ratio(scores, baseline, params):
    """Each pair's log density ratio: DV's optimal critic is log r up to a constant, here T / t."""
    return normalised(scores / params["temperature"], baseline, params)


TEMPERED_DV = mivb.Bound("tempered_dv", statistics, value, summary="Donsker-Varadhan on T / temperature",
                         params={"temperature": 2.0}, check_params=check, reference=reference,
                         log_ratio=log_ratio,
                         param_help={"temperature": "the critic's scores are divided by it"})
