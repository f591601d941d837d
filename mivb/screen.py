"""``mivb.screen``: the MI of each feature (a column, or a named group of columns) of a table with a
target, a permutation p-value for each, and Benjamini-Hochberg q-values over all of them.

Each feature is one task of ``mivb.many.run_tasks``, so the screen runs on the executors of
``mivb.estimate_many`` and gives the same table on every one. The family is chosen per feature
from its shape: one column against a target of at most ``KSG_TARGET_COLUMNS`` columns runs KSG
(no training, at its best in few dimensions, and its shuffle test fast: ``ksg_null``; against
class labels, Ross's estimator, ``ross_null``); anything wider runs ``estimate``'s default (a
critic, and the Gaussian copula where the critic reads no more), with the p-value of
[`mivb.independence_test`][] (a critic trained without the test pairs, scored on shuffles of them).
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .arguments import EstimateArguments
from .bounds import BOUNDS
from .errors import Shown, invalid
from .independence import MAX_PERMUTATIONS
from .many import run_tasks
from .notes import note
from .result import Estimate, EstimateConfig
from .samples import as_labels, as_samples, prepare
from .schedule import check_positive_int
from .tables import as_table, names_of, select, variables

__all__ = ["COLUMNS", "benjamini_hochberg", "ksg_null", "permutation_p_value", "ross_null", "screen"]

KSG_TARGET_COLUMNS = 3  # a one-column feature against a target of at most this many columns runs KSG
COLUMNS = ["feature", "mi", "stderr", "kind", "family", "p_value", "q_value", "selected", "notes"]
INTERVAL_COLUMNS = ["lower", "upper"]  # after "family", with folds


def screen(table: Any, target: Any, *, features: list[Any] | None = None, groups: Mapping[Any, list[Any]] | None = None,
           names: list[Any] | None = None, permutations: int = 199, stop_after: int | None = 10, fdr: float = 0.1,
           folds: int | None = None, k: int = 3, executor: Any = None, workers: int | None = None, seed: int = 0,
           cache_dir: Any = None, progress: bool | None = None, **options: Any) -> Any:
    """Screen the features of a table: I(feature; target) for each, a permutation p-value and a
    Benjamini-Hochberg q-value over the features.

    Each feature's family is chosen from its shape. A single column against a target of at most
    three columns: KSG (``bound="ksg"``, ``k`` neighbours, on all rows, after ``estimate``'s
    default transform, which maps each column through its ranks to normal quantiles and leaves
    the MI unchanged), with the shuffle test of KSG: the same estimator on the rows with the
    target shuffled, ``permutations`` times. A group of columns, or a wider target:
    [`mivb.estimate`][mivb.estimate.estimate]'s default (a trained critic, and the Gaussian
    copula where the critic reads no more), and the p-value of [`mivb.independence_test`][]
    with ``bound="infonce"`` (a critic trained on the training split, scored on shuffles of the
    test pairs, which took no part in training: exact at any sample size). That trains a second
    critic, so a group costs about twice an estimate. A target of class labels (integers,
    booleans or strings): a single column runs Ross's estimator (``ross_null``: KSG's counterpart
    for a continuous feature and discrete labels, as scikit-learn's ``mutual_info_classif``), with
    the labels shuffled; a group runs ``bound="ba"`` (a classifier q(z | x)), tested as above.

    The p-value is (1 + #{shuffles reading at least the statistic}) / (1 + permutations); the
    smallest it can be is 1 / (1 + permutations), 0.005 with the default 199. KSG's and Ross's
    shuffles stop early once ``stop_after`` of them have read at least the statistic, with the
    p-value ``stop_after`` / (shuffles run): Besag and Clifford's sequential p-value ("Sequential
    Monte Carlo p-values", Biometrika 78, 301, 1991), as valid as the full one. An independent
    feature then costs about 2 ``stop_after`` shuffles instead of ``permutations``; a dependent one,
    which few shuffles reach, runs them all. q-values are
    Benjamini-Hochberg's over the features that ran; ``selected`` is ``q_value <= fdr``, which
    keeps the expected share of independent features among those selected at most ``fdr``. With
    m features, a feature is selected only if its p-value is at most ``fdr`` times its rank over
    m: with many features and few dependent ones, the floor of the p-value can hide them (a note
    says so); more permutations lower the floor.

    Every feature's seed is drawn from ``seed`` and its name, so the table is the same on every
    executor and in any order of the features.

    Args:
        table: a pandas DataFrame, a mapping of names to arrays (one array may hold several
            columns), or a 2-D NumPy array with ``names``.
        target: the name of the target column, or a list of names (a target of several columns);
            a column of integers, booleans or strings holds class labels.
        features: the names of the columns to screen, each on its own; None (default): every
            column but the target's, unless ``groups`` is given.
        groups: a mapping of names to lists of columns, each list screened as one feature
            (stacked as its columns), beside ``features``.
        names: the column names of a NumPy ``table``.
        permutations: shuffles of the target per feature; 199 by default, a few hundred make a
            p-value firm. KSG's shuffles of 2,000 rows take about 2 ms each.
        stop_after: the shuffles reaching the statistic after which KSG's and Ross's stop (see
            above); None: always all ``permutations``.
        fdr: the false-discovery rate of ``selected``.
        folds: cross-fitting for an interval (``lower``, ``upper``) of the trained families'
            estimates (``estimate(folds=...)``); KSG runs once on all rows and has none (NaN, with
            a note).
        k: KSG's neighbours.
        executor, workers, seed, cache_dir, progress: as [`mivb.estimate_many`][mivb.estimate_many]
            takes them (local processes by default, one per core).
        **options: options of [`mivb.estimate`][mivb.estimate.estimate] for the trained families
            (``backend``, ``steps``, ``batch_size``, ...).

    Returns:
        A pandas DataFrame (a list of dicts, one per row, when pandas is not installed), one row
            per feature, sorted by ``mi`` from the largest (failed features last), with the columns
            ``feature``, ``mi`` (nats), ``stderr``, ``kind`` and ``family`` (``ksg``, ``ross``, ``ba``,
            or the default's choice: ``copula`` or ``infonce``), ``lower`` and ``upper`` (with ``folds``), ``p_value``,
            ``q_value``, ``selected`` and ``notes`` (one string; a failed feature has NaN numbers and
            ``failed: <error>``).

    Examples:
        >>> import numpy as np
        >>> import mivb
        >>> rng = np.random.default_rng(0)
        >>> table = {name: rng.normal(size=500) for name in ("a", "b", "noise")}
        >>> table["y"] = table["a"] + np.sin(2 * table["b"]) + rng.normal(size=500)
        >>> rows = mivb.screen(table, "y", permutations=99, executor="serial", progress=False)
        >>> [(row["feature"], row["selected"]) for row in rows.to_dict("records")]
        [('a', True), ('b', True), ('noise', False)]
    """
    columns = as_table(table, names)
    target_names = list(target) if isinstance(target, (list, tuple)) else [target]
    z, labels = _target(select(columns, "target", target))
    tasks = _features(columns, target_names, features, groups)
    permutations = check_positive_int("permutations", permutations)
    if permutations > MAX_PERMUTATIONS:
        raise invalid("permutations", f"at most {MAX_PERMUTATIONS:,}", permutations)
    if isinstance(fdr, bool) or not isinstance(fdr, (int, float)) or not 0.0 < fdr < 1.0:
        raise invalid("fdr", "a false-discovery rate strictly between 0 and 1", fdr)
    k = check_positive_int("k", k)
    if stop_after is not None:
        stop_after = check_positive_int("stop_after", stop_after)
    for name in ("bound", "given", "data"):
        if name in options:
            raise invalid(name, "no such option of screen: it chooses each feature's family itself, conditions on "
                          "nothing and reads its columns from table", options[name])
    payloads = {}
    for name, selection in tasks.items():
        x = select(columns, "features", selection)
        wide = np.ndim(x) > 2 or (np.ndim(x) == 2 and np.shape(x)[1] > 1)
        if labels:
            family = "classifier" if wide else "ross"
        else:
            family = "default" if wide or z.ndim > 2 or z.shape[1] > KSG_TARGET_COLUMNS else "ksg"
        payloads[name] = (x, z, family)
    settings = {"permutations": permutations, "stop_after": stop_after, "folds": folds, "k": k, "options": options}
    results = run_tasks(screen_task, payloads, settings, executor=executor, workers=workers, seed=seed,
                        cache_dir=cache_dir, progress=progress, label="screen")
    rows = _rows(results, permutations, fdr, folds is not None)
    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        return rows
    return pandas.DataFrame(rows, columns=list(rows[0]) if rows else _names(folds is not None))


def _target(values: Any) -> tuple[np.ndarray, bool]:
    """The target's samples, or its class labels (integers, booleans or strings: class codes 0, 1, ...
    for Ross's estimator, the labels as they are for ``ba``), and whether they are labels."""
    array = np.asarray(values)
    if array.dtype.kind in "iubUSO":
        as_labels("target", array)  # refuses one class, too many, a 2-D array
        return array if array.ndim == 1 else array[:, 0], True
    return as_samples("target", values), False


def _features(columns: Any, target: list[Any], features: list[Any] | None,
              groups: Mapping[Any, list[Any]] | None) -> dict[Any, Any]:
    """Each feature's name and the columns it selects (a name, or a list for a group)."""
    available = names_of(columns) or []
    tasks = variables("features", features, groups, default=[name for name in available if name not in target])
    for name, selection in tasks.items():
        overlap = [c for c in (selection if isinstance(selection, list) else [selection]) if c in target]
        if overlap:
            raise invalid("features", f"columns apart from the target's ({name!r} holds {overlap[0]!r})", name)
    if not tasks:
        raise invalid("features", "at least one column to screen besides the target", Shown(repr(available)))
    return tasks


def screen_task(payload: tuple[Any, np.ndarray, str], seed: int, settings: dict[str, Any]) -> dict[str, Any]:
    """One feature's row (without its q-value): its estimate and its permutation p-value."""
    from .estimate import estimate  # here: the workers import it when they first screen
    from .independence import independence_test
    from .pipeline import classical_inputs

    x, z, family = payload
    permutations, stop_after, folds = settings["permutations"], settings["stop_after"], settings["folds"]
    if family == "ross":
        xs = prepare("auto", as_samples("x", x), argument="x")[0].astype(np.float64)
        codes = np.unique(z, return_inverse=True)[1].ravel()
        statistic, null, stderr = ross_null(xs, codes, settings["k"], permutations, np.random.default_rng(seed),
                                            stop_after)
        found = Estimate(mi=statistic, stderr=stderr, history=np.zeros(0), bound="ross", backend="numpy",
                         config=EstimateConfig(bound="ross", backend="numpy", steps=0, seed=seed),
                         test_values=np.array([statistic]), kind="classical")
        notes = []
    elif family == "ksg":
        found = estimate(x, z, bound="ksg", k=settings["k"], seed=seed, progress=False)
        arguments = EstimateArguments(bound="ksg", bound_params={"k": settings["k"]})  # folds None, transform auto
        _, _, xs, zs, _ = classical_inputs(x, z, arguments)
        statistic, null = ksg_null(xs, zs, settings["k"], permutations, np.random.default_rng(seed), stop_after)
        notes = list(found.notes) + _repeated_note(z)
    else:
        options = {**settings["options"], "seed": seed, "progress": False}
        # class labels: the bound whose critic is a classifier q (ba: H(Z) + E log q(z | x))
        bound = next(name for name, b in BOUNDS.items() if b.critic == "classifier") if family == "classifier" else None
        found = estimate(x, z, bound=bound, folds=folds, **options)
        test = independence_test(x, z, bound=bound or "infonce", permutations=permutations, level=0.5, **options)
        statistic, null = test.statistic, test.null
        stop_after = None  # the critic's shuffles all ran
        notes = list(found.notes)
    interval = found.interval or (math.nan, math.nan)
    if folds is not None and found.interval is None:
        notes.append(note("no-interval", bound=found.bound))
    p_value = permutation_p_value(statistic, null, permutations, stop_after)
    return {"mi": found.mi, "stderr": found.stderr, "kind": found.kind, "family": found.bound,
            "lower": interval[0], "upper": interval[1], "p_value": p_value, "notes": notes}


def _repeated_note(z: np.ndarray) -> list[str]:
    """KSG assumes continuous samples: a target of few distinct values (class labels as floats) biases it."""
    distinct = len(np.unique(np.asarray(z).reshape(len(z), -1), axis=0))
    if distinct > len(z) // 2:
        return []
    note = (f"the target takes {distinct} distinct values in {len(z)} rows: KSG assumes continuous samples and is "
            f"biased here (the p-value stays valid); class labels given as integers or strings run Ross's estimator")
    return [note]


def permutation_p_value(statistic: float, null: np.ndarray, permutations: int, stop_after: int | None) -> float:
    """(1 + #{null reaching the statistic}) / (1 + permutations); where the shuffles stopped once
    ``stop_after`` reached it, Besag and Clifford's ``stop_after`` / len(null). A NaN on either side
    counts as reaching the statistic: the p-value errs towards 1, never 0."""
    reached = int(np.sum(~(null < statistic)))
    if stop_after is not None and reached >= stop_after:
        return reached / len(null)
    return (1 + reached) / (1 + permutations)


def sequential_null(statistic: float, shuffled: Callable[[], float], permutations: int,
                    stop_after: int | None) -> np.ndarray:
    """``shuffled()`` up to ``permutations`` times, stopping once ``stop_after`` values reach ``statistic``."""
    null, reached = [], 0
    for _ in range(permutations):
        null.append(shuffled())
        reached += not null[-1] < statistic
        if stop_after is not None and reached >= stop_after:
            break
    return np.array(null)


def ksg_null(x: np.ndarray, z: np.ndarray, k: int, permutations: int, rng: np.random.Generator,
             stop_after: int | None = None) -> tuple[float, np.ndarray]:
    """KSG's statistic on (x, z) and on ``permutations`` shuffles of z's rows (fewer where
    ``stop_after`` of them reach the statistic: ``sequential_null``): the same values as
    ``mivb.classical.ksg`` (algorithm 1 of Kraskov et al.), computed faster for the shuffles. The
    marginal counts need no new tree per shuffle (shuffling z leaves its points where they are),
    and a one-column marginal is counted by binary search in its sorted values; only the joint
    k-th neighbour is searched anew. About 2 ms a shuffle of 2,000 one-column pairs."""
    from scipy.spatial import KDTree
    from scipy.special import digamma

    n = len(x)
    count_x, count_z = _closer_counter(x), _closer_counter(z)
    constant = float(digamma(k) + digamma(n))

    def statistic(z_rows: np.ndarray) -> float:
        joint = np.hstack([x, z_rows])
        radii = KDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, -1]
        terms = digamma(count_x(x, radii) + 1.0) + digamma(count_z(z_rows, radii) + 1.0)
        return constant - float(terms.mean())

    observed = statistic(z)
    return observed, sequential_null(observed, lambda: statistic(z[rng.permutation(n)]), permutations, stop_after)


def ross_null(x: np.ndarray, codes: np.ndarray, k: int, permutations: int, rng: np.random.Generator,
              stop_after: int | None = None) -> tuple[float, np.ndarray, float]:
    """The KSG estimator of a continuous x and class labels (Ross, "Mutual information between
    discrete and continuous data sets", PLoS ONE 9, e87357, 2014; scikit-learn's
    ``mutual_info_classif``) on (x, codes) and on ``permutations`` shuffles of the codes (fewer
    where ``stop_after`` of them reach the statistic), and its
    standard error (as ``ksg``'s: the per-row terms' spread over sqrt(n), an indication).

    For each row, d is the max-norm distance to its k-th nearest neighbour among the rows of its
    class (k at most the class's size less one), and m the rows of any class closer than d, itself
    included; the estimate is psi(n) + mean psi(k) - mean psi(n_class) - mean psi(m). A shuffle of
    the labels keeps the class sizes, so only the within-class neighbours are searched anew."""
    from scipy.spatial import KDTree
    from scipy.special import digamma

    n = len(x)
    sizes = np.bincount(codes)
    if sizes[sizes > 0].min() < 2:
        raise invalid("target", "class labels with at least 2 rows in every class (Ross's estimator finds each "
                      "row's neighbours within its class)", Shown(f"class sizes {sorted(sizes[sizes > 0])}"))
    count = _closer_counter(x)
    neighbours = np.minimum(k, sizes - 1)
    constant = float(digamma(n)) + float(np.mean(digamma(neighbours[codes]))) - float(np.mean(digamma(sizes[codes])))

    def terms(labels: np.ndarray) -> np.ndarray:
        radii = np.empty(n)
        for label in np.flatnonzero(sizes):
            rows = np.flatnonzero(labels == label)
            radii[rows] = KDTree(x[rows]).query(x[rows], k=int(neighbours[label]) + 1, p=np.inf)[0][:, -1]
        within: np.ndarray = digamma(np.maximum(count(x, radii) + 1, 1).astype(np.float64))
        return within

    observed = terms(codes)
    statistic = constant - float(observed.mean())
    null = sequential_null(statistic, lambda: constant - float(terms(codes[rng.permutation(n)]).mean()),
                           permutations, stop_after)
    return statistic, null, float(observed.std(ddof=1) / math.sqrt(n))


def _closer_counter(samples: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function counting, for each point, the other samples at a max-norm distance strictly below its radius."""
    from scipy.spatial import KDTree

    if samples.shape[1] > 1:
        tree = KDTree(samples)
        return lambda points, radii: np.asarray(
            tree.query_ball_point(points, np.nextafter(radii, 0.0), p=np.inf, return_length=True)) - 1
    ordered = np.sort(samples[:, 0])
    last = len(ordered) - 1

    def count(points: np.ndarray, radii: np.ndarray) -> np.ndarray:
        # Search a little wide (p +- r rounds), then move each end in until it holds a value whose
        # rounded distance |v - p| is below r: exactly the test the tree applies, and a contiguous run.
        p = points[:, 0]
        margin = 4 * np.spacing(np.abs(p) + radii)
        low = np.searchsorted(ordered, p - radii - margin, "left")
        high = np.searchsorted(ordered, p + radii + margin, "right")
        while True:
            outside = (low < high) & ~(np.abs(ordered[np.minimum(low, last)] - p) < radii)
            if not outside.any():
                break
            low += outside
        while True:
            outside = (high > low) & ~(np.abs(ordered[np.maximum(high - 1, 0)] - p) < radii)
            if not outside.any():
                break
            high -= outside
        counted: np.ndarray = np.maximum(high - low - 1, 0)  # less the point itself (absent at radius 0)
        return counted

    return count


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg's adjusted p-values (q-values) of ``p_values``; NaN ones stay NaN and do
    not count among the tests."""
    from scipy.stats import false_discovery_control

    p_values = np.asarray(p_values, dtype=np.float64)
    q_values = np.full(p_values.shape, np.nan)
    finite = np.isfinite(p_values)
    if finite.any():
        q_values[finite] = false_discovery_control(p_values[finite], method="bh")
    return q_values


def _names(interval: bool) -> list[str]:
    at = COLUMNS.index("family") + 1
    return COLUMNS[:at] + (INTERVAL_COLUMNS if interval else []) + COLUMNS[at:]


def _rows(results: dict[Any, Any], permutations: int, fdr: float, interval: bool) -> list[dict[str, Any]]:
    """The table's rows: q-values over the features that ran, sorted by MI, failures last."""
    from .many import TaskFailure

    rows = []
    for name, outcome in results.items():
        if isinstance(outcome, TaskFailure):
            outcome = {"mi": math.nan, "stderr": math.nan, "kind": "", "family": "", "lower": math.nan,
                       "upper": math.nan, "p_value": math.nan, "notes": [f"failed: {outcome.error}"]}
        rows.append({"feature": name, **outcome})
    q_values = benjamini_hochberg(np.array([row["p_value"] for row in rows]))
    floor = 1 / (1 + permutations)
    for row, q_value in zip(rows, q_values):
        row["q_value"] = float(q_value)
        row["selected"] = bool(q_value <= fdr)
        if row["p_value"] == floor and not row["selected"]:
            row["notes"] = [*row["notes"], (
                f"the p-value is the smallest {permutations} permutations can give ({floor:.3g}), yet its "
                f"q-value {q_value:.3g} is above fdr={fdr:g} over {len(rows)} features: more permutations "
                f"could select it")]
    failed = [row for row in rows if not math.isfinite(row["mi"])]
    if failed:
        warnings.warn(f"{len(failed)} of {len(rows)} features failed (see their notes), for example "
                      f"{failed[0]['feature']!r}: {failed[0]['notes'][0]}", stacklevel=3)
    rows.sort(key=lambda row: -row["mi"] if math.isfinite(row["mi"]) else math.inf)
    order = _names(interval)
    return [{name: "; ".join(row[name]) if name == "notes" else row[name] for name in order} for row in rows]
