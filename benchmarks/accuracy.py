"""Accuracy: mivb.estimate with its defaults against closed-form MI, per task, bound and backend.

For each task x bound x backend x sample size: the mean estimate over seeds, its bias and standard
deviation, and whether the task is solved (|log(estimate / truth)| < log 1.5). Prints a table and
writes CSV and JSON to benchmarks/results/.

    python benchmarks/accuracy.py --quick     # 3 tasks, 1 size, 2 seeds: a few minutes
    python benchmarks/accuracy.py             # every task, sizes 1k/5k/10k, 3 seeds: hours on 2 cores
    python benchmarks/accuracy.py --markdown accuracy_grid   # an earlier run's results as a markdown table

--bounds takes any name of mivb.estimators(): the upper bounds and the classical estimators too.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import tasks as task_catalogue

import mivb

RESULTS = Path(__file__).resolve().parent / "results"


def solved(estimate: float, truth: float) -> bool:
    return estimate > 0 and abs(math.log(estimate / truth)) < math.log(1.5)


def run(args: argparse.Namespace) -> list[dict]:
    catalogue = task_catalogue.all_tasks()
    if args.quick:
        catalogue = [t for t in catalogue if t.name in task_catalogue.QUICK_TASKS]
    rows = []
    header = f"{'task':<28} {'bound':<8} {'backend':<10} {'n':>6} {'truth':>6} {'mean':>7} {'bias':>7} {'std':>6} solved  s/run"
    print(header)
    for task in catalogue:
        for n in args.sizes:
            samples = [task.sample(n, seed) for seed in range(args.seeds)]
            for backend in args.backends:
                for bound in args.bounds:
                    start = time.perf_counter()
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            estimates = [mivb.estimate(x.astype(np.float32), z.astype(np.float32), bound=bound,
                                                       backend=backend, seed=seed).mi
                                         for seed, (x, z) in enumerate(samples)]
                    except mivb.MivbError as error:  # an estimator that refuses the task (ksg in 50 dimensions)
                        print(f"{task.name:<28} {bound:<8} {backend:<10} {n:>6} refused: {error}", flush=True)
                        continue
                    seconds = (time.perf_counter() - start) / args.seeds
                    mean = float(np.mean(estimates))
                    row = {"task": task.name, "bound": bound, "backend": backend, "n": n, "truth": task.mi,
                           "mean": mean, "bias": mean - task.mi, "std": float(np.std(estimates)),
                           "solved": solved(mean, task.mi), "seconds_per_run": seconds}
                    rows.append(row)
                    print(f"{task.name:<28} {bound:<8} {backend:<10} {n:>6} {task.mi:>6.3f} {mean:>7.3f} "
                          f"{row['bias']:>+7.3f} {row['std']:>6.3f} {'yes' if row['solved'] else 'NO':>6} "
                          f"{seconds:>6.1f}", flush=True)
    write(rows, args.stem or ("accuracy_quick" if args.quick else "accuracy"))
    print(markdown(rows))
    for (bound, backend) in {(r["bound"], r["backend"]) for r in rows}:
        mine = [r for r in rows if r["bound"] == bound and r["backend"] == backend]
        print(f"{bound}/{backend}: solved {sum(r['solved'] for r in mine)} of {len(mine)} task-size pairs")
    return rows


def write(rows: list[dict], stem: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / f"{stem}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (RESULTS / f"{stem}.json").write_text(json.dumps(rows, indent=1))
    print(f"results written to {RESULTS / stem}.csv and .json")


def markdown(rows: list[dict]) -> str:
    """One row per task and size, one column per (bound, backend): mean ± sd over seeds, ✗ unsolved;
    then how many task-sizes each column solves and its mean seconds per run."""
    columns = list(dict.fromkeys((r["bound"], r["backend"]) for r in rows))
    keys = list(dict.fromkeys((r["task"], r["n"], r["truth"]) for r in rows))
    cell = {(r["task"], r["n"], r["bound"], r["backend"]): r for r in rows}
    names = [backend if len({b for b, _ in columns}) == 1 else f"{bound}/{backend}" for bound, backend in columns]
    lines = ["| task | n | truth | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(columns)]
    for task, n, truth in keys:
        found = [cell.get((task, n, *column)) for column in columns]
        lines.append(f"| {task} | {n:,} | {truth:.3f} | " + " | ".join(
            "" if r is None else f"{r['mean']:.2f} ± {r['std']:.2f}{'' if r['solved'] else ' ✗'}" for r in found) + " |")
    solved = [[r for r in rows if (r["bound"], r["backend"]) == column] for column in columns]
    lines.append("| solved | | | " + " | ".join(f"{sum(r['solved'] for r in c)} of {len(c)}" for c in solved) + " |")
    lines.append("| seconds per run | | | " + " | ".join(f"{np.mean([r['seconds_per_run'] for r in c]):.1f}"
                                                      for c in solved) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", nargs="+", default=None)
    parser.add_argument("--bounds", nargs="+", default=None)
    parser.add_argument("--sizes", nargs="+", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--stem", default=None, help="results file name (default: accuracy, or accuracy_quick)")
    parser.add_argument("--markdown", metavar="STEM", default=None,
                        help="run nothing: print results/STEM.json as a markdown table")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads((RESULTS / f"{args.markdown}.json").read_text())))
        return
    trainable = [b for b in ("torch", "jax", "tensorflow") if b in mivb.available_backends()]
    args.backends = args.backends or trainable
    args.bounds = args.bounds or (["infonce", "smile"] if args.quick else ["infonce", "smile", "mine", "nwj"])
    args.sizes = args.sizes or ([2000] if args.quick else [1000, 5000, 10000])
    args.seeds = args.seeds or (2 if args.quick else 3)
    run(args)


if __name__ == "__main__":
    main()
