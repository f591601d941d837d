"""Beyond Normal: mivb's defaults beside bmi's own estimators on bmi's own tasks, the same samples.

The 40 tasks of Czyz et al., "Beyond Normal: On the Evaluation of Mutual Information Estimators"
(NeurIPS 2023), from their package benchmark-mi 0.1.3 (``bmi.benchmark.BENCHMARK_TASKS``), with
their closed-form MI. Per task and seed, one sample of ``--samples`` pairs (default 5,000, the
paper's; the package itself sets no size) goes to every estimator: mivb.estimate with its defaults
(torch), and bmi's KSG (neighbourhoods 5 and 10, averaged), CCA, MINE, InfoNCE, NWJ and DV with
theirs (neural: MLP 16-8, batch 256, Adam at 0.1, half the pairs for training, at most 10,000
steps, stopped when two tests in a row, every 250 steps, do not beat the best; its seed is the
run's seed, as mivb's is). Every estimate is in nats. A task is solved when the mean over seeds is
within a factor 1.5 of the truth. Prints a table, writes CSV and JSON to benchmarks/results/ and a
heatmap like the paper's to docs/figures/beyond_normal.png.

bmi pins numpy < 2, which mivb does not support, and mivb needs numpy >= 2: no install resolves
both, so the nox session installs bmi with its pins and mivb without its dependencies (noxfile.py).

    nox -s beyond_normal                      # --quick: 4 small tasks, 1 seed, 1,000 pairs, bmi's
                                              # neural estimators capped at 2,000 steps: minutes
    nox -s beyond_normal -- --tasks student   # the full protocol on the tasks whose id or name has "student"
    nox -s beyond_normal -- --seeds 3         # the full benchmark: 40 tasks x 3 seeds, hours on 2 cores
    nox -s beyond_normal -- --merge A B       # one table and figure from runs in parts (--stem A, --stem B;
                                              # by estimator, or by seed with --first-seed); B's runs
                                              # replace A's of the same estimator, task and seed
    nox -s beyond_normal -- --merge A=old B   # A's mivb rows as a column of their own, "old", beside B's
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
from accuracy import RESULTS, solved, write

import mivb
from mivb.copula import RadialCritic

ROOT = Path(__file__).resolve().parents[1]
QUICK_TASKS = ["1v1-normal-0.75", "1v1-bimodal-0.75", "student-identity-2-2-1", "spiral-multinormal-sparse-3-3-2-2.0"]
ESTIMATORS = ["mivb", "KSG", "CCA", "MINE", "InfoNCE", "NWJ", "DV"]
BMI_NEURAL = {"MINE": "MINEEstimator", "InfoNCE": "InfoNCEEstimator", "NWJ": "NWJEstimator",
              "DV": "DonskerVaradhanEstimator"}


def run_one(name: str, x: np.ndarray, y: np.ndarray, seed: int, bmi_steps: int | None) -> dict:
    """One estimator on one sample: its estimate in nats, training steps and notes; for mivb also the
    family its default reported (``bound``: "infonce", "copula", or "copula+radius" where the copula
    kept the blocks' log radii) and, beside a copula, the network's held-out InfoNCE (``lower``)."""
    from bmi import estimators  # imports jax: only here, so that --help stays fast

    if name == "mivb":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its warnings are in .notes, which the row keeps
            result = mivb.estimate(x.astype(np.float32), y.astype(np.float32), backend="torch", seed=seed,
                                   progress=False)
        radial = result.bound == "copula" and isinstance(result.linear_critic, RadialCritic)
        return {"estimate": result.mi, "steps": len(result.history), "notes": "; ".join(result.notes),
                "bound": result.bound + ("+radius" if radial else ""),
                "lower": None if result.lower is None else result.lower.mi}
    if name == "KSG":
        return {"estimate": float(estimators.KSGEnsembleFirstEstimator().estimate(x, y))}
    if name == "CCA":
        return {"estimate": float(estimators.CCAMutualInformationEstimator().estimate(x, y))}
    steps = {} if bmi_steps is None else {"max_n_steps": bmi_steps}
    estimator = getattr(estimators, BMI_NEURAL[name])(seed=seed, verbose=False, **steps)
    result = estimator.estimate_with_info(x, y)
    info = result.additional_information
    # bmi's own warnings: early stopping not reached, training MI falling or still rising
    flags = sorted(key for key, value in info.items() if value is True)
    return {"estimate": float(result.mi_estimate), "steps": info.get("n_training_steps"), "notes": "; ".join(flags)}


def run(args: argparse.Namespace) -> list[dict]:
    from bmi.benchmark import BENCHMARK_TASKS

    chosen = [task for task_id, task in BENCHMARK_TASKS.items()
              if (task_id in QUICK_TASKS if args.quick else True)
              and (not args.tasks or any(s in task_id or s in task.name for s in args.tasks))]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"{len(chosen)} tasks, seeds {seeds.start} to {seeds.stop - 1}, {args.samples} pairs, "
          f"estimators {', '.join(args.estimators)}"
          f"{'' if args.bmi_steps is None else f', bmi neural estimators capped at {args.bmi_steps} steps'}")
    rows = []
    for task in chosen:
        truth = task.mutual_information
        for seed in seeds:
            x, y = (np.asarray(a) for a in task.sample(args.samples, seed))
            for name in args.estimators:
                start = time.perf_counter()
                measured = {"estimate": math.nan, "steps": None, "notes": "", "bound": None, "lower": None}
                try:
                    measured |= run_one(name, x, y, seed, args.bmi_steps)
                except Exception as error:  # noqa: BLE001 - one failure must not end an hours-long run
                    measured["notes"] = f"failed: {error!r}"
                seconds = time.perf_counter() - start
                mi, notes = measured["estimate"], measured["notes"]
                rows.append({"task_id": task.id, "task": task.name, "dim_x": task.dim_x, "dim_y": task.dim_y,
                             "truth": truth, "estimator": name, "seed": seed, "n": args.samples, "estimate": mi,
                             "seconds": round(seconds, 2), "steps": measured["steps"], "notes": notes,
                             "bound": measured["bound"], "lower": measured["lower"]})
                print(f"  {task.id:<48} seed {seed} {name:<8} {mi:7.3f} (truth {truth:.3f}) {seconds:6.1f} s"
                      f"{'  ' + measured['bound'] if measured['bound'] else ''}{'  ' + notes if notes else ''}",
                      flush=True)
        write(rows, args.stem)  # after every task: a long run stopped midway keeps what it measured
    table(rows, args.estimators)
    figure(rows, args.estimators, args.out, args)
    return rows


def means(rows: list[dict], estimators: list[str]) -> tuple[list[tuple[str, str, float]], dict]:
    """The tasks in run order (id, name, truth) and {(task id, estimator): mean estimate over seeds}."""
    first: dict[str, tuple[str, str, float]] = {}
    for r in rows:  # by id: a task's closed-form truth can differ in its last digits between merged runs
        first.setdefault(r["task_id"], (r["task_id"], r["task"], r["truth"]))
    tasks = list(first.values())
    mean = {}
    for task_id, _, _ in tasks:
        for name in estimators:
            values = [r["estimate"] for r in rows if r["task_id"] == task_id and r["estimator"] == name]
            mean[task_id, name] = float(np.mean(values)) if values else math.nan
    return tasks, mean


def table(rows: list[dict], estimators: list[str]) -> None:
    tasks, mean = means(rows, estimators)
    print(f"\n{'task':<50} {'truth':>6} " + " ".join(f"{name:>8}" for name in estimators))
    for task_id, name, truth in tasks:
        cells = [f"{mean[task_id, e]:7.3f}{' ' if solved(mean[task_id, e], truth) else 'x'}" for e in estimators]
        print(f"{name:<50} {truth:6.3f} " + " ".join(cells))
    print("x: not solved (the mean estimate is not within a factor 1.5 of the truth)")
    won = {e: {t for t, _, truth in tasks if solved(mean[t, e], truth)} for e in estimators}
    for e in estimators:
        runs = [r for r in rows if r["estimator"] == e]
        seeds = len({r["seed"] for r in runs})
        print(f"{e}: solved {len(won[e])} of {len(tasks)} tasks, {seeds} seed(s), "
              f"{np.mean([r['seconds'] for r in runs]):.1f} s per run")
    others = [e for e in estimators if e in ESTIMATORS and e != "mivb"]  # bmi's: not an earlier mivb's column
    if "mivb" in won and others:
        best = max(others, key=lambda e: len(won[e]))
        more = all(len(won["mivb"]) > len(won[e]) for e in others)
        missed = sorted(won[best] - won["mivb"])
        print(f"mivb solves more tasks than every bmi estimator: {'yes' if more else 'no'}")
        print(f"mivb solves every task bmi's best ({best}, {len(won[best])}) solves: "
              f"{'yes' if not missed else 'no, not ' + ', '.join(missed)}")


def markdown(rows: list[dict], estimators: list[str]) -> str:
    """The table as markdown: the mean over seeds per task and estimator, ✗ unsolved, then the counts."""
    tasks, mean = means(rows, estimators)
    lines = ["| task | truth | " + " | ".join(estimators) + " |", "|---|---|" + "---|" * len(estimators)]
    for task_id, name, truth in tasks:
        lines.append(f"| {name} | {truth:.3f} | " + " | ".join(
            f"{mean[task_id, e]:.2f}{'' if solved(mean[task_id, e], truth) else ' ✗'}" for e in estimators) + " |")
    counts = [sum(solved(mean[t, e], truth) for t, _, truth in tasks) for e in estimators]
    lines.append("| solved | | " + " | ".join(str(c) for c in counts) + " |")
    return "\n".join(lines)


def figure(rows: list[dict], estimators: list[str], out: Path, args: argparse.Namespace) -> None:
    """The paper's heatmap: a row per task, a column per estimator, the mean estimate written in each
    cell, coloured by log2(estimate / truth) (white: exact; red high, blue low; clipped at 4x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks, mean = means(rows, estimators)
    columns = ["truth", *estimators]
    ratio = np.array([[0.0] + [math.log2(mean[t, e] / truth) if mean[t, e] > 0 else -2.0 for e in estimators]
                      for t, _, truth in tasks])
    truth_column = np.zeros(ratio.shape, dtype=bool)
    truth_column[:, 0] = True
    shown = np.ma.masked_array(np.clip(ratio, -2, 2), mask=truth_column)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.85")  # the truth column: grey
    fig, ax = plt.subplots(figsize=(0.8 * len(columns) + 4.5, 0.3 * len(tasks) + 1.5))
    image = ax.imshow(shown, cmap=cmap, vmin=-2, vmax=2, aspect="auto")
    for i, (task_id, _, truth) in enumerate(tasks):
        ax.text(0, i, f"{truth:.2f}", ha="center", va="center", fontsize=7)
        for j, e in enumerate(estimators, start=1):
            value = mean[task_id, e]
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(ratio[i, j]) > 1.2 else "black",  # readable on dark cells
                    fontweight="normal" if solved(value, truth) else "bold")
    wrapped = [c.replace(" (", "\n(").replace(", ", ",\n") for c in columns]  # "mivb (infonce, before)" fits its column
    ax.set_xticks(range(len(columns)), wrapped, fontsize=8)
    ax.set_yticks(range(len(tasks)), [name for _, name, _ in tasks], fontsize=7)
    ax.xaxis.tick_top()
    fig.colorbar(image, ax=ax, label="log2(estimate / truth)", shrink=0.6)
    mode = "QUICK RUN: " if args.quick else ""
    ax.set_title(f"{mode}Beyond Normal (bmi 0.1.3), {args.samples} pairs, mean of {args.seeds} seed(s), "
                 "nats; bold: not solved", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f"figure written to {out}")


def merge(args: argparse.Namespace) -> None:
    """The table and figure of earlier runs' rows (runs in parts, by estimator or by seed). A run of
    the same estimator, task and seed in a later stem replaces an earlier one (a rerun after a
    change); ``--estimators`` keeps only those."""
    latest = {}
    labels = []
    for part in args.merge:
        stem, _, label = part.partition("=")
        labels += [label] if label else []
        for row in json.loads((RESULTS / f"{stem}.json").read_text()):
            if row["estimator"] in args.estimators:
                row["estimator"] = label if label and row["estimator"] == "mivb" else row["estimator"]
                latest[row["task_id"], row["estimator"], row["seed"]] = row
    rows = list(latest.values())
    order = ["mivb", *labels, *ESTIMATORS[1:]]  # an earlier mivb's column beside the current one
    estimators = [e for e in order if any(r["estimator"] == e for r in rows)]
    args.samples = ", ".join(map(str, sorted({r["n"] for r in rows})))
    counts = sorted({len({r["seed"] for r in rows if r["estimator"] == e}) for e in estimators})
    args.seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"  # per estimator
    table(rows, estimators)
    print(markdown(rows, estimators))
    figure(rows, estimators, args.out, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 small tasks, 1 seed, 1,000 pairs, bmi capped at 2,000 steps")
    parser.add_argument("--seeds", type=int, default=None, help="N seeds from --first-seed on (default 3, quick 1)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0): a run in parts by seed")
    parser.add_argument("--samples", type=int, default=None, help="pairs per sample (default 5,000, quick 1,000)")
    parser.add_argument("--tasks", nargs="+", default=None, help="keep tasks whose id or name contains one of these")
    parser.add_argument("--estimators", nargs="+", default=ESTIMATORS, choices=ESTIMATORS)
    parser.add_argument("--bmi-steps", type=int, default=None,
                        help="cap on bmi's neural training steps (default: bmi's 10,000; quick 2,000)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "beyond_normal.png")
    parser.add_argument("--stem", default=None, help="results file name (default: beyond_normal, or beyond_normal_quick)")
    parser.add_argument("--merge", nargs="+", default=None, metavar="STEM",
                        help="run nothing: print and draw the results of earlier runs (benchmarks/results/STEM.json) "
                             "together, for a benchmark run in parts; STEM=LABEL shows that run's mivb rows as a "
                             "column LABEL (an earlier default beside the current one)")
    args = parser.parse_args()
    if args.merge:
        merge(args)
        return
    args.seeds = args.seeds or (1 if args.quick else 3)
    args.samples = args.samples or (1000 if args.quick else 5000)
    if args.quick and args.bmi_steps is None:
        args.bmi_steps = 2000
    args.stem = args.stem or ("beyond_normal_quick" if args.quick else "beyond_normal")
    run(args)


if __name__ == "__main__":
    main()
