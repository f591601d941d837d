"""Independence test: false-positive rate on independent data, and power against weak dependence.

Two tests on the same data each draw: ``mivb.independence_test`` with a trained critic (InfoNCE,
torch: one training, then the test split re-scored under each shuffle of z) and KSG's shuffle test
(``bound="ksg"``: no training, KSG recomputed on each shuffle). Level 0.05.

(a) Size: x and z independent standard normals (dim 2, n = 200), many draws; the rejection rate
    with its Monte Carlo standard error sqrt(r (1 - r) / D), and whether it is <= 0.05 within two
    of them (a valid permutation test rejects with probability at most 0.05).
(b) Power: correlated Gaussians (dim 1, rho = sqrt(1 - exp(-2 I))) of true MI I = 0.02 and 0.05
    nats, at n = 1000 and 5000; the rejection rate with its Monte Carlo error per cell.

Each draw has its own data seed and test seed. Prints a markdown table and writes CSV and JSON to
benchmarks/results/.

    python benchmarks/independence.py --quick    # 20 null draws, 3 per power cell: about 3 minutes
    python benchmarks/independence.py            # 200 null draws, 40 / 30 per cell at n = 1000 / 5000:
                                                 # 25 to 30 minutes on 2 cores

KSG's shuffle test costs ``permutations`` KSG runs: at n = 5000 it takes 99 permutations (199 below),
which the table says.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from reporting import proportion, quiet, run_metadata, write_results

import mivb

LEVEL = 0.05
PERMUTATIONS = 199  # the trained test's: one training, then a cheap re-scoring per shuffle
KSG_PERMUTATIONS = {5000: 99}  # KSG's shuffle test, where 199 runs of KSG would cost too much; 199 elsewhere


def rho_for(mi: float) -> float:
    """The correlation of one pair of Gaussian coordinates whose MI is ``mi`` nats."""
    return math.sqrt(1 - math.exp(-2 * mi))


def null_data(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dim)).astype(np.float32), rng.standard_normal((n, dim)).astype(np.float32))


def cell(part: str, data: str, truth: float, n: int, samples, draws: int, backend: str) -> list[dict]:
    """Both tests on ``draws`` draws of ``samples(draw)``: one row per test."""
    tests = {"mivb infonce": {"bound": "infonce", "backend": backend, "permutations": PERMUTATIONS},
             "ksg shuffle": {"bound": "ksg", "permutations": KSG_PERMUTATIONS.get(n, PERMUTATIONS)}}
    rejected = {name: [] for name in tests}
    unreliable = dict.fromkeys(tests, 0)
    seconds = dict.fromkeys(tests, 0.0)
    for draw in range(draws):
        x, z = samples(draw)
        for name, options in tests.items():
            start = time.perf_counter()
            with quiet():
                found = mivb.independence_test(x, z, level=LEVEL, seed=draw, progress=False, **options)
            seconds[name] += time.perf_counter() - start
            rejected[name].append(found.dependent)
            unreliable[name] += bool(found.estimate.unreliable)
    rows = []
    for name, options in tests.items():
        rate, se = proportion(rejected[name])
        rows.append({"part": part, "data": data, "truth": truth, "n": n, "test": name,
                     "permutations": options["permutations"], "draws": draws, "level": LEVEL,
                     "rejection_rate": rate, "mc_se": se,
                     "size_ok": (rate <= LEVEL + 2 * se) if part == "size" else None,
                     "unreliable": unreliable[name], "seconds_per_draw": seconds[name] / draws})
        print(f"{part} {data} n={n} {name}: {rate:.3f} ± {se:.3f} ({seconds[name] / draws:.1f} s/draw)", flush=True)
    return rows


def table(rows: list[dict]) -> list[str]:
    lines = [("| part | data | true MI | n | test | perms | draws | rejection rate (± MC se) | <= 0.05 within 2 se "
              "| unreliable | s/draw |"),
             "|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        verdict = "" if r["size_ok"] is None else ("yes" if r["size_ok"] else "**NO**")
        lines.append(f"| {r['part']} | {r['data']} | {r['truth']:g} | {r['n']} | {r['test']} | {r['permutations']} "
                     f"| {r['draws']} | {r['rejection_rate']:.3f} ± {r['mc_se']:.3f} | {verdict} "
                     f"| {r['unreliable']} | {r['seconds_per_draw']:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--null-draws", type=int, default=None, help="draws of independent data (default 200, "
                        "--quick 20)")
    parser.add_argument("--power-draws", type=int, nargs=2, default=None, metavar=("N1000", "N5000"),
                        help="draws per power cell at n = 1000 and 5000 (default 40 30, --quick 3 3)")
    parser.add_argument("--stem", default=None, help="results file name (default: independence, or independence_quick)")
    args = parser.parse_args()
    null_draws = args.null_draws or (20 if args.quick else 200)
    power_draws = dict(zip((1000, 5000), args.power_draws or ((3, 3) if args.quick else (40, 30))))
    meta = run_metadata("independence.py", backend=args.backend, level=LEVEL)
    start = time.perf_counter()
    rows = cell("size", "independent N(0, I), dim 2", 0.0, 200, lambda draw: null_data(200, 2, 20_000 + draw),
                null_draws, args.backend)
    for k, mi in enumerate((0.02, 0.05)):
        for n, draws in power_draws.items():
            rho = rho_for(mi)
            assert abs(mivb.gaussian_mi(1, rho) - mi) < 1e-12

            def samples(draw: int, n: int = n, rho: float = rho, k: int = k) -> tuple[np.ndarray, np.ndarray]:
                x, z, _ = mivb.correlated_gaussians(n, 1, rho, seed=100_000 * (1 + 2 * k + (n > 1000)) + draw)
                return x, z

            rows += cell("power", f"gauss dim 1, rho {rho:.4f}", mi, n, samples, draws, args.backend)
    meta["minutes"] = (time.perf_counter() - start) / 60
    print()
    print(f"Independence tests at level {LEVEL:g}; {meta['date']}, {meta['machine']}; {meta['minutes']:.0f} min")
    print(f"`{meta['command']}`")
    print()
    print("\n".join(table(rows)))
    print()
    print(f"mivb infonce: bound infonce, backend {args.backend}, {PERMUTATIONS} permutations of the test split "
          "(20% of the pairs); ksg shuffle: KSG (k = 3) on all pairs, z shuffled; perms: the permutations each ran. "
          "MC se: sqrt(r (1 - r) / draws). unreliable: statistics flagged unreliable as MI estimates.")
    write_results(rows, meta, args.stem or ("independence_quick" if args.quick else "independence"))


if __name__ == "__main__":
    main()
