"""The notes an estimate carries (``Estimate.notes``): one short sentence each, ending with a code
in brackets, such as ``"infonce reads 4.60 nats, near its ceiling 4.85: the MI may be much higher
[ceiling]."``; the long explanation behind each code is here, in [`NOTES`][mivb.notes.NOTES],
printed by [`Estimate.explain`][mivb.Estimate.explain] and listed on the docs' page of notes.

Every module that notes something writes it with [`note`][mivb.notes.note], from this catalogue,
so that a note's words live in one place and its code stays stable (tests and users match codes,
not wording). A note stays a plain ``str``: results pickle and print as before.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import unknown_name

__all__ = ["NOTES", "NoteText", "NoteWarning", "code_of", "explain", "note"]


@dataclass(frozen=True)
class NoteText:
    """One kind of note: a ``title`` (its heading in the docs), the ``short`` sentence an estimate
    carries (a ``str.format`` template of the numbers it quotes), and the ``long`` explanation:
    what it means, why it happens and what to do."""

    title: str
    short: str
    long: str


class NoteWarning(UserWarning):
    """The warning ``estimate`` raises once per estimate with its notes' short sentences
    (``warnings.filterwarnings("ignore", category=mivb.NoteWarning)`` silences them; the notes stay
    on the result)."""


NOTES: dict[str, NoteText] = {
    # The data and the split (mivb.protocol, mivb.streams)
    "repeats": NoteText(
        "Repeated pairs",
        "{repeats} of the {pairs} pairs repeat earlier ones ({distinct} distinct); each pair's copies stay in one part",
        "Some (x, z) pairs occur more than once. Each pair's copies are kept in one part of the split (training, "
        "validation or test), so the held-out value is read on pairs the critic never saw: it estimates the MI of "
        "the data's distribution, not of its empirical copies (whose MI would be about log of the distinct pairs)."),
    "small-batch": NoteText(
        "Batch lowered to the training part",
        "batch_size lowered from {requested} to {used}, the training part's size: InfoNCE is at most "
        "log({used}) = {limit:.2f}",
        "The training part holds fewer pairs than ``batch_size``, so each batch is the whole training part. "
        "Small data give few negatives per row, so contrastive bounds are looser: InfoNCE can read at most "
        "log(batch) nats. More pairs, or a smaller ``test_fraction``, lift that limit."),
    "same-array": NoteText(
        "x and z are the same array",
        "x and z are the same array: their MI is infinite, so no finite value is the answer",
        "For continuous data, I(X; X) is infinite (for discrete data it is the entropy of X), so no finite "
        "estimate is the answer: the value shows only how far this bound and critic can go. The estimate is "
        "unreliable. Pass two different variables."),
    "stream-dry": NoteText(
        "The stream ran dry",
        "the stream ran dry after {read} pairs: the critic trained {steps} steps, seeing each of the {train} "
        "training pairs once",
        "A stream of batches (an iterable or a ``tf.data.Dataset``) ended before ``steps``. The first pairs were "
        "held out for test and validation; every later pair trained the critic once. The estimate stands, from "
        "fewer steps than asked; a longer stream, or ``steps`` to match it, trains further."),
    "stream-repeats": NoteText(
        "The stream starts over",
        "the stream starts over ({repeated}): the critic trained on its held-out pairs",
        "A stream's first pairs are held out for test and validation. This stream came round to them again (a "
        "recurring batch of distinct pairs, as an endlessly repeating dataset gives), so the critic trained on the "
        "pairs it is tested on and the held-out value is biased up: the estimate is unreliable. Pass a stream that "
        "ends after one pass (``dataset.repeat()`` removed), and shuffle it beforehand."),
    # Training (mivb.diagnosis)
    "diverged": NoteText(
        "Training diverged",
        "training diverged at step {step}; the estimate uses the critic from step {best}",
        "A training value was not finite, or finite but outside what any bound on the data's pairs can take "
        "(below -10 nats, or above 2 log n + 10), so the critic blew up. The estimate comes from the last sane "
        "critic (``best_step``) and is unreliable. Lower ``learning_rate``, or use a bounded objective (``smile``, "
        "``infonce``); unbounded ones (``mine``, ``nwj``, ``dv``) can run away on high MI."),
    "rising": NoteText(
        "Still rising",
        "the estimate was still rising when training stopped (+{rise:.3f} nats at the end)",
        "Over the last part of training the validation (or training) value kept rising by more than its noise, "
        "so the critic had not converged: more ``steps`` (or a larger ``learning_rate``) may raise the estimate. "
        "For a lower bound the value stands as a bound; it is only less tight than it could be."),
    "overfits": NoteText(
        "The critic overfits",
        "the held-out value is {gap:.3f} nats below the training value: the critic overfits",
        "The value on held-out pairs is well below the value the critic reached on its training pairs (by over "
        "0.3 nats and 15%), so the critic learned features of the training pairs that do not generalise. The "
        "held-out value is still what the estimate reports (a lower bound stays a lower bound), but a better "
        "critic would read more. Use more pairs, fewer steps, or a smaller critic."),
    # The value (mivb.diagnosis)
    "ceiling": NoteText(
        "Near the bound's ceiling",
        "{bound} reads {mi:.2f} nats, near its ceiling {ceiling:.2f}: the MI may be much higher",
        "A contrastive bound cannot exceed a ceiling set by its batch: InfoNCE reads at most log(K + 1) nats with "
        "K negatives per row (log of the batch size), and it is biased low well before it gets there (on 20,000 "
        "pairs of 20-dimensional Gaussians with 8 nats of MI it read 4.47 against a ceiling of 4.85). Within "
        "1 nat of the ceiling the true MI may be much larger. Use a larger ``batch_size``, another bound "
        "(``smile``, ``mine``), or the default (``bound=None``), whose Gaussian copula reads beyond log(batch)."),
    "overflow": NoteText(
        "The held-out value is not finite",
        "the held-out value is {mi}: the critic's scores overflow on new pairs",
        "The trained critic's scores overflow on the test pairs, so the bound is not finite there; the estimate "
        "is unreliable. Bounds with an exponential of the scores (``nwj``, ``mine``, ``dv``) do this on high MI; "
        "use ``smile`` or ``infonce``, or lower the ``learning_rate``."),
    "outside": NoteText(
        "Outside what the data allow",
        "the held-out value {mi:.4g} nats is outside what {pairs} pairs allow, [-1, {high:.3g}]",
        "The held-out value is below -1 nat (beyond its noise) or above 2 log n + 10 nats: no sane critic reads "
        "that, so the critic does not generalise to new pairs and the estimate is unreliable. Lower "
        "``learning_rate``, or use another bound."),
    "vacuous": NoteText(
        "An upper bound too high to say anything",
        "{bound} reads {mi:.4g} nats, above the {high:.3g} that {pairs} pairs can show: as an {kind} it says nothing",
        "An upper bound (``club``, ``l1out``) holds only while its model q(z | x) is close to p(z | x); when that "
        "model collapses, it can read any value (CLUB read 234 nats on 800 pairs of z = x + noise). Above "
        "2 log n + 10 nats nothing n pairs can show is left, so the estimate is unreliable."),
    "certifiable": NoteText(
        "Near log(test pairs)",
        "{bound} reads {mi:.3f} nats from {pairs} held-out pairs, {where} log {pairs} = {limit:.2f}",
        "A lower bound certifies at most about log n nats from n held-out pairs (McAllester & Stratos 2020), "
        "and DV-type estimates without a ceiling (``smile``, ``dv``, ``mine``) overshoot as they near it (SMILE read "
        "7.70 and 17.1 nats at truths of 6 and 10 on 20,000 pairs of 20-dimensional Gaussians). The MI is large, "
        "but the number may be far above it; above log n the estimate is unreliable. More pairs lift the limit; "
        "the default (``bound=None``) reads high MI through its Gaussian copula."),
    "negative": NoteText(
        "A lower bound below 0",
        "a lower bound below 0 ({mi:.3f} nats) certifies only that the MI is at least 0",
        "MI is never negative, so a negative lower bound certifies nothing beyond MI >= 0: the critic found no "
        "dependence that holds on held-out pairs. Either there is little dependence, or the critic is too weak "
        "or trained too little to find it. ``mivb.independence_test`` asks whether there is any."),
    "below-zero": NoteText(
        "An estimate below 0",
        "the value {mi:.3f} is below 0, which MI never is: estimation error around a small MI",
        "An estimate that is not a lower bound (an upper bound, a classical or fitted estimate) read below 0. "
        "MI never is, so read the value as estimation error around a small MI."),
    "no-stderr": NoteText(
        "No standard error",
        "no standard error: the {pairs} held-out pairs give one batch of {size}, too few to leave one out",
        "With one test batch, ``stderr`` is the jackknife's over its pairs; below 3 test pairs there are too few "
        "to leave one out, so ``stderr`` is NaN. Use more pairs or a larger ``test_fraction``."),
    # smile's clip (mivb/bounds/smile.py)
    "clip": NoteText(
        "smile's clip lifts the value",
        "{share:.0%} of {pairs} held-out pairs exceed {bound}'s clip {clip:g}: the value may be {lift:.2f} nats "
        "or more too high",
        "SMILE clips the critic's density ratio at e^clip in its partition function. Where a share s of the "
        "held-out pairs has a log ratio above the clip, the clipped negatives miss about -log(1 - s) nats of the "
        "partition function, so the estimate may lie that much or more above the MI (Song & Ermon 2020; smile "
        "read 6.38 and 7.70 nats at truths of 5 and 6 on 20-dimensional Gaussians). From 0.25 nats of lift a "
        "note, from 0.5 the estimate is unreliable. The default (``bound=None``) or ``infonce`` gives a value "
        "whose notes say when it is capped."),
    # The linear critic (mivb.crosscheck)
    "linear": NoteText(
        "A linear critic reads more",
        "a linear critic reads {linear:.3f} nats under {bound}, {gap:.3f} above the network's {mi:.3f}: the "
        "network missed dependence",
        "A linear critic (the log density ratio of a Gaussian fitted to the training pairs) read clearly more "
        "than the trained network under the same bound on the same test batches. The network missed dependence "
        "that linear correlation shows: too few pairs for its size, many dimensions, or too few steps. The MI is "
        "at least about the linear critic's bound. Give more pairs or steps, or compare ``bound='gaussian'``."),
    "linear-reported": NoteText(
        "The linear critic is reported",
        "reported: a linear critic, {linear:.3f} nats on validation against the network's {network:.3f} "
        "(test: {test:.3f})",
        "``estimate`` reports the linear critic (the log density ratio of a Gaussian fitted to the training pairs) "
        "when it read clearly more than the network under the same bound on the validation split. Its test value "
        "is read on larger test batches (up to 1,024 pairs: more negatives, a tighter bound) than the network's. "
        "The network missed dependence that linear correlation shows (too few pairs for its size, many "
        "dimensions), or its smaller batches held the bound down. ``result.estimator`` is still the network, "
        "``result.pointwise`` the linear critic's; ``linear_fallback=False`` reports the network."),
    "plug-in": NoteText(
        "Below the linear critic's own model",
        "the linear critic's Gaussian model has MI {model:.3f} nats (test pairs: {test:.3f}), above the "
        "{reported:.3f} {bound} reads",
        "The reported linear critic's bound lies clearly below the MI of its own Gaussian model: the bound's batch "
        "(InfoNCE's log(batch) ceiling), or the model's noise, holds the value down. The model's MI on its "
        "training pairs and its mean log ratio on the test pairs are plug-in estimates, no bounds: with few "
        "pairs per dimension the first reads high and the second low. More pairs, or a larger ``batch_size``, "
        "read more; the default (``bound=None``) reads the copula's MI directly."),
    # Classical estimators (mivb.classical, mivb.pipeline)
    "unsuited": NoteText(
        "The data do not suit the estimator",
        "{name} gives {mi}: the data do not suit it",
        "A classical estimator returned a value that is not finite (``gaussian`` on data whose covariance is "
        "singular, ``ksg`` on many ties): the estimate is unreliable. Transform or deduplicate the data, or use "
        "the default."),
    "ksg-k": NoteText(
        "KSG's k is too large",
        "ksg with k={k} of {pairs} pairs counts neighbours over much of the data: biased towards 0",
        "KSG's neighbourhoods span the data when k nears n: every count is about n, and the estimate about 0 "
        "(k = 90 of 100 pairs read 0.03 at 1 nat). Use a k far below n (3 to 10)."),
    # Intervals, conditional MI, several bounds (mivb.intervals, mivb.conditional, mivb.estimate)
    "wide-interval": NoteText(
        "A wide interval",
        "the {level:.0%} interval ({low:.3f}, {high:.3f}) is wider than the estimate: the folds disagree ({folds})",
        "With ``folds``, the interval comes from the spread of the folds' estimates. Wider than the estimate "
        "itself, it says the folds disagree, and the number says little. Use more pairs, or a bound with less "
        "variance (``infonce``)."),
    "no-interval": NoteText(
        "No interval for a classical estimate",
        "{bound} runs once on all rows: no interval (folds apply to the trained families)",
        "``folds`` gives an interval from the spread of several trained critics, each read on its own held-out "
        "fold. A classical estimator (KSG, Ross's) trains nothing and reads all rows at once, so there is no "
        "spread of folds to take; its row of ``mivb.screen`` has NaN bounds. Its permutation p-value still says "
        "whether the column is independent of the target."),
    "conditional-negative": NoteText(
        "Conditional MI below 0",
        "I(X; Z | Y) reads {mi:.3f} < 0, which conditional MI never is: {within}",
        "Conditional MI is the difference I(X; (Z, Y)) - I(X; Y) of two estimates. Below 0 it is estimation "
        "error: within twice its noise (or 0.01 nats) read it as about 0; beyond it, the larger term's bound is "
        "biased low (see its notes, such as a ceiling) or the two critics differ."),
    "crossed": NoteText(
        "A lower bound above an upper bound",
        "the lower bound {low} ({low_mi:.3f}) reads above the upper bound {high} ({high_mi:.3f}): one is not a "
        "bound here",
        "With a list of bounds, a lower bound that reads above an upper bound beyond their noise shows that at "
        "least one of them is not a bound on these data: an upper bound holds only while its q(z | x) is close to "
        "p(z | x). Both estimates are noted and unreliable."),
    # The independence test (mivb.independence)
    "few-permutations": NoteText(
        "Too few permutations for the level",
        "with {permutations} permutations the smallest p-value is {smallest:.3g}, close to the level {level:g}: "
        "use {needed} or more",
        "A permutation test's p-value is at least 1 / (1 + permutations), so with few permutations it can reject "
        "only when no shuffle reaches the statistic. Use at least 10 / level - 1 permutations."),
    "p-near-level": NoteText(
        "The p-value is near the level",
        "the p-value {p_value:.3g} is within twice its Monte Carlo error ({error:.3g}) of the level {level:g}",
        "The p-value is itself estimated from the permutations, with Monte Carlo error sqrt(p (1 - p) / "
        "permutations). Within twice that error of the level, another run could decide otherwise: more "
        "permutations would make the decision firm."),
    "unreliable-statistic": NoteText(
        "The statistic is unreliable as an estimate",
        "the statistic is unreliable as an MI estimate; the p-value is still valid",
        "The test's statistic is an MI estimate whose own notes (``.estimate.notes``) make it unreliable as a "
        "number. The p-value is still valid: the same procedure ran on every shuffle, and a critic that learned "
        "nothing costs power, not validity."),
}

_CODE = re.compile(r"\[([a-z0-9-]+)\]\.?$")


def note(code: str, **values: Any) -> str:
    """The short note of ``code`` with its numbers filled in: one sentence ending ``[code].``."""
    return f"{NOTES[code].short.format(**values)} [{code}]."


def code_of(text: str) -> str | None:
    """The code a note ends with (``"ceiling"`` for ``"... [ceiling]."``), None for a note without one."""
    found = _CODE.search(text)
    return found.group(1) if found and found.group(1) in NOTES else None


class Explanation(str):
    """Text that prints as itself at the prompt (a plain ``str`` would show its escaped newlines)."""

    def __repr__(self) -> str:
        return str(self)


def explain(notes: Iterable[str], code: str | None = None) -> str:
    """The long explanations of the codes of ``notes`` (each once, in order), or of ``code`` alone."""
    if code is not None:
        if code not in NOTES:
            raise unknown_name("code", code, NOTES)
        codes = [code]
    else:
        codes = list(dict.fromkeys(found for found in map(code_of, notes) if found is not None))
    if not codes:
        return Explanation("no notes: nothing to explain")
    return Explanation("\n\n".join(f"[{found}] {NOTES[found].title}\n{NOTES[found].long}" for found in codes))


def warn(notes: Iterable[str], stacklevel: int) -> None:
    """One warning with every note (its short sentences, a line each), or none."""
    lines = list(notes)
    if lines:
        warnings.warn("\n".join([*lines, "(result.explain() says more)"]), NoteWarning, stacklevel=stacklevel + 1)
