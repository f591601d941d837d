"""Data-parallel InfoNCE on torch.distributed: every process's negatives span the global batch.

Each process holds its own shard of correlated Gaussians (d = 5, true MI 2 nats) and 64 pairs of
every batch; ``DistributedMIEstimator`` scores them against the embeddings of all processes, so
InfoNCE sees K = 127 negatives and its ceiling is log(global batch) = log(128), not log(64).
Before training it checks that the global-batch value equals one process on the concatenated batch.

    torchrun --nproc_per_node=2 examples/distributed_torch.py     # gloo on CPU; about a minute
    python examples/distributed_torch.py --quick                  # launches its own 2 processes
                                                                  # (no torchrun) and asserts the result
    python examples/distributed_torch.py --processes 1            # the same global batch in one process
    python examples/distributed_torch.py --quick --device cuda    # NCCL, one process per local GPU
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import torch
import torch.distributed as dist
from _common import output_folder, parser
from mivb_torch import DistributedMIEstimator, MIEstimator, launch

import mivb
from mivb.data import rho_for_mi

DIM, TRUE_MI, GLOBAL_BATCH = 5, 2.0, 128
CRITIC = {"kind": "separable", "hidden": (64, 64), "embedding": 16}


def shard(rank: int, world: int, n: int, seed: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """This rank's rows of one shared data set (every process draws the same and keeps its part)."""
    x, z, _ = mivb.correlated_gaussians(n, DIM, rho_for_mi(DIM, TRUE_MI), seed=seed)
    return torch.from_numpy(x[rank::world]).to(device), torch.from_numpy(z[rank::world]).to(device)


def check_against_one_process(estimator: DistributedMIEstimator, x: torch.Tensor, z: torch.Tensor) -> float:
    """The global-batch value, and one process's value on the gathered batch with the same critic."""
    value = float(estimator(x, z).mi)
    parts = [[torch.empty_like(t) for _ in range(estimator.world_size)] for t in (x, z)]
    dist.all_gather(parts[0], x)
    dist.all_gather(parts[1], z)
    single = MIEstimator(DIM, DIM, bound="infonce", critic=CRITIC).to(x.device)
    single.critic.load_state_dict(estimator.critic.state_dict())
    expected = float(single(torch.cat(parts[0]), torch.cat(parts[1])).mi)
    assert abs(value - expected) < 1e-5, (value, expected)
    return value


def train(rank: int, world: int, quick: bool, seed: int, out: str, device_kind: str = "cpu") -> None:
    torch.set_num_threads(1)
    device = torch.device(device_kind if device_kind == "cpu" else f"cuda:{rank}")  # NCCL: one GPU per process
    if device.type == "cuda":
        torch.cuda.set_device(device)
    steps, n_train, n_test = (400, 8192, 2048) if quick else (2000, 32768, 4096)
    local = GLOBAL_BATCH // world
    x, z = shard(rank, world, n_train, seed, device)
    x_test, z_test = shard(rank, world, n_test, seed + 1, device)
    torch.manual_seed(seed)
    estimator = DistributedMIEstimator(DIM, DIM, bound="infonce", critic=CRITIC, lr=1e-3).to(device)
    first = check_against_one_process(estimator, x[:local], z[:local])
    batches = np.random.default_rng(seed + 10 * rank).integers(0, len(x), size=(steps, local))
    start = time.perf_counter()
    values = [estimator.update(x[b], z[b]) for b in torch.from_numpy(batches).to(device)]
    elapsed = time.perf_counter() - start
    held_out = estimator.evaluate(x_test, z_test, batch_size=local)  # global batches of 128 pairs
    ceiling = math.log(GLOBAL_BATCH)
    if rank == 0:
        print(f"{world} process(es) on {device.type}, {local} pairs each: global batch {GLOBAL_BATCH}, K = {GLOBAL_BATCH - 1} negatives")
        print(f"global-batch value before training {first:.4f} nats = one process on the concatenated batch")
        print(f"{steps} steps in {elapsed:.1f} s ({steps / elapsed:.1f} steps/s); last training value "
              f"{float(values[-1]):.3f}")
        print(f"held-out InfoNCE {held_out:.3f} nats (true MI {TRUE_MI:.1f}, ceiling log({GLOBAL_BATCH}) = {ceiling:.3f})")
        with open(os.path.join(out, "distributed_torch.txt"), "w") as f:
            f.write(f"processes {world}\ndevice {device.type}\nsteps_per_second {steps / elapsed:.2f}\nestimate {held_out:.4f}\n")
    values = torch.tensor([held_out], device=device)
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    assert float(values) == held_out, "the ranks disagree on the global estimate"
    if quick and rank == 0:
        assert held_out < ceiling, (held_out, ceiling)
        assert abs(held_out - TRUE_MI) < 0.4, (held_out, TRUE_MI)
        print(f"quick check passed: {world} process(es) estimate the MI on a global batch of "
              f"{GLOBAL_BATCH}, below its ceiling log({GLOBAL_BATCH})")


def main() -> None:
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--processes", type=int, default=None,
                           help="processes to launch without torchrun (default: 2 on CPU, every GPU on cuda)")
    arguments.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                           help="cpu (gloo) or cuda (NCCL, one process per GPU)")
    args = arguments.parse_args()
    out = str(output_folder(args.out))
    backend = "nccl" if args.device == "cuda" else "gloo"
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # under torchrun
        dist.init_process_group(backend)
        train(dist.get_rank(), dist.get_world_size(), args.quick, args.seed, out, args.device)
        dist.barrier()  # no process tears the group down while another still uses it
        dist.destroy_process_group()
    else:  # launch our own processes on this machine
        processes = args.processes or (torch.cuda.device_count() if args.device == "cuda" else 2)
        launch(train, processes, args=(args.quick, args.seed, out, args.device), backend=backend)


if __name__ == "__main__":
    main()
