"""Conditional MI: mivb.estimate(x, z, given=y) against the closed-form I(X; Z | Y), per task and backend.

For each conditional task of benchmarks/tasks.py x backend x sample size, the default estimate with
``given=`` (InfoNCE, the chain rule I(X; (Z, Y)) - I(X; Y)) over seeds: the truth, the mean estimate,
its bias and standard deviation, the means of the two terms, and whether the mean is within
tolerance of the truth: |mean - truth| <= max(0.15 nats, 25% of the truth), i.e. within 0.15 nats
OR within 25% (the absolute criterion is what judges a truth of 0). Then, for torch only, one row per
task and size with ``folds=5``: the mean estimate, the mean cross-fitted interval (mean lower and
upper ends over seeds) and whether it covers the truth (and how many seeds' intervals do). Counts
per row the unreliable results and the results with notes (the library's warnings are silenced in
the loops). Prints markdown tables, dated with the machine, and writes CSV and JSON to
benchmarks/results/.

    python benchmarks/conditional.py --quick     # one task, torch, one seed, n=2000: under a minute
    python benchmarks/conditional.py             # 3 tasks x 3 backends x 2 seeds, n=5000: about 15 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import tasks as task_catalogue
from reporting import quiet, run_metadata, write_results

import mivb

FOLDS = 5
TOLERANCE_NATS, TOLERANCE_RELATIVE = 0.15, 0.25
QUICK_TASK = "cmi-correlated-3d-rho0.6"
FIELDS = ["task", "mode", "backend", "n", "seeds", "truth", "mean", "bias", "std", "joint_mean", "marginal_mean",
          "within", "interval_low", "interval_high", "covers_truth", "seeds_covering", "unreliable", "noted",
          "seconds_per_run"]


def within(estimate: float, truth: float) -> bool:
    """Within 0.15 nats or within 25% of the truth, whichever is looser."""
    return abs(estimate - truth) <= max(TOLERANCE_NATS, TOLERANCE_RELATIVE * abs(truth))


def runs(task: task_catalogue.ConditionalTask, n: int, seeds: int, backend: str, folds: int | None) -> dict:
    """``seeds`` estimates of I(X; Z | Y) on fresh data (data seed = estimate seed); their summary."""
    found = []
    start = time.perf_counter()
    for seed in range(seeds):
        x, z, y = (a.astype(np.float32) for a in task.sample(n, seed))
        with quiet():
            found.append(mivb.estimate(x, z, given=y, backend=backend, seed=seed, progress=False, folds=folds))
    seconds = (time.perf_counter() - start) / seeds
    mi = np.array([r.mi for r in found])
    mean = float(mi.mean())
    row = dict.fromkeys(FIELDS)
    row.update({"task": task.name, "mode": "default" if folds is None else f"folds={folds}", "backend": backend,
                "n": n, "seeds": seeds, "truth": task.mi, "mean": mean, "bias": mean - task.mi,
                "std": float(mi.std()), "joint_mean": float(np.mean([r.terms[0].mi for r in found])),
                "marginal_mean": float(np.mean([r.terms[1].mi for r in found])), "within": within(mean, task.mi),
                "unreliable": sum(bool(r.unreliable) for r in found), "noted": sum(bool(r.notes) for r in found),
                "seconds_per_run": seconds})
    if folds is not None:
        low, high = np.array([r.interval[0] for r in found]), np.array([r.interval[1] for r in found])
        row.update({"interval_low": float(low.mean()), "interval_high": float(high.mean()),
                    "covers_truth": bool(low.mean() <= task.mi <= high.mean()),
                    "seeds_covering": int(((low <= task.mi) & (task.mi <= high)).sum())})
    return row


def tables(rows: list[dict]) -> list[str]:
    lines = [("| task | backend | n | seeds | truth | mean | bias | std | I(X;(Z,Y)) | I(X;Y) | within | unreliable "
              "| noted | s/run |"),
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        if r["mode"] == "default":
            lines.append(f"| {r['task']} | {r['backend']} | {r['n']} | {r['seeds']} | {r['truth']:.3f} "
                         f"| {r['mean']:.3f} | {r['bias']:+.3f} | {r['std']:.3f} | {r['joint_mean']:.3f} "
                         f"| {r['marginal_mean']:.3f} | {'yes' if r['within'] else 'NO'} | {r['unreliable']} "
                         f"| {r['noted']} | {r['seconds_per_run']:.1f} |")
    crossfit = [r for r in rows if r["mode"] != "default"]
    if crossfit:
        lines += ["", ("| task | backend | n | seeds | folds | truth | mean | mean interval | covers truth "
                       "| seeds covering | within | unreliable | noted | s/run |"),
                  "|---|---|---:|---:|---:|---:|---:|---|---|---:|---|---:|---:|---:|"]
        for r in crossfit:
            lines.append(f"| {r['task']} | {r['backend']} | {r['n']} | {r['seeds']} | {r['mode'].split('=')[1]} "
                         f"| {r['truth']:.3f} | {r['mean']:.3f} | ({r['interval_low']:.3f}, {r['interval_high']:.3f}) "
                         f"| {'yes' if r['covers_truth'] else 'NO'} | {r['seeds_covering']}/{r['seeds']} "
                         f"| {'yes' if r['within'] else 'NO'} | {r['unreliable']} | {r['noted']} "
                         f"| {r['seconds_per_run']:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", nargs="+", default=None, help="default: torch jax tensorflow, those installed")
    parser.add_argument("--sizes", nargs="+", type=int, default=None, help="pairs per run (default 5000, --quick 2000)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per row (default 2, --quick 1)")
    parser.add_argument("--tasks", nargs="+", default=None, help="task names (default: every conditional task)")
    parser.add_argument("--no-folds", action="store_true", help=f"skip the torch folds={FOLDS} rows")
    parser.add_argument("--stem", default=None, help="results file name (default: conditional, or conditional_quick)")
    args = parser.parse_args()
    catalogue = task_catalogue.conditional_tasks()
    names = args.tasks or ([QUICK_TASK] if args.quick else [t.name for t in catalogue])
    unknown = set(names) - {t.name for t in catalogue}
    if unknown:
        parser.error(f"unknown tasks {sorted(unknown)}; known: {[t.name for t in catalogue]}")
    catalogue = [t for t in catalogue if t.name in names]
    trainable = [b for b in ("torch", "jax", "tensorflow") if b in mivb.available_backends()]
    backends = args.backends or (["torch"] if args.quick else trainable)
    sizes = args.sizes or ([2000] if args.quick else [5000])
    seeds = args.seeds or (1 if args.quick else 2)
    meta = run_metadata("conditional.py", bound="infonce",
                        tolerance=f"|mean - truth| <= max({TOLERANCE_NATS} nats, {TOLERANCE_RELATIVE:.0%} of truth)")
    rows = []
    start = time.perf_counter()
    for task in catalogue:
        for n in sizes:
            settings = [(backend, None) for backend in backends]
            if "torch" in backends and not args.no_folds:
                settings.append(("torch", FOLDS))
            for backend, folds in settings:
                rows.append(runs(task, n, seeds, backend, folds))
                r = rows[-1]
                print(f"done {task.name} {backend} n={n} {r['mode']}: truth {task.mi:.3f}, mean {r['mean']:.3f} "
                      f"({r['seconds_per_run']:.0f} s/run)", flush=True)
    print()
    print(f"Conditional MI, estimate(x, z, given=y), infonce defaults; {meta['date']}, {meta['machine']}; "
          f"total {(time.perf_counter() - start) / 60:.1f} min")
    print(f"`{meta['command']}`")
    print()
    print("\n".join(tables(rows)))
    print()
    print(f"within: {meta['tolerance']}, i.e. within 0.15 nats or 25% of the truth; the terms are the means of "
          "I(X; (Z, Y)) and I(X; Y), whose difference is the estimate; mean interval: the means of the "
          f"{FOLDS}-fold cross-fitted intervals' ends (it covers training and test noise, not the bound's bias); "
          "unreliable / noted: how many of the seeds' results were flagged unreliable / carried notes")
    write_results(rows, meta, args.stem or ("conditional_quick" if args.quick else "conditional"), FIELDS)


if __name__ == "__main__":
    main()
