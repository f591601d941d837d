"""Conditional MI by the chain rule: I(X; Z | Y) = I(X; (Z, Y)) - I(X; Y).

Why the chain rule and not a conditional critic: it works with every estimator mivb has (each
bound, each backend, KSG) and keeps the held-out protocol and the interval as they are, where a
conditional critic needs samples from p(z | y) for its negatives, which finite data does not give.
Both terms run with one seed, so they share the split (or folds) and the test batches: their
errors are partly shared, and the difference's noise is measured pair by pair. The price: the
difference of two lower bounds is no bound (``kind="difference"``), and a bound biased low on the
larger term (InfoNCE near its ceiling log K) biases the difference low, which the terms' notes say.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from .arguments import EstimateArguments
from .bounds import BOUNDS
from .classical import CLASSICAL
from .errors import invalid
from .intervals import crossfit
from .notes import note, warn
from .pipeline import classical, seed_or_drawn, trained
from .result import Estimate
from .samples import as_samples, check_paired

# nats: below zero by less than this, a difference is the bounds' usual low bias (0.01 to 0.02 nats
# on a common cause, benchmarks/conditional.py), not a sign of trouble.
NEGLIGIBLE = 0.05


def conditional(x: Any, z: Any, given: Any, arguments: EstimateArguments) -> Estimate:
    """``estimate(x, z, given=y)``: the two terms, then their difference (see the module)."""
    if arguments.bound in BOUNDS and BOUNDS[arguments.bound].critic == "classifier":
        raise invalid("given", f"None for bound {arguments.bound!r}: conditional MI joins z and given feature by "
                      f"feature, which class labels are not", given)
    x_all, z_all, y_all = as_samples("x", x), as_samples("z", z), as_samples("given", given)
    check_paired(x_all, z_all)
    if len(y_all) != len(x_all):
        raise invalid("given", f"{len(x_all)} samples, one per pair of x and z", y_all)
    for name, array in (("z", z_all), ("given", y_all)):
        if array.ndim != 2:
            raise invalid(name, "vectors, shape (n, d) or (n,), for conditional MI (z and given are joined "
                          "feature by feature)", array)
    constant = np.flatnonzero(np.ptp(y_all, axis=0) == 0)
    if constant.size:  # named here: joined to z, it would be reported as a feature of z
        raise invalid("given", f"no constant feature (feature {constant[0]} of given equals "
                      f"{float(y_all[0, constant[0]]):.17g} throughout, and a constant carries no information: drop it)",
                      given)
    term_arguments = replace(arguments, given=None, seed=seed_or_drawn(arguments.seed))
    term = classical if arguments.bound in CLASSICAL else trained
    with warnings.catch_warnings():  # the terms' notes are reported once, on the difference
        warnings.simplefilter("ignore")
        joint = term(x_all, np.concatenate([z_all, y_all], axis=1), term_arguments)
        marginal = term(x_all, y_all, term_arguments)
    result = difference(joint, marginal)
    warn(result.notes, stacklevel=3)
    return result


def difference(joint: Estimate, marginal: Estimate) -> Estimate:
    """I(X; (Z, Y)) - I(X; Y), fold by fold and test batch by test batch where both have them."""
    if joint.per_fold:
        result = crossfit(joint.config, [_paired(j, m) for j, m in zip(joint.per_fold, marginal.per_fold)])
    else:
        result = _paired(joint, marginal)
    notes = [f"I(X; (Z, Y)): {note}" for note in joint.notes] + [f"I(X; Y): {note}" for note in marginal.notes]
    notes += list(result.notes) + _negative_note(result)
    return replace(result, notes=tuple(dict.fromkeys(notes)), unreliable=joint.unreliable or marginal.unreliable,
                   terms=(joint, marginal), estimator=None, prepare_new=None)


def _paired(joint: Estimate, marginal: Estimate) -> Estimate:
    """The difference of two estimates on one split: the same test batches, so paired by batch."""
    if joint.kind != "classical" and joint.test_values.shape == marginal.test_values.shape:
        values = joint.test_values - marginal.test_values
        # one test batch: each term's own (jackknife) error, as if independent, for want of batches to pair
        stderr = (float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1
                  else math.hypot(joint.stderr, marginal.stderr))
    else:  # classical estimators give one value each; a linear critic's larger batches pair with nothing
        values = np.array([joint.mi - marginal.mi])
        stderr = math.hypot(joint.stderr, marginal.stderr)
    return replace(joint, mi=float(joint.mi - marginal.mi), stderr=stderr, test_values=values, kind="difference",
                   ceiling=None, notes=(), estimator=None, prepare_new=None)


def _negative_note(result: Estimate) -> list[str]:
    if result.mi >= 0:
        return []
    noise = 2 * result.stderr if math.isfinite(result.stderr) else 0.0
    if -result.mi <= max(noise, NEGLIGIBLE):
        within = f"within its noise ({noise:.3f}), so about 0"
    else:
        within = "beyond its noise, so a term is biased low"
    return [note("conditional-negative", mi=result.mi, within=within)]
