"""mivb.register_bound: a bound defined outside the package works wherever a built-in one does.

This file follows docs/architecture.md's recipe "Add a bound" literally: register, then check with
the conformance suite; and uses the bound in mivb.bound, mivb.estimate, MIEstimator and the
distributed estimator (two gloo processes, run as a script like test_distributed.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository's conformance package, outside mivb

import mivb
from conformance.checks import checks_for
from conformance.example_bound import TEMPERED_DV


@pytest.fixture(autouse=True)
def tempered_dv():
    mivb.register_bound(TEMPERED_DV)
    yield
    mivb.unregister_bound("tempered_dv")


def test_the_conformance_suite_checks_a_registered_bound_against_its_reference():
    checks = [check for check in checks_for("torch") if "tempered_dv" in check.id]
    kinds = {check.id.split("-tempered_dv")[0] for check in checks}
    assert kinds == {"value", "gradient", "full-vs-pair", "half-scores"}, [c.id for c in checks]
    assert len(checks) == 18 + 18 + 10 + 2, [c.id for c in checks]  # half scores: float16 and bfloat16
    for check in checks:
        check.run("torch")


def test_a_wrong_reference_fails_the_conformance_check():
    wrong = mivb.Bound("tempered_dv", TEMPERED_DV.statistics, TEMPERED_DV.value, summary="wrong",
                       params={"temperature": 2.0},
                       reference=lambda pos, neg, params, state: (0.0, *TEMPERED_DV.reference(pos, neg, params, state)[1:]))
    mivb.register_bound(wrong, replace=True)
    check = next(c for c in checks_for("numpy") if c.id == "value-tempered_dv-full-N16-normal10-float64")
    with pytest.raises(AssertionError):
        check.run("numpy")


def test_parameters_are_checked_and_reach_the_bound():
    scores = np.random.default_rng(0).normal(size=(6, 6))
    at_one = float(mivb.bound("tempered_dv", scores, temperature=1.0))
    assert at_one == pytest.approx(float(mivb.bound("dv", scores)), rel=1e-12)
    with pytest.raises(mivb.InvalidArgumentError, match="received temperature=0"):
        mivb.bound("tempered_dv", scores, temperature=0)
    with pytest.raises(mivb.UnknownNameError, match="takes the parameters 'temperature', received clip=1"):
        mivb.bound("tempered_dv", scores, clip=1)
    with pytest.raises(mivb.InvalidArgumentError, match="not registered yet"):
        mivb.register_bound(TEMPERED_DV)


def test_estimate_and_the_estimator_train_the_registered_bound():
    x, z, true_mi = mivb.correlated_gaussians(3000, 2, 0.8, seed=0)
    result = mivb.estimate(x, z, bound="tempered_dv", temperature=1.5, backend="torch", steps=600, seed=0)
    assert result.bound == "tempered_dv" and result.config.bound_params == {"temperature": 1.5}
    assert abs(result.mi - true_mi) < 0.2, result

    from mivb_torch import MIEstimator

    estimator = MIEstimator(2, 2, bound="tempered_dv", temperature=1.5, seed=0)
    xb, zb = (torch.as_tensor(a[:64]) for a in (x, z))
    expected = mivb.bound("tempered_dv", estimator.critic(xb, zb).detach(), temperature=1.5)
    assert float(estimator(xb, zb).mi) == pytest.approx(float(expected), rel=1e-6)
    values = estimator.fit(x, z, steps=50, batch_size=64, seed=0)
    assert values.shape == (50,) and bool(torch.all(torch.isfinite(values)))


def test_the_distributed_estimator_computes_the_registered_bound_on_the_global_batch(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, __file__, str(tmp_path)], env=env, check=False, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    x, z = global_batch()
    single = make_estimator()(x, z).mi
    for rank in range(2):
        assert float(np.load(tmp_path / f"rank{rank}.npy")) == pytest.approx(float(single), rel=1e-10)


def global_batch():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, 2, generator=generator, dtype=torch.float64)
    return x, x + 0.5 * torch.randn(8, 2, generator=generator, dtype=torch.float64)


def make_estimator(cls=None):
    from mivb_torch import MIEstimator

    return (cls or MIEstimator)(2, 2, bound="tempered_dv", temperature=1.5, seed=3).to(torch.float64)


def worker(rank: int, world: int, folder: str) -> None:
    from mivb_torch import DistributedMIEstimator

    mivb.register_bound(TEMPERED_DV)  # a fresh process: register as a user's program would
    x, z = global_batch()
    rows = slice(rank * 4, rank * 4 + 4)
    np.save(Path(folder) / f"rank{rank}.npy", make_estimator(DistributedMIEstimator)(x[rows], z[rows]).mi.numpy())


if __name__ == "__main__":
    from mivb_torch import launch

    launch(worker, 2, args=(sys.argv[1],))
