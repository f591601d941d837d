"""mivb_jax.save_state writes beside the target and renames, so a failed save keeps the old file;
load_state finds the .npz that save_state added to a bare name (issue #29, item 4)."""

import os

import numpy as np
import pytest
from mivb_jax import MIEstimator, load_state, save_state

import mivb


def _states():
    estimator = MIEstimator(3, 3, critic={"hidden": (16,)}, seed=0)
    first = estimator.init()
    x, z, _ = mivb.correlated_gaussians(64, 3, 0.8, seed=0)
    second, _ = estimator.update(first, x, z)
    return estimator, first, second


def test_a_save_that_fails_part_way_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    estimator, first, second = _states()
    path = tmp_path / "ck.npz"
    save_state(path, first, estimator)
    before = path.read_bytes()

    def full_disk(file, *arrays, **named):  # np.savez writing part of the archive, then the disk is full
        handle = open(file, "wb") if isinstance(file, (str, os.PathLike)) else file  # noqa: SIM115
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_state(path, second, estimator)
    monkeypatch.undo()
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ck.npz"]  # no temporary left
    x, z, _ = mivb.correlated_gaussians(32, 3, 0.8, seed=1)
    restored = load_state(path, estimator)
    assert estimator.evaluate(restored, x, z) == estimator.evaluate(first, x, z) != estimator.evaluate(second, x, z)


def test_load_state_finds_the_npz_that_save_state_named(tmp_path):
    estimator, _, second = _states()
    save_state(tmp_path / "ck", second, estimator)
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]
    restored = load_state(tmp_path / "ck", estimator)
    x, z, _ = mivb.correlated_gaussians(32, 3, 0.8, seed=1)
    assert estimator.evaluate(restored, x, z) == estimator.evaluate(second, x, z)
    with pytest.raises(mivb.InvalidArgumentError, match="no such file"):
        load_state(tmp_path / "other", estimator)
