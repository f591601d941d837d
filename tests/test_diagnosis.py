"""smile's clip note: when the clip, not the critic, makes much of the value."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mivb
from mivb.bounds.smile import clip_note
from mivb.notes import code_of


@pytest.mark.parametrize("share, noted, unreliable", [
    (0.0, False, False), (0.21, False, False), (0.23, True, False), (0.39, True, False), (0.40, True, True),
    (1.0, True, True)])
def test_the_clip_note_follows_the_share_of_ratios_above_the_clip(share, noted, unreliable):
    # -log(1 - s) crosses 0.25 nats at s = 0.221 and 0.5 nats at s = 0.393
    log_ratios = np.where(np.arange(1000) < share * 1000, 5.5, 4.5)
    note, flagged = clip_note("smile", 5.0, log_ratios)
    assert (note is not None, flagged) == (noted, unreliable)
    if noted:
        lift = -math.log1p(-share) if share < 1 else math.inf
        assert note.startswith(f"{share:.0%} of 1000 held-out pairs exceed smile's clip 5: "
                               f"the value may be {lift:.2f} nats or more too high [clip].")


def test_smile_above_the_mi_is_no_longer_silent():
    # Before the clip note this overshoot (5.9 nats at a truth of 5) carried no note at all.
    x, z, truth = mivb.correlated_gaussians(8000, 6, mivb.data.rho_for_mi(6, 5.0), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(x, z, bound="smile", backend="torch", seed=0, progress=False)
    assert result.mi > 1.1 * truth and result.unreliable, result
    assert len(result.notes) == 1 and code_of(result.notes[0]) == "clip", result.notes


def test_the_clip_note_reads_the_clip_in_use():
    x, z, _ = mivb.correlated_gaussians(3000, 4, mivb.data.rho_for_mi(4, 3.0), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clipped = mivb.estimate(x, z, bound="smile", clip=1.0, backend="torch", seed=0, progress=False)
        unclipped = mivb.estimate(x, z, bound="smile", clip=None, backend="torch", seed=0, progress=False)
    assert any("exceed smile's clip 1:" in note for note in clipped.notes), clipped.notes
    assert not any("smile's clip" in note for note in unclipped.notes), unclipped.notes
