"""The PyTorch estimator object: MI in a training loop, MINE's EMA, clipping, persistence."""

import io
import math

import numpy as np
import pytest
import torch
from mivb_torch import MIEstimator, adaptive_clip_scale

import mivb
from mivb import reference


def batch(n=16, dim=3, rho=0.8, seed=0, dtype=torch.float64):
    x, z, _ = mivb.correlated_gaussians(n, dim, rho, seed=seed)
    return torch.as_tensor(x, dtype=dtype), torch.as_tensor(z, dtype=dtype)


@pytest.mark.parametrize("critic", ["separable", "bilinear", "joint", {"kind": "joint", "negative_samples": 3}])
def test_call_returns_the_bound_of_the_critic_scores(critic):
    torch.manual_seed(0)
    estimator = MIEstimator(3, 3, bound="infonce", critic=critic).double()
    x, z = batch()
    mi, mi_for_grads = estimator(x, z)
    if estimator.config.negative_samples is None:
        expected = reference.value("infonce", *reference.split(estimator.critic(x, z).detach().numpy()))
        assert float(mi) == pytest.approx(expected, rel=1e-12)
    assert mi.requires_grad is False and mi_for_grads.requires_grad
    assert float(mi_for_grads.detach()) == float(mi)


def test_mine_ema_follows_the_reference_over_updates_and_evaluation_leaves_it():
    torch.manual_seed(1)
    estimator = MIEstimator(3, 3, bound="mine", ema_decay=0.9).double()
    seen = []
    for step in range(5):
        x, z = batch(seed=step)
        seen.append(reference.split(estimator.critic(x, z).detach().numpy())[1])
        estimator.update(x, z)
        assert float(estimator.log_ema) == pytest.approx(reference.ema_after(seen, 0.9), rel=1e-12)
    before = float(estimator.log_ema)
    estimator(*batch(seed=9))
    estimator.evaluate(*batch(n=64, seed=10), batch_size=16)
    assert float(estimator.log_ema) == before


def test_mine_gradient_divides_by_the_moving_average():
    torch.manual_seed(2)
    estimator = MIEstimator(3, 3, bound="mine", ema_decay=0.5).double()
    x0, z0 = batch(seed=0)
    first_neg = reference.split(estimator.critic(x0, z0).detach().numpy())[1]
    estimator.update(x0, z0)
    x, z = batch(seed=1)
    scores = estimator.critic(x, z)
    matrix = scores.detach().numpy()
    log_ema = reference.ema_after([first_neg, reference.split(matrix)[1]], 0.5)  # as this batch would update it
    _, mi_for_grads, _ = estimator.objective(x, z)
    params = list(estimator.critic.parameters())
    grads = torch.autograd.grad(mi_for_grads, params)
    chained = torch.as_tensor(reference.full_matrix_gradient("mine", matrix, log_ema))
    expected = torch.autograd.grad(scores, params, chained)
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


def test_adaptive_clip_scale_matches_the_reference():
    torch.manual_seed(3)
    model = torch.nn.Linear(3, 3).double()
    estimator = MIEstimator(3, 3, bound="smile").double()
    x, z = batch()
    out = model(x)
    loss = 1e-3 * (out ** 2).mean()
    _, mi = estimator(out, z)
    params = list(model.parameters())
    scale = adaptive_clip_scale(loss, mi, params)
    g_loss = [g.numpy() for g in torch.autograd.grad(loss, params, retain_graph=True)]
    g_mi = [g.numpy() for g in torch.autograd.grad(mi, params, retain_graph=True)]
    assert float(scale) == pytest.approx(reference.clip_scale(g_loss, g_mi), rel=1e-12)
    assert float(scale) < 1.0 and not scale.requires_grad
    unrelated = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    assert float(adaptive_clip_scale(loss, mi, [unrelated])) == 1.0


def test_state_dict_round_trip_keeps_critic_ema_and_optimizer():
    torch.manual_seed(4)
    estimator = MIEstimator(3, 3, bound="mine", critic="bilinear")
    x, z = batch(dtype=torch.float32)
    for _ in range(3):
        estimator.update(x, z)
    buffer = io.BytesIO()
    torch.save(estimator.state_dict(), buffer)
    buffer.seek(0)
    restored = MIEstimator(3, 3, bound="mine", critic="bilinear")
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert float(restored.log_ema) == float(estimator.log_ema)
    torch.testing.assert_close(restored.critic(x, z), estimator.critic(x, z))
    assert restored.update(x, z) == estimator.update(x, z)
    torch.testing.assert_close(restored.critic(x, z), estimator.critic(x, z))
    other = MIEstimator(3, 3, bound="mine", critic="separable")
    with pytest.raises(mivb.InvalidArgumentError, match=r"state_dict: expected a state saved by an estimator with "
                                                        r"critic=\{'kind': 'separable'.*received critic=\{'kind': 'bilinear'"):
        other.load_state_dict(estimator.state_dict(), strict=False)
    assert torch.isnan(other.log_ema)  # nothing was loaded: no half-loaded estimator


def test_fit_on_static_data_then_evaluate_on_new_data():
    torch.manual_seed(5)
    x, z, true_mi = mivb.correlated_gaussians(6000, 2, 0.8, seed=0)
    estimator = MIEstimator(2, 2, bound="infonce", lr=5e-4)
    history = estimator.fit(x[:5000], z[:5000], steps=600, batch_size=128, seed=0)
    assert history.shape == (600,)
    held_out = estimator.evaluate(x[5000:], z[5000:], batch_size=128)
    assert abs(held_out - true_mi) < 0.15


def test_bad_batches_are_clear_errors():
    estimator = MIEstimator(3, 3)
    with pytest.raises(mivb.InvalidArgumentError, match="same N"):
        estimator(torch.zeros(4, 3), torch.zeros(5, 3))
    with pytest.raises(mivb.InvalidArgumentError, match="N >= 2"):
        estimator(torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(mivb.InvalidArgumentError, match="received dim_x=0"):
        MIEstimator(0, 3)
    with pytest.raises(mivb.InvalidArgumentError, match="received ema_decay=0"):
        MIEstimator(3, 3, ema_decay=0)
    sampled = MIEstimator(3, 3, critic={"kind": "joint", "negative_samples": 8})
    with pytest.raises(mivb.InvalidArgumentError, match="received negative_samples=8"):
        sampled(torch.zeros(4, 3), torch.zeros(4, 3))


def test_bound_accepts_a_plain_number_as_the_moving_average():
    scores = torch.tensor(np.random.default_rng(0).normal(size=(5, 5)), requires_grad=True)
    value = mivb.bound("mine", scores, log_ema=0.7)
    value.backward()
    expected = reference.full_matrix_gradient("mine", scores.detach().numpy(), 0.7)
    np.testing.assert_allclose(scores.grad.numpy(), expected, rtol=1e-10, atol=1e-14)


def test_estimator_arguments_are_checked_like_estimate():
    with pytest.raises(mivb.InvalidArgumentError, match="received lr=nan"):
        MIEstimator(2, 2, lr=float("nan"))
    with pytest.raises(mivb.InvalidArgumentError, match="received lr=-1"):
        MIEstimator(2, 2, lr=-1)
    with pytest.raises(mivb.InvalidArgumentError, match="received seed=-3"):
        MIEstimator(2, 2, seed=-3)
    estimator = MIEstimator(2, 2, bound="infonce", seed=0)
    x, z, _ = mivb.correlated_gaussians(200, 2, 0.5, seed=0)
    with pytest.raises(mivb.InvalidArgumentError, match="received steps=0"):
        estimator.fit(x, z, steps=0)
    with pytest.raises(mivb.InvalidArgumentError, match="received log_ema='x'"):
        mivb.bound("mine", torch.eye(3), log_ema="x")


def test_seeded_estimators_are_equal_and_leave_the_global_generator_alone():
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    first, second = (MIEstimator(3, 2, bound="infonce", critic="joint", seed=5) for _ in range(2))
    assert torch.equal(torch.random.get_rng_state(), before)
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_scores_reduce_in_float32_without_overflow(dtype):
    scores = (torch.randn(16, 16, generator=torch.Generator().manual_seed(0)) * 20).clamp(-60, 60).to(dtype)
    for name in mivb.BOUNDS:
        params = {"entropy": 1.0} if name == "ba" else {}  # ba needs H(Z)
        value = mivb.bound(name, scores, **params)
        definition = mivb.BOUNDS[name]
        expected = definition.reference(*reference.split(scores.double().numpy()), definition.resolve_params(params),
                                        {})[0]
        assert value.dtype == torch.float32 and torch.isfinite(value), name
        assert float(value) == pytest.approx(expected, rel=1e-5), name


def test_the_estimator_estimate_returns_saves_loads_and_scores_new_pairs(tmp_path):
    x, z, _ = mivb.correlated_gaussians(2000, 2, 0.6, seed=0)
    result = mivb.estimate(x, z, bound="infonce", backend="torch", steps=300, seed=0, progress=False)
    assert isinstance(result.estimator, MIEstimator)
    torch.save(result.estimator.state_dict(), tmp_path / "critic.pt")
    restored = MIEstimator(2, 2, **result.config.spec.to_kwargs())
    restored.load_state_dict(torch.load(tmp_path / "critic.pt", weights_only=True))
    new_x, new_z, _ = mivb.correlated_gaussians(500, 2, 0.6, seed=1)
    xs, zs = result.prepare_new(new_x, new_z)
    ratios = result.pointwise(new_x, new_z)
    np.testing.assert_array_equal(restored.pointwise(xs, zs), ratios)
    with torch.no_grad():  # infonce's rule: each row's score less the log-mean of its row's other scores
        scores = restored.critic(torch.as_tensor(xs), torch.as_tensor(zs)).double().numpy()
    off_diagonal = scores[~np.eye(500, dtype=bool)].reshape(500, 499)
    np.testing.assert_allclose(ratios, np.diag(scores) - reference.logsumexp(off_diagonal, axis=1) + math.log(499),
                               rtol=1e-6, atol=1e-6)


def test_a_data_loader_streams_held_out_pairs_first_then_trains_on_the_rest():
    x, z, truth = mivb.correlated_gaussians(12_000, 2, 0.6, seed=0)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(z)),
                                         batch_size=100)  # 120 batches: 20% test, 10% validation
    with pytest.warns(UserWarning, match="the stream ran dry after 12000 pairs"):
        result = mivb.estimate(loader, seed=0, progress=False)
    assert abs(result.mi - truth) < 0.08 and result.stopped_early
    assert result.stop_reason == f"the stream ran dry at step {len(result.history)} (best at {result.best_step})"
    assert len(result.history) <= (12_000 - 2400 - 1200) // 128
    # The test split is the stream's first 2400 pairs: the same critic scores them from the arrays.
    held = result.estimator.evaluate(*result.prepare_new(x[:2400], z[:2400]), batch_size=128)
    assert abs(held - result.mi) < 0.05


@pytest.mark.parametrize(("stream", "options", "message"), [
    (lambda x, z: iter([(x, z, z)]), {}, "x: expected an iterable of (x, z) pairs of batches"),
    (lambda x, z: iter([(x[:50], z[:50])]), {}, "x: expected a stream of more than 6144 pairs"),
    (lambda x, z: iter([]), {}, "x: expected an iterable of (x, z) batches with at least one batch"),
    (lambda x, z: iter([(x, z)]), {"folds": 3}, "folds: expected None for a stream of batches"),
    (lambda x, z: iter([(x, z[:10])]), {}, "z: expected as many samples as x (n=300)"),
    (lambda x, z: x, {}, "z: expected samples paired with x"),
])
def test_a_stream_that_cannot_be_read_is_an_error(stream, options, message):
    x, z, _ = mivb.correlated_gaussians(300, 2, 0.6, seed=0)
    with pytest.raises(mivb.MivbError) as error:
        mivb.estimate(stream(x, z), backend="torch", progress=False, **options)
    assert str(error.value).startswith(message), error.value
