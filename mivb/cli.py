"""The ``mivb`` command: ``mivb estimate X Z [--given Y]``, ``mivb demo``, ``mivb bounds``, ``mivb backends``.

Every error is one line on stderr, ``mivb: <message>`` (argparse's usage errors keep their own
form): the command's users need the message, not a traceback. The exit status says what kind of
error it was (``EXIT_STATUSES``): 2 a usage error (argparse's, or an option mivb refuses), 3 a data
error (X, Z or Y: a file, or the samples in it), 1 anything else (a framework or matplotlib not
installed, a plot that cannot be written), 130 an interrupt.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
import textwrap
import time
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .backends import available_backends, installed, registered
from .bounds import BOUNDS, DEMO
from .catalogue import estimators
from .critics import CRITIC_KINDS
from .data import correlated_gaussians, rho_for_mi
from .datafiles import FORMATS, HEADER_READERS, load_samples, npz_array_names
from .errors import BackendNotAvailableError, InvalidTypeError, MivbError, PlottingNotAvailableError, invalid
from .estimate import Estimate, estimate, split_sizes
from .intervals import check_folds
from .notes import NOTES, NoteWarning, code_of, explain
from .plotting import PLOT_INSTALL, UNIT_SCALES, check_plot_path, plot_demo, plot_estimate
from .result import AUTO
from .samples import TRANSFORMS, as_samples
from .schedule import check_positive_int
from .spec import PRECISIONS

# The command's defaults are estimate()'s own, so the two can never disagree.
DEFAULTS = {name: p.default for name, p in inspect.signature(estimate).parameters.items()}
DEMO_PLOT = "mivb-demo.png"
KIND_WORDS = {"lower": "a lower bound", "upper": "an upper bound", "classical": "a classical estimate",
              "estimate": "an estimate, no bound",
              "difference": "a difference of two estimates (conditional MI), no bound"}
FAILURE_STATUS, USAGE_STATUS, DATA_STATUS, INTERRUPTED_STATUS = 1, 2, 3, 130
DATA_ARGUMENTS = ("x", "z", "given", "table", "target", "features")  # an error naming one of these is about the data
EXIT_STATUSES = (
    "exit status: 0 done (an unreliable estimate too: the output says so); "
    f"{USAGE_STATUS} usage error (an unknown or invalid option: argparse's messages, and mivb's "
    "'option: expected ..., received option=value'); "
    f"{DATA_STATUS} data error (X, Z or --given Y: a missing, unreadable or damaged file, or samples mivb refuses: shape, "
    "integers, NaN, too few pairs); "
    f"{FAILURE_STATUS} any other error (a framework or matplotlib not installed, a plot that cannot be "
    f"written); {INTERRUPTED_STATUS} interrupted. Every error prints one line on stderr, 'mivb: <message>'.")
DEMO_MIN_SAMPLES = 20  # the fewest pairs the default split takes (README, "Small data works")
MAX_STEPS = 2**63 - 1  # the schedule of batches is a NumPy int64 array


def estimate_files(args: argparse.Namespace) -> None:
    plot = None if args.plot is None else check_plot_path(args.plot)
    args.x, args.z = sample_sources(args.x, args.z)
    labels = args.bound in BOUNDS and BOUNDS[args.bound].critic == "classifier"  # ba: z holds class labels
    x, z = load_floats(args.x, "x"), load_labels(args.z) if labels else load_floats(args.z, "z")
    y = None if args.given is None else load_floats(args.given, "given")
    early_stopping = not args.no_early_stopping
    steps = DEFAULTS["steps"] if args.steps is None else args.steps
    if args.epochs is not None:  # with folds, each fold's test part is 1/folds of the pairs
        folds = check_folds(args.folds)
        steps = steps_for_epochs(args.epochs, len(x), args.batch_size,
                                 args.test_fraction if folds is None else 1 / folds,
                                 args.validation_fraction if early_stopping else 0.0)
    given = {param: getattr(args, flag[2:].replace("-", "_")) for param, flag in parameter_flags().items()}
    bound_params = {key: value for key, value in given.items() if value is not None}
    start = time.perf_counter()
    result = quiet_estimate(x, z, bound=args.bound, backend=args.backend, critic=args.critic, steps=steps,
                            batch_size=args.batch_size, learning_rate=args.learning_rate,
                            negative_samples=args.negative_samples, ema_decay=args.ema_decay,
                            test_fraction=args.test_fraction, validation_fraction=args.validation_fraction,
                            early_stopping=early_stopping, patience=args.patience,
                            transform=None if args.transform == "none" else args.transform, seed=args.seed,
                            device=args.device, devices=args.devices, precision=args.precision,
                            compile=args.compile, linear_fallback=args.linear_fallback, progress=args.progress,
                            folds=args.folds, level=args.level, given=y, **bound_params)
    seconds = time.perf_counter() - start
    if plot is not None:
        plot_estimate(result, units=args.units, path=plot)
    scale = UNIT_SCALES[args.units]
    if args.json:
        print(json_report(result, args.units, plot, seconds))
        return
    print(f"read {len(x)} pairs: x = {args.x} {x.shape}, z = {args.z} {z.shape}"
          + ("" if y is None else f", given y = {args.given} {y.shape}"))
    quantity = "I(X; Z)" if y is None else "I(X; Z | Y)"
    print(f"{quantity} = {result.mi * scale:.4f} ± {result.stderr * scale:.4f} {args.units}  "
          f"({result.bound}: {KIND_WORDS[result.kind]}; {result.backend}, {steps_run(result)}, "
          f"seed {result.config.seed})")
    if result.lower is not None:
        print(f"held-out lower bound beside it: {result.lower.mi * scale:.4f} ± {result.lower.stderr * scale:.4f} "
              f"{args.units} ({result.lower.bound})")
    if result.interval is not None:
        low, high = result.interval
        per_fold = ", ".join(f"{fold.mi * scale:.4f}" for fold in result.per_fold)
        print(f"{level_percent(result.config.level)} interval ({low * scale:.4f}, {high * scale:.4f}) {args.units}, "
              f"from {len(result.per_fold)} folds ({per_fold}): it covers the critic's training and the test noise, "
              "not the bound's bias")
    if result.terms:
        joint, marginal = result.terms
        print(f"terms: I(X; (Z, Y)) = {joint.mi * scale:.4f}, I(X; Y) = {marginal.mi * scale:.4f} {args.units}")
    print(f"training: {result.stop_reason}; {seconds:.1f} s")
    if result.unreliable:
        print("unreliable: do not trust this number (the notes say why)")
    for note in result.notes:
        print(f"note: {note}")
    _point_to_explain(result.notes)
    if plot is not None:
        print(f"plot: {plot}")


def steps_run(result: Estimate) -> str:
    """``300 steps``, or with folds each fold's: ``2 folds (300, 280 steps)``."""
    if not result.per_fold:
        return f"{len(result.history)} steps"
    return f"{len(result.per_fold)} folds ({', '.join(str(len(fold.history)) for fold in result.per_fold)} steps)"


def level_percent(level: float) -> str:
    """0.95 as ``95%``, 0.975 as ``97.5%``."""
    return f"{level * 100:.10g}%"


def load_floats(source: str, argument: str) -> np.ndarray:
    """The samples of a file, refused as ``mivb.estimate`` refuses them when the file stores integers or
    booleans (often labels: cast them on purpose, and save the floats). A CSV's numbers have no type:
    they are read as floats."""
    samples = load_samples(source, argument)
    dtype = stored_dtype(source)
    if dtype is not None and dtype.kind in "iub":
        as_samples(argument, np.broadcast_to(np.zeros((), dtype), samples.shape))  # the API's own error
        raise invalid(argument, "real floating-point samples (cast integer or boolean data explicitly)",
                      np.broadcast_to(np.zeros((), dtype), samples.shape), error=InvalidTypeError)
    return samples


def load_labels(source: str) -> np.ndarray:
    """Class labels z of a file, for ``ba``: integers or booleans stored as such, or a CSV's whole numbers."""
    samples = load_samples(source, "z")
    dtype = stored_dtype(source)
    if samples.ndim == 2 and samples.shape[1] == 1:
        samples = samples[:, 0]
    if samples.ndim != 1 or (dtype is not None and dtype.kind == "f") or not np.all(samples == np.round(samples)):
        raise invalid("z", "class labels for bound 'ba': one column of integers (a CSV's whole numbers)", samples,
                      error=InvalidTypeError)
    return samples.astype(np.int64)


def stored_dtype(source: str) -> np.dtype | None:
    """The dtype a .npy file (or a .npz archive's member) declares; None for a CSV. Only for a source
    that ``load_samples`` has read: its errors are already reported."""
    archive_name, separator, name = source.rpartition(":")
    if separator and archive_name.lower().endswith(".npz"):
        path, member = Path(archive_name), name
    else:
        path, member = Path(source), None
    try:
        if path.suffix.lower() == ".npy":
            with path.open("rb") as file:
                return _header_dtype(file)
        if path.suffix.lower() == ".npz":
            with zipfile.ZipFile(path) as archive:
                members = [info for info in archive.infolist() if not info.is_dir()]
                info = next(i for i in members if member is None or i.filename.removesuffix(".npy")
                            == member.removesuffix(".npy"))
                with archive.open(info) as file:
                    return _header_dtype(file)
    except Exception:  # noqa: BLE001 - load_samples read it: whatever fails here is no error of the data
        return None
    return None


def _header_dtype(file: Any) -> np.dtype:
    with warnings.catch_warnings():  # a Python 2 header or an old dtype alias: load_samples read it already
        warnings.simplefilter("ignore")
        return HEADER_READERS[np.lib.format.read_magic(file)](file)[2]


def sample_sources(x: str, z: str | None) -> tuple[str, str]:
    """The files of X and Z: ``mivb estimate data.npz`` (no Z) reads the arrays named x and z of one archive."""
    if z is not None:
        return x, z
    names = npz_array_names(x)
    if names is None or not {"x", "z"} <= set(names):
        raise invalid("z", f"a file of Z samples ({', '.join(FORMATS)}), unless X is a .npz archive holding "
                      "arrays named x and z (columns of one CSV: data.csv:a,b data.csv:c)", z)
    return f"{x}:x", f"{x}:z"


def steps_for_epochs(epochs: float, n: int, batch_size: int, test_fraction: float = DEFAULTS["test_fraction"],
                     validation_fraction: float = DEFAULTS["validation_fraction"]) -> int:
    """Steps for ``epochs`` passes over the training split (0 validation_fraction without early
    stopping), at the batches per epoch that ``mivb.schedule.batch_schedule`` draws (the ragged last
    batch of an epoch is dropped; a training split smaller than a batch is one batch, as
    ``estimate`` lowers the batch size to it)."""
    if not (math.isfinite(epochs) and epochs > 0):
        raise invalid("epochs", "a positive number of passes over the training split", epochs)
    n_train = split_sizes(n, test_fraction, validation_fraction)[0]
    batches_per_epoch = max(1, n_train // check_positive_int("batch_size", batch_size))
    steps = epochs * batches_per_epoch
    if steps > MAX_STEPS:  # 1e308 passes: an infinite float, or an integer no schedule can index
        raise invalid("epochs", f"a positive number of passes over the training split, at most "
                      f"{MAX_STEPS / batches_per_epoch:.3g} (fewer than 2**63 steps, at {batches_per_epoch} per pass)",
                      epochs)
    return max(1, math.ceil(steps))


def quiet_estimate(x: Any, z: Any, **options: Any) -> Estimate:
    """``estimate`` warns with its notes; the command prints them itself, once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result: Estimate = estimate(x, z, **options)
    for warning in caught:
        if not issubclass(warning.category, NoteWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return result


def json_report(result: Estimate, units: str, plot: Path | None, seconds: float | None = None) -> str:
    """The estimate as strict JSON; a non-finite value (an overflowing bound, the stderr of one
    held-out batch) becomes null, since JSON has no NaN or infinity. ``steps`` are the steps run
    (``config.steps`` is the most allowed; with folds, the first fold's); ``seconds`` the time ``estimate``
    took. ``interval`` is ``[low, high]`` at ``level`` with ``folds``, else null; ``per_fold`` each fold's
    estimate (empty without folds); ``terms`` I(X; (Z, Y)) and I(X; Y) with ``--given`` (else empty)."""
    scale = UNIT_SCALES[units]
    report = {
        "mi": result.mi * scale,
        "stderr": result.stderr * scale,
        "units": units,
        "bound": result.bound,
        "kind": result.kind,
        # whose value mi is: the trained network's, or the linear critic's (linear_fallback); none for a model's
        "critic": (None if result.kind in ("classical", "difference", "estimate") else
                   "linear" if result.linear_critic is not None else "network"),
        # the held-out lower bound read beside an estimate (the default's copula: the network's InfoNCE)
        "lower": None if result.lower is None else result.lower.mi * scale,
        "backend": result.backend,
        "unreliable": result.unreliable,
        "ceiling": None if result.ceiling is None else result.ceiling * scale,
        "interval": None if result.interval is None else [bound * scale for bound in result.interval],
        "level": result.config.level,
        "per_fold": [fold.mi * scale for fold in result.per_fold],
        "terms": [term.mi * scale for term in result.terms],
        "steps": len(result.history),
        "stopped_early": result.stopped_early,
        "best_step": result.best_step,
        "stop_reason": result.stop_reason,
        "diverged_at": result.diverged_at,
        "seconds": seconds,
        "notes": list(result.notes),
        "config": result.config.to_dict(),
        "plot": None if plot is None else str(plot),
    }
    return json.dumps(_finite_or_null(report), indent=2, allow_nan=False)


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


def demo(args: argparse.Namespace) -> None:
    check_demo_arguments(args)
    plot = None if args.no_plot else demo_plot_path(args.plot)
    rho = rho_for_mi(args.dim, args.mi)
    x, z, true_mi = correlated_gaussians(args.samples, args.dim, rho, seed=args.seed)
    print(f"Correlated Gaussians: {args.samples} pairs in {args.dim} dimensions, rho = {rho:.4f}, "
          f"true I(X; Z) = {true_mi:.3f} nats")
    print(f"{'bound':<9} {'estimate':>9} {'stderr':>8} {'error':>8} {'seconds':>8}  backend")
    results = []
    for name in args.bounds:
        start = time.perf_counter()
        result = quiet_estimate(x, z, bound=name, backend=args.backend, steps=args.steps, seed=args.seed)
        seconds = time.perf_counter() - start
        # the default (auto) reports the copula or the network's InfoNCE: the row says which
        reported = f" ({result.bound}, {result.kind})" if name == AUTO else ""
        print(f"{name:<9} {result.mi:>9.3f} {result.stderr:>8.3f} {result.mi - true_mi:>+8.3f} "
              f"{seconds:>8.1f}  {result.backend}{reported}")
        for note in result.notes:
            print(f"          note: {note}")
        results.append(result)
    _point_to_explain(note for result in results for note in result.notes)
    if plot is not None:
        print(f"plot: {plot_demo(results, true_mi, plot)}")
    elif not args.no_plot:
        print(f"plots: {PLOT_INSTALL} adds a plot of the training curves")


def check_demo_arguments(args: argparse.Namespace) -> None:
    """The demo's numbers, checked before they reach rho_for_mi and NumPy: a dimension of 0 divides
    by zero, a negative MI takes the square root of a negative number, a negative seed is NumPy's
    ValueError, and an MI over about 18 nats per dimension needs a correlation of 1."""
    check_positive_int("dim", args.dim)
    if check_positive_int("samples", args.samples) < DEMO_MIN_SAMPLES:  # the option's, not the data's, error
        raise invalid("samples", f"at least {DEMO_MIN_SAMPLES} pairs (a test and a validation part are held out)",
                      args.samples)
    check_positive_int("steps", args.steps)
    if not 0 <= args.seed < 2**63:
        raise invalid("seed", "an integer in [0, 2**63)", args.seed)
    if not (math.isfinite(args.mi) and args.mi >= 0 and rho_for_mi(args.dim, args.mi) < 1.0):
        raise invalid("mi", f"a number of nats >= 0, less than about {18 * args.dim} (at dim={args.dim}, more "
                      "needs a correlation of 1)", args.mi)


def demo_plot_path(requested: str | None) -> Path | None:
    """``--plot FILE``, else ``mivb-demo.png`` when matplotlib is installed (None when it is not:
    the demo runs without it; only an explicit ``--plot`` makes a missing matplotlib an error)."""
    try:
        return check_plot_path(requested or DEMO_PLOT)
    except PlottingNotAvailableError:
        if requested:
            raise
        return None


# The flag of `mivb estimate` that sets a classical estimator's parameter; a bound's are derived from
# the bound (Bound.param_help: ba's entropy, counted from the labels, has none).
CLASSICAL_FLAGS = {"k": "--neighbours"}


def parameter_flags() -> dict[str, str]:
    """The flag of `mivb estimate` that sets each estimator parameter: ``--<parameter>`` for each
    parameter a registered bound describes, and the classical estimators' flags."""
    flags = {param: "--" + param.replace("_", "-") for bound in BOUNDS.values() for param in bound.param_help}
    return {**flags, **CLASSICAL_FLAGS}


def list_bounds(args: argparse.Namespace) -> None:
    flags = parameter_flags()
    for info in estimators().values():
        params = ", ".join(f"{flags[k]} {v}" for k, v in info.params.items() if k in flags)
        gradient = f"; gradient follows {BOUNDS[info.name].gradient}" if info.name in BOUNDS else ""
        print(f"{info.name:<8} {info.kind:<9} {info.summary} ({info.paper}){gradient}"
              + (f"; default: {params}" if params else ""))


def explain_notes(args: argparse.Namespace) -> None:
    if not args.codes:
        for code, text in NOTES.items():
            print(f"{code:<20} {text.title}")
        return
    texts = [explain([], code) for code in args.codes]  # an unknown code is refused, with the list of codes
    print("\n\n".join("\n".join(textwrap.fill(line, 100) for line in text.splitlines()) for text in texts))


def _point_to_explain(notes: Any) -> None:
    codes = list(dict.fromkeys(code for code in map(code_of, notes) if code is not None))
    if codes:
        print(f"(mivb explain {' '.join(codes)} says more)")


def list_backends(args: argparse.Namespace) -> None:
    here = set(available_backends())
    for name, spec in registered().items():
        if name in here:
            status = "available"
        elif not installed(spec.framework):
            status = f"not available: {spec.framework} is not installed; fix with: {spec.install}"
        else:
            status = f"not available: its adapter {spec.adapter} is not installed; fix with: {spec.install}"
        print(f"{name:<11} {status}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mivb", description="Mutual information from variational bounds.",
                                   epilog=EXIT_STATUSES)
    root.add_argument("--version", action="version", version=f"mivb {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    _add_estimate(commands)
    _add_demo(commands)
    _add_screen(commands)
    _add_matrix(commands)
    _add_estimate_many(commands)
    commands.add_parser("bounds", help="list every estimator --bound takes: its kind, paper and parameters' flags"
                        ).set_defaults(handler=list_bounds)
    commands.add_parser("backends", help="list the backends and what installs them").set_defaults(
        handler=list_backends)
    run = commands.add_parser("explain", help="what a note's code means, why it happens and what to do; with no "
                              "code, every code", description="The long explanation behind each note's code (the "
                              "word in brackets that ends it), as result.explain(code) gives it.")
    run.add_argument("codes", nargs="*", metavar="CODE", help="codes such as ceiling or rising (none: list them all)")
    run.set_defaults(handler=explain_notes)
    return root


def _add_estimate(commands: Any) -> None:
    files = ", ".join(FORMATS)
    test, validation = DEFAULTS["test_fraction"], DEFAULTS["validation_fraction"]
    run = commands.add_parser(
        "estimate", help="estimate I(X; Z) in nats (or bits) from paired samples in files",
        description=f"Estimate I(X; Z) from paired samples: row i of X goes with row i of Z. Files: {files} "
                    "(name an array of an archive as file.npz:name, columns of a CSV as file.csv:a,b, by "
                    "the names of its header line or 0-based indices; integer "
                    "or boolean arrays are refused, as mivb.estimate refuses them: save floats). By default "
                    f"a critic trains on {1 - test - validation:.0%} of the pairs, {validation:.0%} decide when "
                    f"training stops (early stopping), and the estimate is the bound on the other {test:.0%}, "
                    "which took no part in either. The result reports the steps run, why training stopped, "
                    "the seconds taken, notes, and whether the estimate is unreliable.",
        epilog=EXIT_STATUSES)
    run.add_argument("x", metavar="X", help=f"the samples of X ({files})")
    run.add_argument("z", metavar="Z", nargs="?", default=None,
                     help=f"the samples of Z, as many as X ({files}); omitted, X is a .npz holding arrays named "
                          "x and z")
    run.add_argument("--given", metavar="Y", default=None,
                     help=f"the samples of Y, as many as X ({files}; in the archive of X: X.npz:y): estimate the "
                          "conditional MI I(X; Z | Y) = I(X; (Z, Y)) - I(X; Y), both terms with the same bound, "
                          "split and seed; a difference of two estimates, no bound (Z and Y must be vectors)")
    run.add_argument("--bound", default=DEFAULTS["bound"],
                     help=f"auto, {', '.join(estimators())} (default: auto, a critic under infonce and the "
                          "Gaussian copula where the critic reads no more: docs/copula.md; `mivb bounds` says what "
                          "each is)")
    run.add_argument("--backend", default=None, help="torch, jax or tensorflow (default: the first installed)")
    run.add_argument("--critic", default=DEFAULTS["critic"],
                     help=f"{', '.join([*(k for k in CRITIC_KINDS if k != 'module'), 'conv'])} (conv: for images) "
                          f"(default: conditional for "
                          f"the upper bounds, else separable)")
    _add_bound_parameters(run)
    run.add_argument("--neighbours", type=int, default=None,
                     help="ksg only: the k of its k nearest neighbours (default: 3)")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=None,
                        help=f"the most training steps (default: {DEFAULTS['steps']}; early stopping usually "
                             "ends training sooner)")
    length.add_argument("--epochs", type=float, default=None, help="the most training passes over the training "
                        "split")
    run.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="pairs per step (default: "
                     "%(default)s); InfoNCE can never exceed log(batch size)")
    run.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"],
                     help="Adam's step size (default: %(default)s)")
    run.add_argument("--negative-samples", type=int, default=DEFAULTS["negative_samples"], metavar="K",
                     help="score K sampled negatives per pair instead of all of the batch (default: all)")
    run.add_argument("--ema-decay", type=float, default=DEFAULTS["ema_decay"],
                     help="mine only: the decay of its moving average (default: %(default)s)")
    run.add_argument("--test-fraction", type=float, default=test,
                     help="the share of the pairs the estimate is read on (default: %(default)s)")
    run.add_argument("--validation-fraction", type=float, default=validation,
                     help="the share of the pairs that decides when to stop (default: %(default)s)")
    run.add_argument("--patience", type=int, default=DEFAULTS["patience"],
                     help="validation checks without improvement that end training (default: %(default)s)")
    run.add_argument("--folds", type=int, default=DEFAULTS["folds"], metavar="K",
                     help="cross-fitting: train K critics (K >= 2; 5 is a good choice), each tested on its own "
                          "1/K of the pairs, for K times the cost; the estimate is their pooled mean, with an "
                          "interval that covers the critic's training as well as the test noise (not the bound's "
                          "bias); --test-fraction is then 1/K (default: one split, no interval)")
    run.add_argument("--level", type=float, default=DEFAULTS["level"],
                     help="the coverage of the --folds interval, between 0 and 1 (default: %(default)s)")
    run.add_argument("--no-early-stopping", action="store_true",
                     help=f"train all the steps, with no validation split: the split is then "
                          f"{1 - test:.0%}/{test:.0%} (--validation-fraction is unused)".replace("%", "%%"))
    run.add_argument("--transform", choices=[*TRANSFORMS, "none"], default=DEFAULTS["transform"],
                     help="the invertible map of each feature fitted on the training split: gaussianize tames "
                          "heavy tails, standardize scales, auto picks (default: %(default)s)")
    run.add_argument("--device", default=None, help="cpu (default) or a GPU such as cuda")
    run.add_argument("--devices", type=_devices, default=None, metavar="N",
                     help="data parallelism over N devices of --device's kind, or all (JAX only)")
    run.add_argument("--precision", choices=PRECISIONS, default="float32",
                     help="the critic's compute dtype: float32 (default) or mixed precision (float32 parameters)")
    run.add_argument("--compile", action="store_true",
                     help="torch only: torch.compile the training step (minutes to compile; pays off on GPUs and "
                          "long runs; JAX and TensorFlow always compile theirs)")
    run.add_argument("--linear-fallback", action=argparse.BooleanOptionalAction, default=None,
                     help="infonce and nwj on vectors: report a Gaussian (linear) critic's value when it reads "
                          "clearly more than the network on the validation split (default: only when --critic "
                          "is not given)")
    run.add_argument("--seed", type=int, default=None, help="makes the result reproducible (default: drawn, "
                     "and printed)")
    run.add_argument("--units", choices=sorted(UNIT_SCALES), default="nats", help="of the printed estimate "
                     "(default: %(default)s)")
    run.add_argument("--json", action="store_true", help="print the result as JSON, with its full configuration")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="a progress bar on stderr (default: only when stderr is a terminal)")
    run.add_argument("--plot", metavar="FILE", default=None,
                     help="write the training curve and the held-out estimate (.png, .pdf, .svg, ...)")
    run.set_defaults(handler=estimate_files)


def _add_bound_parameters(run: argparse.ArgumentParser) -> None:
    """A flag ``--<parameter>`` for each parameter a registered bound describes (``Bound.param_help``),
    a number of the default's type, named with the bounds that take it."""
    owners: dict[str, list[str]] = {}
    for bound in BOUNDS.values():
        for param in bound.param_help:
            owners.setdefault(param, []).append(bound.name)
    for param, names in owners.items():
        first = BOUNDS[names[0]]
        default = first.params[param]
        run.add_argument("--" + param.replace("_", "-"), type=int if type(default) is int else float, default=None,
                         help=f"{' and '.join(names)} only: {first.param_help[param]} (default: {default})")


def _devices(text: str) -> int | str:
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of devices or all, received {text!r}") from None


def _add_demo(commands: Any) -> None:
    run = commands.add_parser(
        "demo", help="estimate the MI of correlated Gaussians and compare with the truth",
        description="Draw correlated Gaussians whose MI is known, estimate it with each bound, and print each "
                    "estimate beside the truth (and plot the training curves, when matplotlib is installed).",
        epilog=EXIT_STATUSES)
    # ba reads class labels, which the Gaussians are not; auto is estimate's default (bound=None)
    on_vectors = [AUTO, *sorted(name for name, bound in BOUNDS.items() if bound.critic != "classifier")]
    run.add_argument("--backend", default=None, help="torch, jax or tensorflow (default: first installed)")
    run.add_argument("--bounds", nargs="+", default=[AUTO, *DEMO], choices=on_vectors,
                     metavar="BOUND", help=f"the bounds to estimate with, each in turn: {', '.join(on_vectors)} "
                                           "(auto: estimate's default, the Gaussian copula or the network's "
                                           f"InfoNCE; default: {' '.join([AUTO, *DEMO])})")
    # 5 dimensions and 2 nats: every default bound's network reads the truth within 0.2 nats from 20,000
    # pairs, with no note (at 10 and 3, InfoNCE's network fell back to the linear critic and MINE's missed
    # dependence: a first run that looked like failure)
    run.add_argument("--dim", type=int, default=5, help="dimensions of X and of Z (default: %(default)s)")
    run.add_argument("--mi", type=float, default=2.0, help="true MI in nats (default: %(default)s)")
    run.add_argument("--samples", type=int, default=20_000, help="pairs drawn (default: %(default)s)")
    run.add_argument("--steps", type=int, default=2000,
                     help="the most training steps of each bound's critic (default: %(default)s)")
    run.add_argument("--seed", type=int, default=0,
                     help="draws the data, split and critics (default: %(default)s)")
    plots = run.add_mutually_exclusive_group()
    plots.add_argument("--plot", metavar="FILE", default=None,
                       help=f"where to write the plot of the training curves (default: {DEMO_PLOT}, when "
                            "matplotlib is installed)")
    plots.add_argument("--no-plot", action="store_true", help="write no plot")
    run.set_defaults(handler=demo)


# ---- mivb screen TABLE --target Y: mivb.screen on a table file ---------------------------------------
SCREEN_PRINTED = ("feature", "mi", "p_value", "q_value", "selected", "family", "notes")


def _add_screen(commands: Any) -> None:
    run = _add_table_command(
        commands, "screen", "rank the columns of a table by their MI with a target, with p-values and q-values",
        "Estimate I(column; target) for each column of a table (mivb.screen): KSG for one column against a target "
        "of up to 3 columns (Ross's estimator for class labels, --classes), a permutation p-value per column (the "
        "target shuffled), and Benjamini-Hochberg q-values over the columns. Prints the table, sorted by MI, and "
        "writes it with --out.")
    run.add_argument("--target", nargs="+", required=True, metavar="NAME",
                     help="the target's column (several names: a target of several columns)")
    run.add_argument("--classes", action="store_true",
                     help="the target (one column) holds class labels, read as integers: Ross's estimator")
    run.add_argument("--features", nargs="+", default=None, metavar="NAME",
                     help="the columns to screen (default: every column but the target's)")
    run.add_argument("--permutations", type=int, default=199,
                     help="shuffles of the target per column; the smallest p-value is 1 / (1 + N) "
                          "(default: %(default)s)")
    run.add_argument("--fdr", type=float, default=0.1,
                     help="the false-discovery rate of the selected column (default: %(default)s)")
    run.add_argument("--neighbours", type=int, default=3, help="KSG's k (default: %(default)s)")
    run.add_argument("--stop-after", type=int, default=10, metavar="N",
                     help="stop a column's shuffles once N of them reach its statistic (Besag and Clifford's "
                          "sequential p-value; 0: run them all; default: %(default)s)")
    run.add_argument("--folds", type=int, default=None, metavar="K",
                     help="an interval for each trained estimate, from K folds (default: none)")
    _add_many_options(run, "column", "the whole table")
    run.set_defaults(handler=screen_table)


def _add_table_command(commands: Any, name: str, summary: str, description: str) -> Any:
    """A command that reads a table file (``datafiles.load_table``): its parser, with TABLE."""
    run = commands.add_parser(name, help=summary, epilog=EXIT_STATUSES, description=description
                              + " TABLE: a .csv whose first line names its columns, or a .npz archive of named arrays.")
    run.add_argument("table", metavar="TABLE", help="a .csv with a header line, or a .npz of named arrays")
    return run


def _write_rows(path: str, rows: list[dict[str, Any]]) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"table: {path}")


def _add_many_options(run: Any, task: str, written: str, *, groups: bool = True) -> None:
    """The options of a command that runs many tasks (mivb.estimate_many's): one task is a ``task``."""
    if groups:
        run.add_argument("--group", action="append", type=_group, default=None, metavar="NAME=COLUMN,COLUMN",
                         help="columns taken together as one variable, named NAME (repeat for several groups); a "
                              "group's estimate is mivb.estimate's default, which trains a critic")
    run.add_argument("--backend", default=None, choices=list(registered()),
                     help="where a trained estimate runs (default: the first installed)")
    run.add_argument("--steps", type=int, default=None, help="the most training steps of a trained estimate "
                     f"(default: {DEFAULTS['steps']})")
    run.add_argument("--workers", type=int, default=None,
                     help="local processes (default: one per core; 1: none, all in this process)")
    run.add_argument("--seed", type=int, default=0, help=f"each {task}'s seed is drawn from it (default: %(default)s)")
    run.add_argument("--cache-dir", default=None, metavar="DIR",
                     help=f"keep each finished {task} here, so that a rerun skips it")
    run.add_argument("--out", metavar="FILE", default=None, help=f"write {written} as CSV")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="a progress bar on stderr (default: only when stderr is a terminal)")


def _group(text: str) -> tuple[str, list[str]]:
    name, equals, columns = text.partition("=")
    if not (name and equals and columns and all(columns.split(","))):
        raise argparse.ArgumentTypeError(f"expected NAME=COLUMN,COLUMN,..., received {text!r}")
    return name, columns.split(",")


def _many_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options every many-task command passes on: where the tasks run, and the trained estimates'."""
    trained = {name: getattr(args, name) for name in ("backend", "steps") if getattr(args, name) is not None}
    groups = {"groups": dict(args.group) if args.group else None} if hasattr(args, "group") else {}
    return {**groups, "workers": args.workers, "seed": args.seed, "cache_dir": args.cache_dir,
            "progress": args.progress, **trained}


def screen_table(args: argparse.Namespace) -> None:
    from .datafiles import load_table
    from .screen import screen

    table = load_table(args.table, "table")
    target = args.target[0] if len(args.target) == 1 else args.target
    if args.classes:
        if not isinstance(target, str) or target not in table or np.any(table[target] != np.round(table[target])):
            raise invalid("target", "one column of whole numbers with --classes", target)
        table[target] = table[target].astype(np.int64)
    with warnings.catch_warnings(record=True) as caught:  # the failed columns: their rows say why
        warnings.simplefilter("always")
        result = screen(table, target, features=args.features, permutations=args.permutations, fdr=args.fdr,
                        k=args.neighbours, folds=args.folds, stop_after=args.stop_after or None,
                        **_many_options(args))
    rows: list[dict[str, Any]] = result.to_dict("records") if hasattr(result, "to_dict") else result
    print(f"read {len(next(iter(table.values())))} rows of {len(table)} columns from {args.table}; "
          f"target {', '.join(args.target)}; {args.permutations} permutations; nats")
    print(f"{'feature':<20} {'mi':>8} {'p_value':>8} {'q_value':>8} {'selected':>8}  {'family':<8} notes")
    for row in rows:
        print(f"{row['feature']!s:<20} {row['mi']:>8.4f} {row['p_value']:>8.4f} {row['q_value']:>8.4f} "
              f"{'yes' if row['selected'] else 'no':>8}  {row['family']:<8} {row['notes']}")
    print(f"{sum(row['selected'] for row in rows)} of {len(rows)} columns selected at fdr {args.fdr:g}"
          + ("" if not caught else f"; {caught[0].message}"))
    if args.out is not None:
        _write_rows(args.out, rows)


# ---- mivb matrix TABLE: mivb.mi_matrix on a table file --------------------------------------------------
def _add_matrix(commands: Any) -> None:
    run = _add_table_command(
        commands, "matrix", "the MI between every two columns of a table",
        "Estimate the MI between every two columns of a table (mivb.mi_matrix, one task of mivb.estimate_many per "
        "pair): KSG for two columns, unless --bound names another estimator. Prints the matrix (nats) and writes "
        "it with --out.")
    run.add_argument("--columns", nargs="+", default=None, metavar="NAME",
                     help="the columns to pair (default: every column)")
    run.add_argument("--bound", default=None, choices=sorted(estimators()), metavar="NAME",
                     help="the estimator of every pair (default: ksg; `mivb bounds` lists them)")
    _add_many_options(run, "pair", "the matrix")
    run.set_defaults(handler=matrix_table)


def matrix_table(args: argparse.Namespace) -> None:
    from .datafiles import load_table
    from .matrix import mi_matrix

    table = load_table(args.table, "table")
    options = {} if args.bound is None else {"bound": args.bound}
    result = mi_matrix(table, args.columns, **_many_options(args), **options)
    names, values = (list(result.index), result.to_numpy()) if hasattr(result, "index") else (result["names"],
                                                                                                result["mi"])
    width = max(8, *(len(str(name)) + 1 for name in names))
    print(f"MI (nats) between the {len(names)} columns of {args.table}, {len(next(iter(table.values())))} rows")
    print(" " * width + "".join(f"{name!s:>{width}}" for name in names))
    for name, row in zip(names, values):
        print(f"{name!s:<{width}}" + "".join(f"{'':>{width}}" if np.isnan(v) else f"{v:>{width}.4f}" for v in row))
    if args.out is not None:
        import csv

        with open(args.out, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["", *names])
            writer.writerows([name, *row] for name, row in zip(names, values.tolist()))
        print(f"matrix: {args.out}")


# ---- mivb estimate-many TABLE --pair X:Z ...: mivb.estimate_many on a table file -------------------------
def _add_estimate_many(commands: Any) -> None:
    run = _add_table_command(
        commands, "estimate-many", "estimate the MI of many pairs of a table's columns, spread over workers",
        "Estimate I(X; Z) for each --pair of columns of a table (mivb.estimate_many: each pair one task, seeded "
        "from --seed and its name, so the table is the same on any number of workers). Prints one row per pair "
        "and writes them with --out.")
    run.add_argument("--pair", action="append", required=True, type=_pair, metavar="[NAME=]X,X:Z,Z",
                     help="the columns of x and of z, each a comma-separated list, and the pair's name (default: "
                          "the text itself); repeat it for each pair")
    run.add_argument("--bound", default=None, choices=[AUTO, *estimators()], metavar="NAME",
                     help="the estimator of every pair (default: mivb.estimate's; `mivb bounds` lists them)")
    run.add_argument("--folds", type=int, default=None, metavar="K",
                     help="an interval for each trained estimate, from K folds (default: none)")
    _add_many_options(run, "pair", "the table of estimates", groups=False)
    run.set_defaults(handler=estimate_many_table)


def _pair(text: str) -> tuple[str, Any, Any]:
    name, equals, columns = text.rpartition("=")
    x, colon, z = columns.partition(":")
    if (equals and not name) or not colon or not all(x.split(",")) or not all(z.split(",")):
        raise argparse.ArgumentTypeError(f"expected [NAME=]X,X:Z,Z (columns of x, a colon, columns of z), "
                                         f"received {text!r}")
    return name or columns, _columns(x), _columns(z)


def _columns(names: str) -> Any:
    """One column's name, or a list of names (stacked as features) where commas separate them."""
    return names if "," not in names else names.split(",")


def estimate_many_table(args: argparse.Namespace) -> None:
    from .datafiles import load_table
    from .many import TaskFailure, estimate_many

    table = load_table(args.table, "table")
    tasks = {name: (x, z) for name, x, z in args.pair}
    if len(tasks) < len(args.pair):
        raise invalid("pair", "pairs of distinct names", [name for name, _, _ in args.pair])
    options = {key: value for key, value in (("bound", args.bound), ("folds", args.folds)) if value is not None}
    results = estimate_many(tasks, data=table, **_many_options(args), **options)
    assert isinstance(results, dict)  # a mapping of tasks gives a mapping of results
    rows = []
    for name, found in results.items():
        if isinstance(found, TaskFailure):
            rows.append({"pair": name, "mi": math.nan, "stderr": math.nan, "kind": "", "bound": "",
                         "lower": math.nan, "upper": math.nan, "notes": f"failed: {found.error}"})
            continue
        low, high = found.interval or (math.nan, math.nan)
        rows.append({"pair": name, "mi": found.mi, "stderr": found.stderr, "kind": found.kind, "bound": found.bound,
                     "lower": low, "upper": high, "notes": " ".join(found.notes)})
    width = max(20, *(len(str(row["pair"])) + 1 for row in rows))
    print(f"read {len(next(iter(table.values())))} rows of {len(table)} columns from {args.table}; nats")
    print(f"{'pair':<{width}} {'mi':>8} {'stderr':>8}  {'kind':<10} {'bound':<10} notes")
    for row in rows:
        print(f"{row['pair']!s:<{width}} {row['mi']:>8.4f} {row['stderr']:>8.4f}  {row['kind']:<10} "
              f"{row['bound']:<10} {row['notes']}")
    _point_to_explain(note for found in results.values() if not isinstance(found, TaskFailure) for note in found.notes)
    if args.out is not None:
        _write_rows(args.out, rows)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.handler(args)
    except MivbError as error:
        return _fail(str(error), error_status(error))
    except OSError as error:  # a plot written to a full disk or a read-only folder
        return _fail(f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", INTERRUPTED_STATUS)
    return 0


def error_status(error: MivbError) -> int:
    """3 for the data (an error naming x or z), 1 for what is missing here (a framework, matplotlib),
    2 for an option mivb refuses (its messages start with the option's name)."""
    if isinstance(error, (BackendNotAvailableError, PlottingNotAvailableError)):
        return FAILURE_STATUS
    arguments = str(error).split(":", 1)[0].split(",")  # "x, z: ..." names both
    return DATA_STATUS if any(argument.strip() in DATA_ARGUMENTS for argument in arguments) else USAGE_STATUS


def _fail(message: str, status: int = FAILURE_STATUS) -> int:
    print(f"mivb: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
