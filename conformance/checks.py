"""The conformance checks: each is a function of a backend, listed with a readable id.

Every backend registered with mivb is held to the same numbers: the NumPy float64 reference of
:mod:`mivb.reference`, and analytic Gaussian MI. ``checks_for(name)`` lists what applies to a
backend: bound values and the EMA and clipping rules for every backend; gradients where the
framework has autodiff; training on Gaussians where it can train a critic.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

import mivb
from mivb import reference
from mivb.clipping import clip_scale, global_norm
from mivb.ema import ema_init, ema_update
from mivb.scores import PairedScores

from .cases import (
    EMA_DECAYS,
    SCORE_CASES,
    GaussianCase,
    ScoreCase,
    bound_case_id,
    bound_cases,
    clipping_cases,
    ema_batches,
)
from .compression import COMPRESSION_CHECKS
from .invariants import INVARIANTS
from .precision import precision_checks
from .reliability import RELIABILITY_CHECKS
from .trust import TRUST_CHECKS

# Relative tolerance by dtype (docs/bounds.md: float64 to 1e-10, float32 to 1e-5). Sums of many terms
# can cancel, so the absolute slack is the same relative tolerance applied to the largest term.
RTOL = {"float64": 1e-10, "float32": 1e-5}
# A full matrix is reduced directly (its diagonal masked), its (p, G) as given: the same terms
# summed in another order, so the two agree to a few units in the last place of the largest term.
ULPS = 8

# Tolerances sit about 1.5x above the worst deviation seen over two seeds at 1200 steps. DV-type
# bounds (dv, mine, nwj, js) are judged at 1 nat only: their variance grows exponentially with MI.
GAUSSIAN_CASES = [
    GaussianCase("infonce", 1.0, 0.2),
    GaussianCase("infonce", 3.0, 0.5),
    GaussianCase("smile", 1.0, 0.2),
    GaussianCase("smile", 4.0, 0.4),
    GaussianCase("mine", 1.0, 0.25),
    GaussianCase("dv", 1.0, 0.2),
    GaussianCase("nwj", 1.0, 0.25),
    GaussianCase("js", 1.0, 0.25),
    GaussianCase("infonce", 1.0, 0.3, critic="joint", negative_samples=8),
    GaussianCase("smile", 1.0, 0.2, critic="bilinear"),
    GaussianCase("tuba", 1.0, 0.2),
    GaussianCase("alpha", 1.0, 0.2),
    GaussianCase("alpha", 3.0, 0.4),
    GaussianCase("l1out", 1.0, 0.2),
    GaussianCase("club", 1.0, 0.25, against_exact_q=True),
]


@dataclass(frozen=True)
class Check:
    id: str
    run: Callable[[str], None]
    needs: str = "arrays"  # "arrays", or a capability of the backend: "autodiff", "trains"


def assert_close(actual, expected, dtype: str, scale: float, what: str) -> None:
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    rtol = RTOL[dtype]
    atol = rtol * max(1.0, scale)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _inputs(backend: str, case: ScoreCase):
    adapter = mivb.get_backend(backend)
    return adapter, case.arrays(), [adapter.from_numpy(a) for a in case.arrays()]


def _baseline(adapter, name: str, case: ScoreCase) -> dict:
    """``baseline=`` for a bound that reads one (as the framework's array), else nothing."""
    return {"baseline": adapter.from_numpy(case.baseline())} if mivb.BOUNDS[name].baseline else {}


def _framework_params(adapter, params: dict, case: ScoreCase) -> dict:
    """The parameters with ``log_ema`` as a scalar of the backend, in the scores' dtype."""
    if params.get("log_ema") is None:
        return params
    return {**params, "log_ema": adapter.from_numpy(np.asarray(params["log_ema"], case.dtype))}


def _oracle(name: str, params: dict, pos: np.ndarray, neg: np.ndarray, case: ScoreCase) -> tuple:
    """The bound's float64 reference: value and training gradients with respect to pos and neg (and
    to the baseline, for a bound that reads one)."""
    bound = mivb.BOUNDS[name]
    state = {key: params[key] for key in bound.state_names if key in params}
    settings = bound.resolve_params({key: value for key, value in params.items() if key not in state})
    extra = {"baseline": case.baseline().astype(np.float64)} if bound.baseline else {}
    return bound.reference(np.asarray(pos, np.float64), np.asarray(neg, np.float64), settings, state, **extra)


def check_bound_value(backend: str, name: str, params: dict, case: ScoreCase) -> None:
    adapter, arrays, tensors = _inputs(backend, case)
    value = mivb.bound(name, *tensors, **_baseline(adapter, name, case), **_framework_params(adapter, params, case))
    pos, neg = reference.split(arrays[0]) if case.k is None else arrays
    expected = _oracle(name, params, pos, neg, case)[0]
    got = adapter.to_numpy(value)
    assert got.shape == (), f"bound returned shape {got.shape}, expected a scalar"
    assert str(got.dtype) == case.dtype, f"bound returned {got.dtype} for {case.dtype} scores"
    scale = max(float(np.max(np.abs(pos))), float(np.max(np.abs(neg))), abs(expected))
    assert_close(got, expected, case.dtype, scale, f"{name}{params} on {case.id}")


def check_full_matrix_agrees(backend: str, name: str, params: dict, case: ScoreCase) -> None:
    """Given a full matrix, a backend gives the value it gives on the (p, G) taken from it, to rounding."""
    adapter, arrays, tensors = _inputs(backend, case)
    pos, neg = reference.split(arrays[0])
    params = {**_framework_params(adapter, params, case), **_baseline(adapter, name, case)}
    from_matrix = adapter.to_numpy(mivb.bound(name, tensors[0], **params))
    from_pair = adapter.to_numpy(mivb.bound(name, adapter.from_numpy(pos.astype(case.dtype)),
                                            adapter.from_numpy(neg.astype(case.dtype)), **params))
    # Rounding errors are relative to the largest score; a bound whose value is the exp of a
    # logsumexp (nwj, js, tuba, alpha: tolerance "exponentiated") multiplies them by its own size.
    largest = max(float(np.max(np.abs(arrays[0]))), abs(float(from_pair)), 1.0)
    if mivb.BOUNDS[name].tolerance == "exponentiated":
        largest = max(float(np.max(np.abs(arrays[0]))), 1.0) * max(abs(float(from_pair)), 1.0)
    slack = ULPS * float(np.finfo(case.dtype).eps) * largest
    assert abs(float(from_matrix) - float(from_pair)) <= slack, (
        f"{name}: full matrix gives {from_matrix}, its (p, G) {from_pair}")


def check_bound_gradient(backend: str, name: str, params: dict, case: ScoreCase) -> None:
    adapter, arrays, tensors = _inputs(backend, case)
    framework_params = _framework_params(adapter, params, case)
    inputs = [*tensors, *_baseline(adapter, name, case).values()]
    scores = len(tensors)

    def value(*arrays):
        baseline = {"baseline": arrays[scores]} if len(arrays) > scores else {}
        return mivb.bound(name, *arrays[:scores], **baseline, **framework_params)

    _, grads = adapter.value_and_grad(value, *inputs)
    pos, neg = reference.split(arrays[0]) if case.k is None else arrays
    _, d_pos, d_neg, *d_baseline = _oracle(name, params, pos, neg, case)
    expected = [reference.full_matrix_of(d_pos, d_neg)] if case.k is None else [d_pos, d_neg]
    labels = ["d/dscores"] if case.k is None else ["d/dpos", "d/dneg"]
    for got, want, label in zip(grads, expected + d_baseline, labels + ["d/dbaseline"]):
        got = adapter.to_numpy(got)
        assert got.dtype == np.dtype(case.dtype), f"gradient dtype {got.dtype} for {case.dtype} scores"
        assert_close(got, want, case.dtype, float(np.max(np.abs(want))), f"{label} of {name}{params} on {case.id}")


def check_ema(backend: str, decay: float, dtype: str) -> None:
    adapter = mivb.get_backend(backend)
    batches = ema_batches(dtype)
    log_ema = ema_init(adapter.ops, adapter.from_numpy(batches[0]))
    assert math.isnan(float(adapter.to_numpy(log_ema))), "the initial EMA state must be unset (NaN)"
    for batch in batches:
        neg = adapter.from_numpy(batch)
        lme = PairedScores(adapter.ops, neg[:, 0], neg).logsumexp_negatives() - math.log(batch.size)
        log_ema = ema_update(adapter.ops, log_ema, lme, decay)
    got = adapter.to_numpy(log_ema)
    assert str(got.dtype) == dtype
    assert_close(got, reference.ema_after(batches, decay), dtype, 80.0, f"log_ema after {len(batches)} batches")


def check_clipping(backend: str, case: str, dtype: str) -> None:
    adapter = mivb.get_backend(backend)
    grads_loss, grads_mi = clipping_cases(dtype)[case]
    ops = adapter.ops
    norms = [global_norm(ops, [adapter.from_numpy(g) for g in grads]) for grads in (grads_loss, grads_mi)]
    got = adapter.to_numpy(clip_scale(ops, *norms))
    assert_close(got, reference.clip_scale(grads_loss, grads_mi), dtype, 1.0, f"clipping scale, {case}")


def check_gaussian(backend: str, case: GaussianCase) -> None:
    x, z, true_mi = mivb.correlated_gaussians(12_000, case.dim, mivb.data.rho_for_mi(case.dim, case.mi), seed=3)
    # The backend's trained critic is what this checks, never the NumPy linear critic it could fall back to.
    result = mivb.estimate(x, z, backend=backend, bound=case.bound, critic=case.critic,
                           negative_samples=case.negative_samples, steps=1200, seed=0, linear_fallback=False)
    target = min(true_mi, result.ceiling) if result.ceiling is not None else true_mi
    if case.against_exact_q:  # what CLUB reads with the true conditional: d rho^2 / (1 - rho^2) >= the MI
        rho = mivb.data.rho_for_mi(case.dim, case.mi)
        target = case.dim * rho**2 / (1 - rho**2)
    assert abs(result.mi - target) <= case.tolerance, (
        f"{case.id}: estimated {result.mi:.3f} nats, truth {target:.3f} (tolerance {case.tolerance})")
    assert np.all(np.isfinite(result.history)) and result.diverged_at is None
    assert len(result.history) == 1200 or (result.stopped_early and len(result.history) < 1200)
    assert 0 < result.best_step <= len(result.history)


def labelled_mixture(n: int = 6000, classes: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """x from one unit Gaussian per class label z, and I(X; Z) = H(Z) + E log p(z | x) (a Monte Carlo
    average of the exact posterior over these very samples, so it is the value a perfect classifier reads)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centres = 1.5 * rng.normal(size=(classes, 3))
    x = (centres[labels] + rng.normal(size=(n, 3))).astype(np.float32)
    log_joint = -0.5 * np.sum((x[:, None, :] - centres[None]) ** 2, axis=-1)
    log_posterior = log_joint - reference.logsumexp(log_joint, axis=1)[:, None]
    frequencies = np.bincount(labels, minlength=classes) / n
    entropy = -float(np.sum(frequencies * np.log(frequencies)))
    return x, labels, entropy + float(np.mean(log_posterior[np.arange(n), labels]))


def check_labels_ba(backend: str) -> None:
    """Barber-Agakov on class labels reads close to the truth, and below it (a lower bound)."""
    x, labels, truth = labelled_mixture()
    result = mivb.estimate(x, labels, backend=backend, bound="ba", steps=1500, seed=0)
    assert result.kind == "lower" and result.config.critic.kind == "classifier"
    assert truth - 0.12 <= result.mi <= truth + 2 * result.stderr, f"ba read {result.mi:.3f}, truth {truth:.3f}"


def check_estimate_is_deterministic(backend: str) -> None:
    x, z, _ = mivb.correlated_gaussians(1500, 3, 0.7, seed=0)
    runs = [mivb.estimate(x, z, backend=backend, bound=bound, steps=60, batch_size=32, seed=4, critic=critic,
                          negative_samples=k)
            for bound, critic, k in (("mine", "separable", None), ("infonce", "joint", 5)) for _ in range(2)]
    for first, second in (runs[:2], runs[2:]):
        assert first.mi == second.mi and np.array_equal(first.history, second.history), (first, second)
    assert runs[0].mi != mivb.estimate(x, z, backend=backend, bound="mine", steps=60, batch_size=32, seed=5).mi


BAD_ESTIMATE_INPUTS = {
    "lengths differ": (np.ones((300, 2), np.float32), np.ones((299, 2), np.float32), {}),
    "NaN": (np.full((300, 2), np.nan, np.float32), np.ones((300, 2), np.float32), {}),
    "integers": (np.ones((300, 2), np.int32), np.ones((300, 2), np.float32), {}),
    "too few samples": (np.random.default_rng(0).normal(size=(12, 2)).astype(np.float32),
                        np.random.default_rng(1).normal(size=(12, 2)).astype(np.float32), {}),
    "unknown bound": (None, None, {"bound": "nce"}),
    "unknown device": (None, None, {"device": "tpu7"}),
    "K too large": (None, None, {"negative_samples": 40, "batch_size": 32}),
    "boolean learning rate": (None, None, {"learning_rate": True}),
    "string early stopping": (None, None, {"early_stopping": "no"}),
    "boolean clip": (None, None, {"bound": "smile", "clip": True}),
    "3-D samples": (np.random.default_rng(0).normal(size=(300, 2, 3)).astype(np.float32), None, {}),
    "ragged list": ([[1.0, 2.0], [3.0]] * 150, None, {}),
    "beyond float32": (np.random.default_rng(0).normal(size=(300, 2)) * 1e40, None, {"transform": None}),
}


def check_estimate_rejects_bad_input(backend: str) -> None:
    x_ok, z_ok, _ = mivb.correlated_gaussians(300, 2, 0.5, seed=0)
    for label, (x, z, options) in BAD_ESTIMATE_INPUTS.items():
        try:
            mivb.estimate(x_ok if x is None else x, z_ok if z is None else z, backend=backend,
                          **{"steps": 2, "batch_size": 32, **options})
        except mivb.MivbError as error:
            assert isinstance(error, (ValueError, TypeError)), label
            assert "expected" in str(error) and "received" in str(error), f"{label}: {error}"
        else:
            raise AssertionError(f"{label}: no error raised")


SMALL_DATA_SIZES = (50, 200, 900, 1500)  # with the default batch_size of 128


def check_small_data(backend: str, n: int) -> None:
    """Small data works with the defaults: a finite estimate, the batch no larger than the training part;
    from 200 pairs a sane one, and on 50 (35 to train on, 10 to test) at least an honest one: a
    critic that overfits so few pairs may read below zero, and then says so."""
    x, z, _ = mivb.correlated_gaussians(n, 2, 0.8, seed=1)
    result = mivb.estimate(x, z, backend=backend, steps=60, seed=0)
    n_train = n - round(0.2 * n) - round(0.1 * n)  # the default 70/10/20 split
    assert result.config.batch_size == min(128, n_train), result.config.batch_size
    assert np.isfinite(result.mi) and np.all(np.isfinite(result.history)), result
    assert not result.unreliable if n >= 200 else (not result.unreliable or any("outside" in note for note in
                                                                                  result.notes)), result
    assert any("batch_size lowered" in note for note in result.notes) == (n_train < 128), result.notes


# Training that blows up without a NaN: the values run off to absurd finite numbers. Whether MINE
# at lr 0.01 blows up depends on the backend (torch read -159 nats, JAX stays sane): either way no
# absurd number may come back unflagged. The other two blow up everywhere.
FINITE_DIVERGENCE = {
    "smile-lr1000": ({"bound": "smile", "learning_rate": 1000.0, "batch_size": 32}, True),
    "mine-lr0.01": ({"bound": "mine", "learning_rate": 0.01}, False),
    "dv-lr30": ({"bound": "dv", "learning_rate": 30.0}, True),
}


def check_finite_divergence_is_flagged(backend: str, options: dict, must_diverge: bool) -> None:
    x, z, _ = mivb.correlated_gaussians(4000, 5, 0.5, seed=0)
    result = mivb.estimate(x, z, backend=backend, steps=300, seed=0, **options)
    if must_diverge or result.diverged_at is not None:
        assert result.unreliable and result.diverged_at is not None, result
        assert any("diverged" in note for note in result.notes), result.notes
    else:
        assert not result.unreliable, result
    assert np.isfinite(result.mi) and -1.0 < result.mi < 2 * math.log(4000) + 10, result  # a sane critic's value


def check_import_is_framework_free(backend: str) -> None:
    code = ("import sys, mivb, numpy as np; mivb.bound('dv', np.eye(3)); mivb.available_backends(); "
            "loaded = [m for m in ('torch', 'jax', 'tensorflow') if m in sys.modules]; "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)


def check_backend_of_arrays(backend: str) -> None:
    adapter = mivb.get_backend(backend)
    scores = adapter.from_numpy(np.eye(4))
    value = mivb.bound("infonce", scores)
    assert mivb.backends.backend_name_of(value) == backend, f"bound returned {type(value)}"
    if backend != "numpy":
        try:
            mivb.bound("dv", scores[0], np.zeros((4, 3)))
        except mivb.InvalidTypeError as error:
            assert "one framework" in str(error)
        else:
            raise AssertionError("mixing frameworks must raise InvalidTypeError")


def check_bad_scores(backend: str) -> None:
    adapter = mivb.get_backend(backend)
    bad = {
        "matrix not square": (np.zeros((3, 4)),),
        "N < 2": (np.zeros((1, 1)),),
        "pos 2-D": (np.zeros((3, 1)), np.zeros((3, 2))),
        "rows differ": (np.zeros(3), np.zeros((4, 2))),
        "K = 0": (np.zeros(3), np.zeros((3, 0))),
        "integer": (np.zeros((3, 3), dtype=np.int64),),
    }
    for label, arrays in bad.items():
        try:
            mivb.bound("dv", *(adapter.from_numpy(a) for a in arrays))
        except mivb.MivbError as error:
            assert "expected" in str(error) and "received" in str(error), f"{label}: unclear message {error}"
        else:
            raise AssertionError(f"{label}: no error raised")


def checks_for(backend: str) -> list[Check]:
    """Every check that applies to ``backend``, with ids like ``infonce-full-N16-normal10-float32``."""
    checks: list[Check] = []
    for name, params in bound_cases():
        for case in SCORE_CASES:
            label = f"{bound_case_id(name, params)}-{case.id}"
            checks.append(Check(f"value-{label}", partial(check_bound_value, name=name, params=params, case=case)))
            checks.append(Check(f"gradient-{label}", partial(check_bound_gradient, name=name, params=params,
                                                              case=case), needs="autodiff"))
            if case.k is None:
                checks.append(Check(f"full-vs-pair-{label}", partial(check_full_matrix_agrees, name=name,
                                                                      params=params, case=case)))
    for dtype in RTOL:
        checks += [Check(f"ema-decay{d}-{dtype}", partial(check_ema, decay=d, dtype=dtype)) for d in EMA_DECAYS]
        checks += [Check(f"clipping-{c}-{dtype}", partial(check_clipping, case=c, dtype=dtype))
                   for c in clipping_cases(dtype)]
    checks += [Check(f"gaussian-{case.id}", partial(check_gaussian, case=case), needs="trains")
               for case in GAUSSIAN_CASES]
    checks += [Check(f"invariant-{label}", invariant) for label, invariant in INVARIANTS.items()]
    checks += [Check(f"small-data-n{n}", partial(check_small_data, n=n), needs="trains") for n in SMALL_DATA_SIZES]
    checks += [Check(f"finite-divergence-{label}", partial(check_finite_divergence_is_flagged, options=options,
                                                           must_diverge=must), needs="trains")
               for label, (options, must) in FINITE_DIVERGENCE.items()]
    checks += [Check("labels-ba", check_labels_ba, needs="trains"),
               Check("estimate-deterministic", check_estimate_is_deterministic, needs="trains"),
               Check("estimate-rejects-bad-input", check_estimate_rejects_bad_input, needs="trains")]
    checks += [Check(f"trust-{label}", check, needs="trains") for label, check in TRUST_CHECKS.items()]
    checks += [Check(f"reliability-{label}", check, needs="trains") for label, check in RELIABILITY_CHECKS.items()]
    checks += [Check(f"compression-{label}", check, needs="trains") for label, check in COMPRESSION_CHECKS.items()]
    checks += [Check(label, check, needs=needs) for label, (check, needs) in precision_checks(backend).items()]
    checks += [
        Check("api-import-is-framework-free", check_import_is_framework_free),
        Check("api-backend-of-arrays", check_backend_of_arrays),
        Check("api-bad-scores", check_bad_scores),
    ]
    adapter = mivb.get_backend(backend)
    capabilities = {"arrays", *adapter.capabilities}
    return [check for check in checks if check.needs in capabilities]
