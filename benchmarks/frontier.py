"""The frontier of issue #33 under the user's protocol: `mivb.estimate(x, z)` with every default, beside
the previous default (`bound="infonce"`), on one finite data set per task.

- the staircase: 20,000 pairs of d = 20 correlated Gaussians at 2, 4, 6, 8 and 10 nats (target: within
  10% of the truth);
- dense Gaussians (benchmarks/tasks.py: 10 correlated coordinate pairs, 2 nats, both sides rotated) at
  d = 50 and 100 a side with 10,000 pairs, 200 with 20,000 and 500 with 40,000 (target: within a
  factor 1.5 up to 200);
- Student-t with identity dispersion (dependence only through the shared scale), 5 degrees of
  freedom, at 25, 50 and 100 dimensions a side with 10,000 pairs, 200 with 20,000 and 500 with
  40,000 (target: within a factor 1.5 up to 200).

Nothing here was tuned numerically: the copula has no parameter, and the default's rule (the
network's validation InfoNCE must read clearly more than the copula's estimate) uses the linear
critic's existing margins (mivb/crosscheck.py). Two design steps answered misses on these tasks
(docs/copula.md says which): the log radii (Student-t) and the denoised critic (d = 200). Per task: the estimate, the family that made it, its ratio to the truth, the
held-out lower bound beside it (`result.lower`), and the seconds each call took.

    python benchmarks/frontier.py --quick    # 5 tasks, torch: about 3 minutes on 2 cores
    python benchmarks/frontier.py            # every task: about 20 minutes

Peers (issue #33, item 5): ``--peers KSG CCA InfoNCE LMI`` runs, instead of mivb, other packages'
estimators with their defaults on the same samples (seed 0, the same n): bmi's (benchmark-mi 0.1.3,
called as benchmarks/beyond_normal.py calls them) and LMI's (latentmi 0.1.3, Gosztolai et al.,
NeurIPS 2024: ``latentmi.lmi.estimate``, its pointwise MI in bits averaged and turned into nats).
Each runs in a process of its own, killed after ``--peer-minutes`` (its row then says "not run:
> N minutes"); a failure is its error. Their environment is the beyond_normal nox session's (bmi
pins numpy < 2): install latentmi there, and mivb without its dependencies.

    .nox/beyond_normal/bin/python benchmarks/frontier.py --peers KSG CCA InfoNCE LMI
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reporting import quiet, run_metadata, write_results
from tasks import Task, gaussian, student_t

import mivb
from mivb.data import rho_for_mi


def staircase(mi: float) -> tuple[Task, int]:
    def sample(n: int, seed: int):
        x, z, _ = mivb.correlated_gaussians(n, 20, rho_for_mi(20, mi), seed=seed)
        return x, z

    return Task(f"staircase-{mi:g}", 20, 20, mivb.data.gaussian_mi(20, rho_for_mi(20, mi)), sample), 20_000


def dense(dimensions: int, n: int) -> tuple[Task, int]:
    return gaussian(dimensions, dimensions, 10, rho_for_mi(10, 2.0), dense=True), n


# Pairs per size: 10,000 up to 100 dimensions a side, then 20,000 and 40,000 (the targets).
PAIRS = {25: 10_000, 50: 10_000, 100: 10_000, 200: 20_000, 500: 40_000}
TASKS = [*(staircase(mi) for mi in (2.0, 4.0, 6.0, 8.0, 10.0)),
         *(dense(d, PAIRS[d]) for d in (50, 100, 200, 500)),
         *((student_t(d, d, 0, 0.0, 5.0), PAIRS[d]) for d in (25, 50, 100, 200, 500))]
QUICK = ("staircase-2", "staircase-10", "gauss-100x100-dense", "student-25x25-dof5")


PEERS = ["KSG", "CCA", "MINE", "InfoNCE", "NWJ", "DV", "LMI"]


def peer_one(name: str, x, z, bmi_steps: int | None) -> dict:
    """One peer's estimate (nats) of one sample: bmi's through beyond_normal.run_one, or LMI's."""
    if name != "LMI":
        from beyond_normal import run_one

        return run_one(name, x, z, 0, bmi_steps)
    import numpy as np
    import torch
    from latentmi import lmi

    np.random.seed(0)  # LMI splits the pairs with numpy's global generator
    torch.manual_seed(0)
    pointwise, _, _ = lmi.estimate(x, z, quiet=True, device="cpu")  # every default but the device
    return {"estimate": float(np.nanmean(pointwise)) * math.log(2)}  # its KSG reports bits


def peer_child(task_name: str, name: str, out: str, bmi_steps: int | None) -> None:
    """Runs in a process of its own (so that a time budget can end it): samples the task as
    ``run`` does and writes the peer's result, with the seconds its call took, to ``out``."""
    task, n = next((t, n) for t, n in TASKS if t.name == task_name)
    x, z = task.sample(n, 0)
    start = time.perf_counter()
    with quiet():
        measured = peer_one(name, x, z, bmi_steps)
    measured["seconds"] = time.perf_counter() - start
    Path(out).write_text(json.dumps(measured))


def run_peers(args: argparse.Namespace) -> list[dict]:
    rows = []
    budget = args.peer_minutes * 60
    print(f"{'task':<22} {'n':>6} {'truth':>6} {'peer':<8} {'estimate':>8} {'ratio':>6} {'seconds':>8}  notes")
    for task, n in TASKS:
        if args.tasks and not any(s in task.name for s in args.tasks):
            continue
        for name in args.peers:
            row = {"task": task.name, "n": n, "truth": round(task.mi, 4), "peer": name, "estimate": None,
                   "ratio": None, "seconds": None, "steps": None, "notes": ""}
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "result.json"
                command = [sys.executable, __file__, "--peer-child", task.name, name, str(out)]
                command += [] if args.bmi_steps is None else ["--bmi-steps", str(args.bmi_steps)]
                start = time.perf_counter()
                try:
                    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=budget)
                    if out.exists():
                        measured = json.loads(out.read_text())
                        row |= {"estimate": round(measured["estimate"], 4), "seconds": round(measured["seconds"], 1),
                                "steps": measured.get("steps"), "notes": measured.get("notes") or ""}
                        if math.isfinite(measured["estimate"]):
                            row["ratio"] = round(measured["estimate"] / task.mi, 3)
                    else:
                        error = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
                        row["notes"] = f"failed: {error}"
                except subprocess.TimeoutExpired:
                    row["notes"] = f"not run: > {args.peer_minutes:g} minutes"
                    row["seconds"] = round(time.perf_counter() - start, 1)
            rows.append(row)
            estimate = "-" if row["estimate"] is None else f"{row['estimate']:.3f}"
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3f}"
            print(f"{task.name:<22} {n:>6} {task.mi:>6.3f} {name:<8} {estimate:>8} {ratio:>6} {row['seconds'] or 0:>8.1f}"
                  f"  {row['notes']}", flush=True)
        if rows:  # after every task: a run stopped midway keeps what it measured
            write_results(rows, run_metadata("frontier.py", peers=args.peers, peer_minutes=args.peer_minutes,
                                             bmi_steps=args.bmi_steps), args.stem or "frontier_peers")
    return rows


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    print(f"{'task':<22} {'n':>6} {'truth':>6} {'default':>8} {'family':<8} {'ratio':>6} {'lower':>7} "
          f"{'infonce':>8} {'ratio':>6} {'s default':>9} {'s infonce':>9}")
    for task, n in TASKS:
        if args.quick and task.name not in QUICK:
            continue
        x, z = task.sample(n, 0)
        timings, results = {}, {}
        for label, bound in (("default", None), ("infonce", "infonce")):
            start = time.perf_counter()
            with quiet():
                results[label] = mivb.estimate(x, z, bound=bound, backend=args.backend, seed=0, progress=False)
            timings[label] = time.perf_counter() - start
        default, infonce = results["default"], results["infonce"]
        lower = default.lower.mi if default.lower is not None else default.mi
        row = {"task": task.name, "n": n, "truth": round(task.mi, 4), "default": round(default.mi, 4),
               "family": default.bound, "kind": default.kind, "ratio": round(default.mi / task.mi, 3),
               "lower": round(lower, 4), "infonce": round(infonce.mi, 4),
               "infonce_ratio": round(infonce.mi / task.mi, 3), "seconds_default": round(timings["default"], 1),
               "seconds_infonce": round(timings["infonce"], 1), "notes": len(default.notes)}
        rows.append(row)
        print(f"{task.name:<22} {n:>6} {task.mi:>6.3f} {default.mi:>8.3f} {default.bound:<8} {row['ratio']:>6.3f} "
              f"{lower:>7.3f} {infonce.mi:>8.3f} {row['infonce_ratio']:>6.3f} {timings['default']:>9.1f} "
              f"{timings['infonce']:>9.1f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 tasks instead of 14")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--peers", nargs="+", default=[], choices=PEERS,
                        help="run these peers' estimators instead of mivb (bmi's, and LMI's latentmi)")
    parser.add_argument("--peer-minutes", type=float, default=4, help="each peer's time budget per task (default 4)")
    parser.add_argument("--bmi-steps", type=int, default=None, help="cap on bmi's neural steps (default bmi's 10,000)")
    parser.add_argument("--tasks", nargs="+", default=None, help="with --peers: tasks whose name contains one of these")
    parser.add_argument("--stem", default=None, help="with --peers: results file name (default frontier_peers)")
    parser.add_argument("--peer-child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_child:
        peer_child(*args.peer_child, args.bmi_steps)
        return
    if args.peers:
        run_peers(args)
        return
    rows = run(args)
    write_results(rows, run_metadata("frontier.py", backend=args.backend), "frontier_quick" if args.quick else "frontier")


if __name__ == "__main__":
    main()
