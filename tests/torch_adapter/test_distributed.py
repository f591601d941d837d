"""Data parallelism on torch.distributed: 2 gloo processes equal one process on the global batch.

The test runs this file as a script, which spawns 2 processes (``mivb_torch.launch``); each holds
half of a global batch of 8 pairs and writes what it computed. The test then recomputes every case
in one process on the concatenated batch. Gradient convention, explicitly: each rank's gradient is
W times the gradient through its own shard, so the **average over ranks** (DDP's reduction) is
the single-device gradient, and a rank's input gradient is W times the single-device one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mivb_torch import MIEstimator

import mivb

WORLD, N = 2, 8  # 2 ranks, a global batch of 8 pairs (4 per rank)
SHIFTS = [1, 3, 6]  # derangements of the global batch, for the sampled-negatives cases
BOUNDS = ["dv", "mine", "nwj", "infonce", "js", "smile"]
CASES = {f"{bound}-{kind}": (bound, kind, None, "float64") for bound in BOUNDS
         for kind in ("separable", "bilinear", "joint")}
CASES.update({
    "dv-separable-sampled": ("dv", "separable", 3, "float64"),
    "infonce-joint-sampled": ("infonce", "joint", 3, "float64"),
    "mine-separable-sampled": ("mine", "separable", 3, "float64"),
    "mine-separable-float32": ("mine", "separable", None, "float32"),
    "smile-bilinear-float32": ("smile", "bilinear", None, "float32"),
    "tuba-separable": ("tuba", "separable", None, "float64"),  # with a baseline network
    "alpha-joint": ("alpha", "joint", None, "float64"),
    "alpha-separable-sampled": ("alpha", "separable", 3, "float64"),
    "club-conditional": ("club", "conditional", None, "float64"),  # critic steps follow q's likelihood
    "club-conditional-sampled": ("club", "conditional", 3, "float64"),
    "l1out-conditional": ("l1out", "conditional", None, "float64"),
})
UPDATES = 3


def global_batch(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(N, 3, generator=generator, dtype=torch.float64)
    z = x[:, :2] + 0.5 * torch.randn(N, 2, generator=generator, dtype=torch.float64)
    return x.to(dtype), z.to(dtype)


def make(cls, case: str, seed: int, **kwargs):
    bound, kind, k, dtype = CASES[case]
    torch.manual_seed(seed)
    critic = {"kind": kind, "hidden": (16,), "embedding": 4, "negative_samples": k}
    estimator = cls(3, 2, bound=bound, critic=critic, lr=1e-2, ema_decay=0.9, **kwargs)
    return estimator.to(getattr(torch, dtype))


def run_case(estimator, case: str, x: torch.Tensor, z: torch.Tensor) -> dict[str, np.ndarray]:
    """Value, gradients (critic and inputs) of one step, then UPDATES critic steps."""
    shifts = None if CASES[case][2] is None else torch.tensor(SHIFTS)
    x, z = x.clone().requires_grad_(True), z.clone().requires_grad_(True)
    value, mi_for_grads, ema = estimator.objective(x, z, shifts)
    params = list(estimator.critic.parameters())
    grads = torch.autograd.grad(mi_for_grads, [*params, x, z])
    nan = torch.tensor(float("nan"))  # bounds without a moving average have no state
    out = {"value": value.detach(), "ema": ema.get("log_ema", nan).detach(), "grad_x": grads[-2], "grad_z": grads[-1]}
    out.update({f"grad_{i}": g for i, g in enumerate(grads[:-2])})
    x, z = x.detach(), z.detach()
    out["values"] = torch.stack([estimator.update(x, z, shifts) for _ in range(UPDATES)])
    out["log_ema"] = getattr(estimator, "log_ema", nan).detach().clone()
    out.update({f"param_{i}": p.detach() for i, p in enumerate(estimator.critic.parameters())})
    return {key: value.numpy() for key, value in out.items()}


def worker(rank: int, world: int, folder: str) -> None:
    import torch.distributed as dist
    from mivb_torch import DistributedMIEstimator, sharded_bound

    torch.set_num_threads(1)
    rows = slice(rank * N // world, (rank + 1) * N // world)
    results = {}
    for case in CASES:
        x, z = global_batch(getattr(torch, CASES[case][3]))
        # Each rank starts from its own random critic: the estimator must broadcast rank 0's (seed 1).
        estimator = make(DistributedMIEstimator, case, seed=1 + rank)
        results.update({f"{case}/{key}": value for key, value in run_case(estimator, case, x[rows], z[rows]).items()})
    # Sampled negatives drawn without explicit shifts: rank 0 draws and broadcasts.
    torch.manual_seed(rank)
    estimator = DistributedMIEstimator(3, 2, bound="dv", critic={"negative_samples": 5, "hidden": (8,)})
    x, z = global_batch(torch.float32)
    results["drawn/value"] = estimator(x[rows], z[rows]).mi.numpy()
    # The bound on sharded scores: this rank's rows of a global matrix.
    scores = torch.randn(N, N, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 3
    for name, params in [(b, {}) for b in BOUNDS] + [("mine", {"log_ema": 0.7}), ("smile", {"clip": None})]:
        local = scores[rows].clone().requires_grad_(True)
        result = sharded_bound(name, local, offset=rows.start, **params)
        key = f"bound/{name}/{params}"
        results[key + "/value"] = result.detach().numpy()
        results[key + "/grad"] = torch.autograd.grad(result, local)[0].numpy()
    dist.barrier()
    np.savez(Path(folder) / f"rank{rank}.npz", **results)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict[str, np.ndarray]]:
    folder = tmp_path_factory.mktemp("ranks")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, __file__, str(folder)], env=env, check=False, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return [dict(np.load(folder / f"rank{r}.npz")) for r in range(WORLD)]


@pytest.mark.parametrize("case", list(CASES))
def test_two_processes_equal_one_process_on_the_global_batch(ranks, case):
    dtype = getattr(torch, CASES[case][3])
    tol = {"rtol": 1e-9, "atol": 1e-11} if dtype == torch.float64 else {"rtol": 2e-4, "atol": 2e-5}
    x, z = global_batch(dtype)
    single = run_case(make(MIEstimator, case, seed=1), case, x, z)
    per_rank = [{key[len(case) + 1:]: v for key, v in rank.items() if key.startswith(case + "/")} for rank in ranks]
    assert set(per_rank[0]) == set(single)
    for key, expected in single.items():
        if key.startswith("grad_") and key not in ("grad_x", "grad_z"):
            # critic gradients: the average over ranks (what DDP computes) is the single-device gradient
            np.testing.assert_allclose(np.mean([r[key] for r in per_rank], axis=0), expected, **tol, err_msg=key)
        elif key in ("grad_x", "grad_z"):
            # input gradients: rank r holds W times the single-device gradient of its own rows
            half = N // WORLD
            for r, rank in enumerate(per_rank):
                np.testing.assert_allclose(rank[key] / WORLD, expected[r * half : (r + 1) * half], **tol, err_msg=key)
        else:  # values, the EMA and the parameters after the updates: the same on every rank
            # (Adam divides by the root of the squared gradients, so the parameters after a few
            # steps carry the gradients' rounding a little amplified)
            loose = {"rtol": 1e-7, "atol": 1e-9} if dtype == torch.float64 else {"rtol": 1e-3, "atol": 1e-4}
            for rank in per_rank:
                np.testing.assert_allclose(rank[key], expected, **(loose if key.startswith("param_") else tol),
                                           err_msg=key)
    if CASES[case][0] == "mine":
        assert np.isfinite(single["log_ema"]) and single["log_ema"] != single["ema"]
    else:
        assert np.isnan(single["log_ema"])


def test_drawn_negatives_are_the_same_on_every_rank(ranks):
    assert np.isfinite(ranks[0]["drawn/value"])
    assert ranks[0]["drawn/value"] == ranks[1]["drawn/value"]


@pytest.mark.parametrize("name, params", [(b, {}) for b in BOUNDS] + [("mine", {"log_ema": 0.7}), ("smile", {"clip": None})])
def test_sharded_bound_equals_the_bound_on_the_whole_matrix(ranks, name, params):
    scores = torch.randn(N, N, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 3
    scores.requires_grad_(True)
    tensors = {key: torch.tensor(value, dtype=torch.float64) for key, value in params.items() if value is not None}
    expected = mivb.bound(name, scores, **{**params, **tensors})
    grad = torch.autograd.grad(expected, scores)[0].numpy()
    key = f"bound/{name}/{params}"
    half = N // WORLD
    for r, rank in enumerate(ranks):
        np.testing.assert_allclose(rank[key + "/value"], expected.item(), rtol=1e-12)
        np.testing.assert_allclose(rank[key + "/grad"] / WORLD, grad[r * half : (r + 1) * half], rtol=1e-10, atol=1e-13)


def test_without_a_process_group_is_a_clear_error():
    from mivb_torch import DistributedMIEstimator

    with pytest.raises(mivb.InvalidArgumentError, match="process_group: expected an initialised"):
        DistributedMIEstimator(2, 2)


if __name__ == "__main__":
    from mivb_torch import launch

    launch(worker, WORLD, args=(sys.argv[1],))
