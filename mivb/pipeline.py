"""The steps of [`mivb.estimate`][mivb.estimate.estimate] on arrays, for ``estimate`` and for the
features built on it (conditional MI, streams, folds, the independence test): check the arguments
against the bound, critic and backend into an ``EstimateConfig`` (``configure``), check the samples (``trained_inputs``,
``classical_inputs``), run one estimate (``trained``, ``classical``), and score a fitted critic
(``result``).

``arguments`` is ``estimate``'s keyword arguments as one typed record (``mivb.arguments``,
``bound_params`` holding the bound's).
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from typing import Any

import numpy as np

from .arguments import EstimateArguments
from .backends import available_backends, backend_name_of, get_backend, installed, registered
from .bounds import HeldOut, get_bound
from .classical import CLASSICAL, ClassicalEstimator
from .critics import check_critic_takes, check_negative_samples
from .crosscheck import fallback_note, linear_batch_size, linear_note, linear_values, plug_in_note
from .diagnosis import diagnose
from .errors import BackendNotAvailableError, invalid, unknown_name
from .intervals import check_fold_parts, crossfit
from .notes import note as note_text
from .notes import warn as warn_notes
from .protocol import (
    DEVICE_VARIABLE,
    Fitted,
    fit,
    held_out_batches,
    linear_reads_more,
    reads_wider,
    score,
    wide_batch_size,
)
from .result import Estimate, EstimateConfig
from .samples import as_labels, as_samples, check_paired, label_entropy, prepare
from .schedule import shift_schedule
from .spec import EstimatorSpec

BACKEND_VARIABLE = "MIVB_BACKEND"  # the default backend, like KERAS_BACKEND


def trained_inputs(x: Any, z: Any, arguments: EstimateArguments) -> tuple[EstimateConfig, np.ndarray, np.ndarray, bool]:
    """The configuration and the checked samples for a bound's critic; whether z holds class labels."""
    labels = get_bound(arguments.bound).critic == "classifier"
    if labels:  # z holds class labels: one-hot rows, and H(Z) from their counts
        z, counts = as_labels("z", z)
        arguments = replace(arguments, bound_params={"entropy": label_entropy(counts), **arguments.bound_params})
    config = configure(arguments, x, z)
    x_all, z_all = as_samples("x", x), as_samples("z", z)
    check_paired(x_all, z_all)
    check_critic_takes(config.critic, x_all, z_all)
    return config, x_all, z_all, labels


def trained(x: Any, z: Any, arguments: EstimateArguments) -> Estimate:
    """A bound's estimate: train a critic, read the bound off the test split (each fold's in turn)."""
    config, x_all, z_all, labels = trained_inputs(x, z, arguments)
    if config.folds is None:
        return result(fit(x_all, z_all, config, labels, arguments.progress, arguments.callback))
    check_fold_parts(x_all, z_all, config)  # before training any fold
    per_fold = [result(fit(x_all, z_all, config, labels, arguments.progress, arguments.callback, fold),
                       warn=False) for fold in range(config.folds)]
    combined = crossfit(config, per_fold)
    warn_notes(combined.notes, stacklevel=3)
    return combined


def classical_inputs(x: Any, z: Any, arguments: EstimateArguments) -> tuple[ClassicalEstimator, dict[str, Any],
                                                                         np.ndarray, np.ndarray, str | None]:
    """A classical estimator, its parameters, the transformed samples, and the transform."""
    estimator = CLASSICAL[arguments.name]
    if arguments.folds is not None:
        raise invalid("folds", f"None for the classical estimator {estimator.name!r}, which trains nothing and "
                      f"runs once on all pairs", arguments.folds)
    params = estimator.resolve_params(arguments.bound_params)
    x_all, z_all = as_samples("x", x), as_samples("z", z)
    check_paired(x_all, z_all)
    transform = arguments.transform
    if transform is None:  # no critic, so no float32 products to keep finite: the samples as they are, in float64
        return estimator, params, x_all.astype(np.float64), z_all.astype(np.float64), transform
    xs, zs = prepare(transform, x_all, argument="x")[0], prepare(transform, z_all, argument="z")[0]
    return estimator, params, xs, zs, transform


def classical(x: Any, z: Any, arguments: EstimateArguments) -> Estimate:
    """A classical estimator on all pairs, after the transform: no training, no split."""
    estimator, params, xs, zs, transform = classical_inputs(x, z, arguments)
    mi, stderr = estimator.function(xs, zs, **params)
    config = EstimateConfig(bound=estimator.name, bound_params=params, backend="numpy", steps=0,
                            transform=transform, seed=seed_or_drawn(arguments.seed))
    notes, unreliable = [], not math.isfinite(mi)
    if unreliable:
        notes.append(note_text("unsuited", name=estimator.name, mi=mi))
    notes += estimator.notes(params, len(xs)) if estimator.notes is not None else []
    warn_notes(notes, stacklevel=3)
    return Estimate(mi=mi, stderr=stderr, history=np.zeros(0), bound=estimator.name, backend="numpy", config=config,
                    test_values=np.array([mi]), notes=tuple(notes), unreliable=unreliable, kind="classical",
                    stop_reason="none (a classical estimator, on all pairs)")


def seed_or_drawn(seed: Any) -> Any:
    """The seed given, or one drawn at random (recorded in the result's config)."""
    return int(np.random.SeedSequence().generate_state(1)[0] >> 1) if seed is None else seed


def configure(arguments: EstimateArguments, x: Any, z: Any) -> EstimateConfig:
    """The configuration a bound's estimate runs with: the arguments (checked each on its own when
    the record was built) checked against the bound, the critic and the backend, which is chosen
    from ``x`` and ``z`` when none is given."""
    seed = seed_or_drawn(arguments.seed)
    spec = EstimatorSpec.create(arguments.name, arguments.critic, arguments.learning_rate,
                                arguments.ema_decay, seed, arguments.bound_params,
                                learning_rate_argument="learning_rate", precision=arguments.precision)
    assert spec.seed is not None  # seed_or_drawn drew one when none was given
    critic = spec.critic
    if arguments.negative_samples is not None:
        critic = replace(critic, negative_samples=arguments.negative_samples)
    check_negative_samples(critic, arguments.batch_size)
    devices = arguments.devices
    backend = _choose_backend(arguments.backend, x, z)
    if devices not in (None, 1) and "shards" not in get_backend(backend).capabilities:
        sharding = ", ".join(repr(name) for name in available_backends() if "shards" in get_backend(name).capabilities)
        raise invalid("devices", f"None with backend {backend!r}, which runs estimate on one device (data "
                      f"parallelism in estimate: {sharding or 'no installed backend'}; see README, many devices)",
                      devices)
    if arguments.compile is True and "compiles" not in get_backend(backend).capabilities:
        raise invalid("compile", f"False with backend {backend!r}, whose step is always compiled (jax.jit, "
                      f"tf.function): compile=True is for torch.compile", True)
    device = arguments.device
    if device is None and backend == "torch" and backend_name_of(x) == "torch":
        device = str(x.device)  # the tensors' own device: CUDA tensors train on their GPU
    device = device or os.environ.get(DEVICE_VARIABLE) or None
    return EstimateConfig(
        bound=spec.bound,
        bound_params=dict(spec.bound_params),
        critic=critic,
        backend=backend,
        device=device,
        devices=devices,
        steps=arguments.steps,
        batch_size=arguments.batch_size,
        learning_rate=spec.learning_rate,
        ema_decay=spec.ema_decay,
        test_fraction=arguments.test_fraction,
        validation_fraction=arguments.validation_fraction,
        early_stopping=arguments.early_stopping,
        patience=arguments.patience,
        transform=arguments.transform,
        seed=spec.seed,
        folds=arguments.folds,
        level=arguments.level,
        precision=spec.precision,
        compile=arguments.compile,
        linear_fallback=arguments.critic is None if arguments.linear_fallback is None else arguments.linear_fallback,
    )


def training_backends() -> list[str]:
    """The installed backends that can train a critic, in registration order."""
    return [name for name in available_backends() if "trains" in get_backend(name).capabilities]


def _choose_backend(backend: str | None, x: Any, z: Any) -> str:
    """The argument; else the inputs' framework; else ``MIVB_BACKEND``; else the first installed that trains."""
    if backend is None:
        owner = backend_name_of(x) or backend_name_of(z)
        if owner is not None and "trains" in get_backend(owner).capabilities:
            return owner
        if os.environ.get(BACKEND_VARIABLE):
            return _training_backend(BACKEND_VARIABLE, os.environ[BACKEND_VARIABLE])
        for name in available_backends():  # imports one framework at most: the first that trains
            if "trains" in get_backend(name).capabilities:
                return name
        hints = "; ".join(f"{spec.name}: {spec.install}" for spec in registered().values()
                          if not installed(spec.framework))
        raise BackendNotAvailableError(f"backend: estimate trains a critic and needs a framework that can, none "
                                       f"of which is installed; fix with one of: {hints}")
    return _training_backend("backend", backend)


def _training_backend(argument: str, backend: str) -> str:
    if backend not in registered():
        raise unknown_name(argument, backend, registered())
    adapter = get_backend(backend)
    if "trains" not in adapter.capabilities:
        raise invalid(argument, f"a backend that can train a critic ({', '.join(map(repr, training_backends()))} "
                      f"are installed here); {backend!r} computes bounds only", backend)
    return backend


def result(fitted: Fitted, warn: bool = True) -> Estimate:
    """The estimate of a fitted critic: the bound on its test split, with the notes on it."""
    config, run = fitted.config, fitted.run
    wide = reads_wider(fitted)
    reading = replace(config, batch_size=wide_batch_size(fitted.test_size, config.batch_size)) if wide else config
    values, eval_size = score(fitted.trainer, np.random.default_rng(fitted.test_seed), "test", fitted.test_size,
                              reading)
    validation, crosscheck = None, []
    if fitted.linear_critic is not None and np.isfinite(values).all():
        validation = linear_reads_more(fitted, wide)
        # The network's test batches for the note; larger ones when the linear critic is reported.
        size = eval_size if validation is None else max(eval_size, linear_batch_size(fitted.test_size, config.batch_size))
        batches = held_out_batches(np.random.default_rng(fitted.test_seed), fitted.test_size,
                                   replace(config, batch_size=size))
        linear = linear_values(fitted.linear_critic, *fitted.test_pairs, batches, config.bound, config.bound_params)
        if validation is None:
            crosscheck = [note for note in [linear_note(config.bound, values, linear)] if note]
        else:
            crosscheck = [fallback_note(validation, float(values.mean()))]
            values, eval_size = linear, size
    mi = float(values.mean())
    stderr = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    if len(values) == 1 and math.isfinite(mi):  # one test batch: the spread of its leave-one-out values
        [batch] = held_out_batches(np.random.default_rng(fitted.test_seed), fitted.test_size,
                                   replace(config, batch_size=eval_size))
        stderr = jackknife_stderr(fitted, batch, reported_linear=validation is not None)
    k = config.critic.negative_samples
    ceiling = get_bound(config.bound).ceiling(eval_size - 1 if k is None else min(k, eval_size - 1),
                                              config.bound_params)
    notes, unreliable = diagnose(config, run, mi, stderr, ceiling, fitted.n_pairs, fitted.x_is_z,
                                 fitted.test_size)
    bound_notes = get_bound(config.bound).notes  # the bound's own (smile's clip)
    if bound_notes is not None:
        held_out = HeldOut(config.bound, mi, fitted.test_size,
                           lambda m: fitted.trainer.trained().pointwise(*(a[:m] for a in fitted.test_pairs)))
        own, own_unreliable = bound_notes(get_bound(config.bound).resolve_params(config.bound_params), held_out)
        notes += own
        unreliable = unreliable or own_unreliable
    if validation is not None and fitted.linear_critic is not None:  # the linear critic is reported
        log_ratios = fitted.linear_critic.log_ratio(*fitted.test_pairs)
        crosscheck += [note for note in [plug_in_note(config.bound, mi, fitted.linear_critic, log_ratios)] if note]
    if not math.isfinite(stderr) and math.isfinite(mi):
        notes.append(note_text("no-stderr", pairs=fitted.test_size, size=eval_size))
    notes = fitted.notes + notes + crosscheck
    if warn:
        warn_notes(notes, stacklevel=4)  # estimate's caller: estimate -> trained -> result
    return Estimate(mi=mi, stderr=stderr, history=run.history, bound=config.bound, backend=config.backend,
                    kind=get_bound(config.bound).kind,
                    config=config, test_values=values, ceiling=ceiling, notes=tuple(notes),
                    diverged_at=run.diverged_at, validation=run.validation, best_step=run.best_step,
                    stopped_early=run.stopped_early, unreliable=unreliable, stop_reason=fitted.stop_reason,
                    estimator=fitted.trainer.trained(), prepare_new=fitted.prepare_new,
                    linear_critic=fitted.linear_critic if validation is not None else None)


def jackknife_stderr(fitted: Fitted, batch: np.ndarray, reported_linear: bool) -> float:
    """The standard error of the bound on one test ``batch``, by the jackknife: its value on each
    leave-one-out batch (NaN below 3 pairs, where a batch of 1 has no bound)."""
    m, config = len(batch), fitted.config
    if m < 3:
        return math.nan
    leave_one_out = np.array([np.delete(batch, i) for i in range(m)])
    if reported_linear and fitted.linear_critic is not None:  # it is never None when reported
        values = linear_values(fitted.linear_critic, *fitted.test_pairs, leave_one_out, config.bound,
                               config.bound_params)
    else:
        k = config.critic.negative_samples
        shifts = None if k is None else shift_schedule(np.random.default_rng(fitted.test_seed), m - 1,
                                                       min(k, m - 2), m)
        values = np.asarray(fitted.trainer.values("test", leave_one_out, shifts), np.float64)
    return float(math.sqrt((m - 1) / m * np.sum((values - values.mean()) ** 2)))
