"""Calibration: how often the cross-fitted interval of ``mivb.estimate(folds=5)`` covers.

For each setting (correlated Gaussians of known MI), D independent draws, each with its own data
seed and estimate seed. The interval's target is what the estimator estimates, the mean of its
estimates over draws, not the true MI (InfoNCE is a lower bound, biased low at these sizes): draw
i covers when its interval contains the mean of the other draws' estimates (leave-one-out).
Reported per setting: coverage with its Monte Carlo standard error sqrt(c (1 - c) / D), the level,
the mean interval width, the mean estimate and the truth, the share of intervals that contain the
truth, the mean ``stderr`` (the noise of the test batches only) against the standard deviation of
the estimates across draws and the interval's own standard error (half-width / t-quantile), and
the coverage of the naive interval mi +- z * stderr, for contrast. Prints a markdown table and
writes CSV and JSON to benchmarks/results/.

    python benchmarks/calibration.py --quick     # n = 500, 8 draws: about 2 minutes on 2 cores
    python benchmarks/calibration.py             # n = 1000, 80 draws: about 13 minutes on 2 cores

``--settings dim:rho`` ... chooses the settings (default ``2:0.5``; ``5:0.5`` is a second one).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from reporting import proportion, quiet, run_metadata, write_results
from scipy import stats

import mivb

FOLDS = 5


def draws_of(dim: int, rho: float, n: int, draws: int, level: float, backend: str) -> dict:
    """``draws`` cross-fitted estimates on fresh data; the coverage summary of their intervals."""
    mi, low, high, stderr, unreliable, noted = [], [], [], [], 0, 0
    truth = mivb.gaussian_mi(dim, rho)
    start = time.perf_counter()
    for draw in range(draws):
        x, z, _ = mivb.correlated_gaussians(n, dim, rho, seed=10_000 + draw)  # data seeds apart from estimate seeds
        with quiet():
            found = mivb.estimate(x, z, bound="infonce", folds=FOLDS, level=level, backend=backend, seed=draw,
                                  progress=False)
        mi.append(found.mi)
        low.append(found.interval[0])
        high.append(found.interval[1])
        stderr.append(found.stderr)
        unreliable += bool(found.unreliable)
        noted += bool(found.notes)
    seconds = (time.perf_counter() - start) / draws
    mi, low, high, stderr = map(np.asarray, (mi, low, high, stderr))
    others = (mi.sum() - mi) / (draws - 1)  # leave-one-out mean of the estimates
    covered = (low <= others) & (others <= high)
    z_quantile = stats.norm.ppf((1 + level) / 2)
    naive = np.abs(mi - others) <= z_quantile * stderr
    t_quantile = stats.t.ppf((1 + level) / 2, FOLDS - 1)
    coverage, coverage_se = proportion(covered)
    naive_coverage, naive_se = proportion(naive)
    return {"dim": dim, "rho": rho, "n": n, "draws": draws, "folds": FOLDS, "level": level, "truth": truth,
            "coverage": coverage, "coverage_se": coverage_se,
            "mean_width": float((high - low).mean()), "mean_estimate": float(mi.mean()),
            "covers_truth": float(((low <= truth) & (truth <= high)).mean()),
            "std_estimates": float(mi.std(ddof=1)), "mean_stderr": float(stderr.mean()),
            "mean_interval_se": float(((high - low) / 2 / t_quantile).mean()),
            "naive_coverage": naive_coverage, "naive_coverage_se": naive_se,
            "unreliable": unreliable, "noted": noted, "seconds_per_draw": seconds}


def table(rows: list[dict]) -> list[str]:
    lines = [("| setting | n | D | level | coverage (± MC se) | naive mi ± z·stderr | mean width | truth | mean est. "
              "| covers truth | std of est. | mean interval se | mean stderr | unreliable | s/draw |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| gauss d={r['dim']} rho={r['rho']:g} | {r['n']} | {r['draws']} | {r['level']:.2f} "
                     f"| {r['coverage']:.3f} ± {r['coverage_se']:.3f} "
                     f"| {r['naive_coverage']:.3f} ± {r['naive_coverage_se']:.3f} | {r['mean_width']:.3f} "
                     f"| {r['truth']:.3f} | {r['mean_estimate']:.3f} | {r['covers_truth']:.2f} "
                     f"| {r['std_estimates']:.3f} | {r['mean_interval_se']:.3f} | {r['mean_stderr']:.3f} "
                     f"| {r['unreliable']} | {r['seconds_per_draw']:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--settings", nargs="+", default=["2:0.5"], help="dim:rho of correlated Gaussians")
    parser.add_argument("--n", type=int, default=None, help="pairs per draw (default 1000, --quick 500)")
    parser.add_argument("--draws", type=int, default=None, help="draws per setting (default 80, --quick 8)")
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--stem", default=None, help="results file name (default: calibration, or calibration_quick)")
    args = parser.parse_args()
    n = args.n or (500 if args.quick else 1000)
    draws = args.draws or (8 if args.quick else 80)
    meta = run_metadata("calibration.py", backend=args.backend, bound="infonce")
    rows = []
    for setting in args.settings:
        dim, rho = setting.split(":")
        rows.append(draws_of(int(dim), float(rho), n, draws, args.level, args.backend))
        print(f"done {setting}: coverage {rows[-1]['coverage']:.3f}", flush=True)
    print()
    print(f"Calibration of estimate(folds={FOLDS}), infonce, {args.backend}; {meta['date']}, {meta['machine']}")
    print(f"`{meta['command']}`")
    print()
    print("\n".join(table(rows)))
    print()
    print("coverage: the interval contains the mean of the other draws' estimates (its target); covers truth: "
          "it contains the true MI, which it need not (a lower bound, biased low); naive: mi ± z·stderr, "
          "z the normal quantile of the level; interval se: half-width / t quantile (K - 1 = "
          f"{FOLDS - 1} dof); std of est.: across draws, what a well-calibrated se matches")
    write_results(rows, meta, args.stem or ("calibration_quick" if args.quick else "calibration"))


if __name__ == "__main__":
    main()
