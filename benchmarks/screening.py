"""Screening a table's features: mivb.screen against scikit-learn's MI and a KSG shuffle test, on tables of known MI.

The tables (``table(...)``): a Gaussian target y and four sorts of columns.

- Informative: x = h(t) with t = rho y + sqrt(1 - rho^2) e (e standard normal, its own per column) and h
  one-to-one, so I(x; y) = I(t; y) = -1/2 log(1 - rho^2) exactly (MI is unchanged by one-to-one
  maps of either side). Five maps h: ``linear`` (2t + 1), ``cubic`` (t^3), ``saturating`` (tanh t),
  ``heavy-tailed`` (the Student-t quantile, 2 degrees of freedom, of Phi(t): infinite variance) and
  ``v-shaped``, x = s q(t) with s an independent random sign and q(t) = Phi^-1((1 + Phi(t)) / 2) the
  half-normal quantile: x is standard normal, uncorrelated with y, and y depends on |x| only
  (|x| carries all of x's information about y, and s none). Three levels of MI: strong 0.3,
  medium 0.08, weak 0.02 nats.
- Null: independent standard normals (I = 0).
- An interacting pair (pair_a, pair_b): pair_a standard normal, pair_b = sign(pair_a) f sign(y) |r|
  with r standard normal and f a sign flipped with probability 0.1. Each column alone is standard
  normal and independent of y (each alone counts as a null feature), while sign(pair_a pair_b) is
  sign(y) read through a binary channel that errs with probability 0.1: the pair's MI is
  log 2 - H(0.1) = 0.368 nats (the group ``pair``, given to ``groups=``).

The classification variant targets c = 1[y > 0]: I(pair; c) is the same, and an informative
column's I(t; c) = log 2 - E_t[H(Phi(rho t / sqrt(1 - rho^2)))] is a one-dimensional integral,
computed with scipy's quad to 1e-10 (``classification_truth``). tests/test_screening_tables.py checks
every stated truth against a Monte Carlo average of the exact log density ratio.

Methods, each on the same tables (one per seed):

- ``mivb.screen`` with 1 and 2 local worker processes (and ``--ray``: through a local Ray cluster of
  2 workers, started by the script; the difference in time is Ray's overhead);
- ``sklearn`` ``mutual_info_regression`` (k = 3; ``mutual_info_classif`` for the classification
  variant): estimates only, no p-values;
- ``ksg shuffle``: KSG (Kraskov et al.'s first estimator, k = 3, max-norm, standardised columns) with a
  permutation p-value from ``--ksg-permutations`` shuffles of the target per feature. Its p-values are
  also the ones sklearn's row is judged by (both are KSG with k = 3; sklearn has no test of its own).
  With ``--classification`` it reads the labels as numbers (KSG with ties: biased estimates, valid
  p-values), while mivb.screen runs Ross's estimator on integer labels; that variant has not been
  run for the docs.

Metrics per method, averaged over seeds: mean absolute error against the truth (features and the
pair's group), Spearman's rank correlation with the truth, the false-discovery rate of Benjamini and
Hochberg's procedure at q = 0.1 (the share of discoveries that are null columns, averaged over seeds,
with its Monte Carlo standard error: the standard deviation of the seeds' shares / sqrt(seeds)), the
power on the weak features (share of them discovered), and the wall time per table, with ratios to
the first row's (mivb's first executor). Prints a dated markdown table and writes CSV and JSON to benchmarks/results/.

    python benchmarks/screening.py --quick                 # 24 features x 500 rows, 2 seeds: a minute
    python benchmarks/screening.py --size medium --seeds 8 --permutations 99 --workers 2 1 --ray
    python benchmarks/screening.py --size large-narrow --seeds 1 --permutations 99 --workers 2
    python benchmarks/screening.py --size small-wide --seeds 1 --permutations 99 --workers 2 --no-shuffle

Sizes: ``small-wide`` 100 features x 20,000 rows and ``large-narrow`` 1,000 x 2,000 (the issue's),
``medium`` 100 x 2,000 (cheap enough for many seeds: the FDR's Monte Carlo error, and the executors'
times). The first of ``--workers`` runs on every seed; the other counts and ``--ray`` on seed 0 only,
for their time and to check that they give the same table. ``--no-shuffle``: scikit-learn without
the KSG shuffle test (at 20,000 rows its 99 shuffles per feature cost as much as mivb's screen).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from reporting import quiet, run_metadata, write_results
from scipy import integrate, special, stats

import mivb

Q = 0.1
LEVELS = {"strong": 0.3, "medium": 0.08, "weak": 0.02}
KINDS = ("linear", "cubic", "saturating", "heavy-tailed", "v-shaped")
FLIP = 0.1  # the interacting pair's channel: sign(y) read wrong with this probability
HEAVY_DOF = 2.0
# small-wide and large-narrow are the issue's; medium, cheaper, is the one repeated over many seeds
# for the false-discovery rate's Monte Carlo error and the executors' times
SIZES = {"quick": (24, 500), "medium": (100, 2_000), "small-wide": (100, 20_000), "large-narrow": (1_000, 2_000)}


def rho_for(mi: float) -> float:
    """The correlation of two Gaussians whose MI is ``mi`` nats: -1/2 log(1 - rho^2) = mi."""
    return math.sqrt(-math.expm1(-2 * mi))


def binary_entropy(p: np.ndarray | float) -> np.ndarray | float:
    """H(p) in nats, 0 at p = 0 and 1."""
    return special.entr(p) + special.entr(1 - p)


def pair_truth() -> float:
    """I((pair_a, pair_b); y) = I(sign(y) through the channel; sign(y)) = log 2 - H(FLIP)."""
    return math.log(2) - float(binary_entropy(FLIP))


def classification_truth(mi: float) -> float:
    """I(t; 1[y > 0]) for Gaussians t, y of MI ``mi``: log 2 - E_t H(Phi(rho t / sqrt(1 - rho^2)))."""
    rho = rho_for(mi)
    slope = rho / math.sqrt(1 - rho**2)
    value, error = integrate.quad(lambda t: stats.norm.pdf(t) * binary_entropy(special.ndtr(slope * t)),
                                  -np.inf, np.inf, epsabs=1e-12, epsrel=1e-12, limit=200)
    assert error < 1e-10, error
    return math.log(2) - value


def transform(kind: str, t: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """x = h(t), one-to-one (``v-shaped``: with an independent ``sign``, which carries nothing about y)."""
    if kind == "linear":
        return 2 * t + 1
    if kind == "cubic":
        return t**3
    if kind == "saturating":
        return np.tanh(t)
    if kind == "heavy-tailed":  # the quantile of the lower tail's probability, mirrored: exact in both tails
        return np.sign(t) * -stats.t.ppf(special.ndtr(-np.abs(t)), HEAVY_DOF)
    if kind == "v-shaped":  # Phi^-1((1 + Phi(t)) / 2) = -Phi^-1(Phi(-t) / 2), the latter exact in the upper tail
        return sign * -special.ndtri(special.ndtr(-t) / 2)
    raise ValueError(f"expected a kind among {KINDS}, received kind={kind!r}")


@dataclass
class Table:
    columns: dict[str, np.ndarray]  # the features, in order
    target: np.ndarray  # y, standard normal
    truth: dict[str, float]  # I(column; y) for each column, and the group "pair"
    weak: list[str]  # the weak informative columns (power)
    null: list[str]  # the columns independent of y (FDR): the null ones and each of the pair

    @property
    def classes(self) -> np.ndarray:
        return (self.target > 0).astype(np.int64)

    def classification_truth(self) -> dict[str, float]:
        """The truths for the target c = 1[y > 0]."""
        levels = {value: classification_truth(value) for value in LEVELS.values()}
        return {name: levels.get(mi, mi) for name, mi in self.truth.items()}

    def frame(self, target: np.ndarray | None = None):  # -> pandas.DataFrame
        import pandas as pd

        return pd.DataFrame({**self.columns, "y": self.target if target is None else target})


def table(features: int, rows: int, seed: int) -> Table:
    """``features`` columns of ``rows`` rows: the informative ones (every kind at every level, repeated
    to a fifth of the columns or more), the interacting pair, and nulls for the rest."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(rows)
    repeats = max(1, round(features / 50))
    columns, truth, weak = {}, {}, []
    for level, mi in LEVELS.items():
        rho = rho_for(mi)
        for kind in KINDS:
            for r in range(repeats):
                name = f"{kind}_{level}_{r}"
                t = rho * y + math.sqrt(1 - rho**2) * rng.standard_normal(rows)
                columns[name] = transform(kind, t, rng.choice([-1.0, 1.0], rows))
                truth[name] = mi
                if level == "weak":
                    weak.append(name)
    pair_a = rng.standard_normal(rows)
    flip = np.where(rng.random(rows) < FLIP, -1.0, 1.0)
    columns["pair_a"], columns["pair_b"] = pair_a, np.sign(pair_a) * flip * np.sign(y) * np.abs(rng.standard_normal(rows))
    null = ["pair_a", "pair_b"]
    for j in range(features - len(columns)):
        columns[f"null_{j}"] = rng.standard_normal(rows)
        null.append(f"null_{j}")
    if len(columns) != features:
        raise ValueError(f"expected at least {len(columns)} features for every kind and level, received {features=}")
    truth.update(dict.fromkeys(null, 0.0))
    truth["pair"] = pair_truth()
    return Table(columns, y, truth, weak, null)


# --- the peers -----------------------------------------------------------------------------------------


def ksg(x: np.ndarray, y: np.ndarray, k: int = 3) -> float:
    """Kraskov et al.'s first estimator, max-norm, for x (n, d) and y (n,) standardised."""
    from scipy.spatial import cKDTree

    n = len(y)
    joint = np.column_stack([x, y])
    radius = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, -1]
    radius = np.nextafter(radius, 0)  # strictly closer than the k-th neighbour
    if x.shape[1] == 1:
        count_x = _within_1d(x[:, 0], radius)
    else:
        count_x = cKDTree(x).query_ball_point(x, radius, p=np.inf, return_length=True) - 1
    count_y = _within_1d(y, radius)
    return float(special.digamma(k) + special.digamma(n) - np.mean(special.digamma(count_x + 1)
                                                                   + special.digamma(count_y + 1)))


def _within_1d(values: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """How many other points lie within ``radius`` of each point (one dimension: two binary searches)."""
    ordered = np.sort(values)
    return (np.searchsorted(ordered, values + radius, side="right")
            - np.searchsorted(ordered, values - radius, side="left") - 1)


def standardised(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return (x - x.mean(axis=0)) / x.std(axis=0)


def ksg_shuffle(columns: dict[str, np.ndarray], target: np.ndarray, permutations: int, seed: int) -> dict:
    """KSG per column and group, and its permutation p-value: (1 + #{shuffled >= observed}) / (1 + B)."""
    rng = np.random.default_rng(seed)
    y = standardised(target)
    mi, p_value = {}, {}
    for name, x in columns.items():
        x = standardised(x.reshape(len(y), -1))
        observed = ksg(x, y)
        shuffled = np.array([ksg(x, rng.permutation(y)) for _ in range(permutations)])
        mi[name], p_value[name] = observed, (1 + np.sum(shuffled >= observed)) / (1 + permutations)
    return {"mi": mi, "p_value": p_value}


def sklearn_mi(tab: Table, classification: bool, seed: int) -> dict:
    """scikit-learn's estimates for every column (mutual_info_regression or _classif, k = 3) and the pair."""
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    matrix = np.column_stack(list(tab.columns.values()))
    if classification:
        values = mutual_info_classif(matrix, tab.classes, n_neighbors=3, random_state=seed)
    else:
        values = mutual_info_regression(matrix, tab.target, n_neighbors=3, random_state=seed)
    mi = dict(zip(tab.columns, map(float, values)))
    # a group is one variable: sklearn's MI is per column, so the pair's reads as KSG on both columns at once
    pair = np.column_stack([tab.columns["pair_a"], tab.columns["pair_b"]])
    mi["pair"] = ksg(standardised(pair), standardised(tab.classes if classification else tab.target))
    return {"mi": mi}


def benjamini_hochberg(p_values: dict[str, float], q: float = Q) -> set[str]:
    """The names Benjamini and Hochberg's step-up procedure discovers at level ``q``."""
    names = sorted(p_values, key=p_values.get)
    m = len(names)
    passing = [rank for rank, name in enumerate(names, 1) if p_values[name] <= q * rank / m]
    return set(names[: max(passing, default=0)])


# --- mivb ---------------------------------------------------------------------------------------------


def mivb_screen(tab: Table, classification: bool, seed: int, executor: object, workers: int | None,
                permutations: int | None, steps: int | None = None) -> dict:
    """mivb.screen on the table's columns and the pair as a named group, in one call."""
    frame = tab.frame(tab.classes if classification else None)
    options = {"seed": seed, "progress": False, "executor": executor, "workers": workers}
    if steps is not None:
        options["steps"] = steps  # the group's critic
    if permutations is not None:
        options["permutations"] = permutations
    with quiet():
        found = mivb.screen(frame, "y", features=list(tab.columns), groups={"pair": ["pair_a", "pair_b"]}, **options)
    rows = found.set_index("feature")
    columns = rows.drop(index="pair")
    failed = found[~np.isfinite(found["mi"].astype(float))]
    return {"mi": rows["mi"].astype(float).to_dict(), "p_value": columns["p_value"].astype(float).to_dict(),
            "failed": list(zip(failed["feature"], failed["notes"])),
            "families": columns["family"].value_counts().to_dict(), "pair_family": rows.loc["pair", "family"],
            "noted": int(columns["notes"].map(bool).sum()), "table": found}


# --- metrics and the table ----------------------------------------------------------------------------


def score(found: dict, truth: dict[str, float], tab: Table, p_value: dict[str, float] | None) -> dict:
    names = [name for name in truth if np.isfinite(found["mi"][name])]  # a failed row counts in "failed"
    estimate = np.array([found["mi"][name] for name in names])
    exact = np.array([truth[name] for name in names])
    row = {"mae": float(np.mean(np.abs(estimate - exact))),
           "spearman": float(stats.spearmanr(estimate, exact).statistic)}
    if p_value is not None:
        discovered = benjamini_hochberg({name: p_value[name] for name in tab.columns})
        false = len(discovered & set(tab.null))
        row.update({"fdp": false / max(len(discovered), 1), "discoveries": len(discovered),
                    "power_weak": len(discovered & set(tab.weak)) / len(tab.weak)})
    return row


def run_method(name: str, compute: Callable[[Table, int], dict], tabs: list[Table], truths: list[dict],
               tested_by: str | None = None, p_values: list[dict] | None = None) -> tuple[dict, list[dict]]:
    """``compute`` on each seed's table: the mean of the seeds' scores, and what it found per seed."""
    scores, found_all, seconds = [], [], 0.0
    for seed, (tab, truth) in enumerate(zip(tabs, truths)):
        start = time.perf_counter()
        found = compute(tab, seed)
        seconds += time.perf_counter() - start
        p_value = found.get("p_value") if p_values is None else p_values[seed]  # sklearn's: None
        scores.append(score(found, truth, tab, p_value))
        found_all.append(found)
    seeds = len(tabs)
    row = {"method": name, "seeds": seeds, "mae": float(np.mean([s["mae"] for s in scores])),
           "spearman": float(np.mean([s["spearman"] for s in scores])), "seconds": seconds / seeds,
           "tested_by": tested_by or (name if "p_value" in found_all[0] else "")}
    if "fdp" in scores[0]:
        fdp = np.array([s["fdp"] for s in scores])
        row.update({"fdr": float(fdp.mean()),
                    "fdr_mc_se": float(fdp.std(ddof=1) / math.sqrt(seeds)) if seeds > 1 else math.nan,
                    "discoveries": float(np.mean([s["discoveries"] for s in scores])),
                    "power_weak": float(np.mean([s["power_weak"] for s in scores]))})
    failures = [failure for found in found_all for failure in found.get("failed", [])]
    row["failed"] = len(failures)
    if failures:
        print(f"{name}: {len(failures)} failed rows over {seeds} tables, the first {failures[0]}")
    if "families" in found_all[0]:
        total: dict[str, int] = {}
        for found in found_all:
            for family, count in found["families"].items():
                total[family] = total.get(family, 0) + count
        row["families"] = ", ".join(f"{family} {count / seeds:g}" for family, count in sorted(total.items()))
        row["pair_family"] = ", ".join(sorted({found["pair_family"] for found in found_all}))
        row["noted"] = float(np.mean([found["noted"] for found in found_all]))
    fdr = f", FDR {row['fdr']:.3f} ± {row['fdr_mc_se']:.3f}, power {row['power_weak']:.2f}" if "fdr" in row else ""
    print(f"{name}: MAE {row['mae']:.4f}, Spearman {row['spearman']:.3f}, {row['seconds']:.1f} s per table{fdr}",
          flush=True)
    return row, found_all


def same_table(one: object, other: object) -> bool:
    """Two screens' tables hold the same numbers, families and notes."""
    return bool(one.equals(other))


def markdown(rows: list[dict]) -> list[str]:
    """The results as a markdown table, times beside the first row's (mivb's first executor)."""
    base = rows[0]
    lines = [(f"| method | seeds | MAE (nats) | Spearman | FDR at q = {Q:g} (± MC se) | power, weak | discoveries "
              f"| s per table | time / first row's | p-values from |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        tested = "fdr" in r
        fdr = f"{r['fdr']:.3f}" + (f" ± {r['fdr_mc_se']:.3f}" if r["seeds"] > 1 else "") if tested else ""
        same = {True: " (same table)", False: " (**a different table**)"}.get(r.get("same_table"), "")
        same += f" ({r['failed']} failed rows)" if r.get("failed") else ""
        lines.append(f"| {r['method']}{same} | {r['seeds']} | {r['mae']:.4f} | {r['spearman']:.3f} | {fdr} "
                     f"| {r['power_weak']:.2f} | {r['discoveries']:.1f} | {r['seconds']:.1f} "
                     f"| {r['seconds'] / base['seconds']:.2f} | {r['tested_by']} |" if tested else
                     f"| {r['method']}{same} | {r['seeds']} | {r['mae']:.4f} | {r['spearman']:.3f} | | | "
                     f"| {r['seconds']:.1f} | {r['seconds'] / base['seconds']:.2f} | {r['tested_by']} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="24 features x 500 rows, 2 seeds, 99 permutations, a short training for the group")
    parser.add_argument("--size", choices=list(SIZES), default=None)
    parser.add_argument("--seeds", type=int, default=None, help="tables (one per seed; default 3, --quick 2)")
    parser.add_argument("--permutations", type=int, default=None, help="mivb.screen's (default: its own)")
    parser.add_argument("--ksg-permutations", type=int, default=None, help="the KSG shuffle test's per feature "
                        "(default 99)")
    parser.add_argument("--classification", action="store_true", help="target 1[y > 0] (mutual_info_classif)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1],
                        help="mivb.screen's local processes: the first on every seed, the others on seed 0 (timing)")
    parser.add_argument("--ray", action="store_true", help="also through a local Ray cluster of 2 CPUs (seed 0)")
    parser.add_argument("--no-mivb", action="store_true", help="the peers only")
    parser.add_argument("--no-peers", action="store_true", help="mivb only")
    parser.add_argument("--no-shuffle", action="store_true", help="scikit-learn's estimates without the KSG shuffle "
                        "test (whose p-values judge its FDR and power)")
    parser.add_argument("--stem", default=None, help="results file name (default: screening_<size>)")
    args = parser.parse_args()
    size = "quick" if args.quick else (args.size or "small-wide")
    features, rows = SIZES[size]
    seeds = args.seeds or (2 if args.quick else 3)
    ksg_permutations = args.ksg_permutations or 99
    permutations = args.permutations or (99 if args.quick else None)
    steps = 300 if args.quick else None  # the group's critic: a short training in the smoke test
    meta = run_metadata("screening.py", features=features, table_rows=rows, seeds=seeds, q=Q,
                        ksg_permutations=ksg_permutations, mivb_permutations=permutations,
                        target="1[y > 0]" if args.classification else "y")
    tabs = [table(features, rows, seed) for seed in range(seeds)]
    truths = [tab.classification_truth() if args.classification else tab.truth for tab in tabs]
    start = time.perf_counter()
    results = []

    def target_of(tab: Table) -> np.ndarray:
        return tab.classes if args.classification else tab.target

    def shuffle_test(tab: Table, seed: int) -> dict:
        group = {**tab.columns, "pair": np.column_stack([tab.columns["pair_a"], tab.columns["pair_b"]])}
        return ksg_shuffle(group, target_of(tab), ksg_permutations, seed)

    if not args.no_mivb:
        # the first executor on every seed; the others on the first seed only: their time, and that
        # they give the same table
        runs = [(f"{w} worker{'s' * (w > 1)}", "processes", w) for w in args.workers]
        if args.ray:
            runs.append(("Ray, local cluster of 2 CPUs", "ray", None))
        for k, (label, executor, workers) in enumerate(runs):
            if executor == "ray":
                import ray

                ray_start = time.perf_counter()
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
                meta["ray_init_seconds"] = time.perf_counter() - ray_start
            try:
                row, found = run_method(
                    f"mivb.screen, {label}",
                    lambda tab, seed, e=executor, w=workers: mivb_screen(tab, args.classification, seed, e, w,
                                                                         permutations, steps),
                    tabs if k == 0 else tabs[:1], truths if k == 0 else truths[:1])
            finally:
                if executor == "ray":
                    ray.shutdown()
            if k == 0:
                first = found[0]["table"]
            else:
                row["same_table"] = same_table(found[0]["table"], first)
                print(f"{label}: the same table as {runs[0][0]}'s on seed 0: {row['same_table']}")
            results.append(row)
    if not args.no_peers:
        shuffle_row, shuffled = (None, None) if args.no_shuffle else run_method(
            f"ksg shuffle, {ksg_permutations} perms", shuffle_test, tabs, truths)
        sklearn_row, _ = run_method(
            "sklearn " + ("mutual_info_classif" if args.classification else "mutual_info_regression"),
            lambda tab, seed: sklearn_mi(tab, args.classification, seed), tabs, truths,
            tested_by=None if shuffle_row is None else shuffle_row["method"],
            p_values=None if shuffled is None else [found["p_value"] for found in shuffled])
        results += [sklearn_row] + ([] if shuffle_row is None else [shuffle_row])
    meta["minutes"] = (time.perf_counter() - start) / 60
    print()
    print(f"Screening {features} features x {rows:,} rows ({'1[y > 0]' if args.classification else 'y'}), "
          f"{seeds} seeds; {meta['date']}, {meta['machine']}; {meta['minutes']:.1f} min")
    print(f"`{meta['command']}`")
    print()
    print("\n".join(markdown(results)))
    print()
    print(f"MAE: mean |estimate - truth| over the columns and the pair's group (truth {truths[0]['pair']:.3f}); "
          f"Spearman: rank correlation with the truth; FDR: the share of BH discoveries at q = {Q:g} that are null "
          "columns (the pair's two count as null), mean over seeds ± its MC se; power: share of the weak columns "
          f"(I = {LEVELS['weak']}{'' if not args.classification else ' for y'}) discovered; time: seconds per table "
          "(the group's call included)")
    for row in results:
        if "families" in row:
            print(f"{row['method']}: families per table {row['families']}; columns with notes {row['noted']:g}")
    fields = list(dict.fromkeys(field for row in results for field in row))
    write_results(results, meta, args.stem or f"screening_{size}" + ("_classification" if args.classification else ""),
                  fields)


if __name__ == "__main__":
    main()
