"""The JAX adapter: bounds under jit, vmap and grad, the functional MIEstimator, clipping, Trainer.

Written for JAX's default 32-bit mode (what users have) and true under 64-bit mode as well.
"""

from dataclasses import replace

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from mivb_jax import MIEstimator, adaptive_clip_scale, build_critic, from_numpy
from mivb_jax._critics import conv_features, shifted
from mivb_jax._estimator import train_steps
from mivb_jax._trainer import resolve_device

import mivb
from mivb import reference
from mivb.critics import CriticConfig
from mivb.data import gaussian_images, rho_for_mi

RTOL_FLOAT32 = 1e-5


def approx32(expected):
    """Float32 agreement: relative, with float32 rounding of a sum of O(1) terms as the absolute floor."""
    return pytest.approx(expected, rel=RTOL_FLOAT32, abs=1e-6)


def assert_close32(got, want):
    want = np.asarray(want, np.float64)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-4, atol=1e-6 * max(1.0, np.abs(want).max()))


def batch(n=16, dim=3, rho=0.8, seed=0):
    x, z, _ = mivb.correlated_gaussians(n, dim, rho, seed=seed)
    return jnp.asarray(x), jnp.asarray(z)


def critic_matrix(estimator, params, x, z):
    """The full score matrix of ``params``' critic, whatever negatives the estimator samples."""
    return eqx.combine(params, estimator.static)(x, z)


def member_of(states, member):
    return jax.tree_util.tree_map(lambda leaf: leaf[member], states)


def full_scores(estimator, state, x, z):
    return np.asarray(critic_matrix(estimator, state.params, x, z), np.float64)


PARAMS = {"ba": {"entropy": 1.5}}  # the parameters of the bounds with one that has no default


def oracle(name, pos, neg):
    """The registry's float64 reference of bound ``name``: value, d_pos, d_neg (no baseline given)."""
    definition = mivb.BOUNDS[name]
    return definition.reference(pos, neg, definition.resolve_params(PARAMS.get(name, {})), {})[:3]


@pytest.mark.parametrize("name", sorted(mivb.BOUNDS))
def test_bounds_under_jit_match_the_reference_and_trace_once(name):
    traces = []

    @jax.jit
    def value_and_grads(pos, neg):
        traces.append(name)
        return jax.value_and_grad(lambda p, g: mivb.bound(name, p, g, **PARAMS.get(name, {})), argnums=(0, 1))(
            pos, neg)

    rng = np.random.default_rng(0)
    for _ in range(3):  # new values, same shapes: one trace
        pos, neg = (5.0 * rng.standard_normal(shape).astype(np.float32) for shape in ((8,), (8, 5)))
        value, grads = value_and_grads(jnp.asarray(pos), jnp.asarray(neg))
        expected, *gradients = oracle(name, pos, neg)
        assert value.dtype == jnp.float32
        assert float(value) == approx32(expected)
        for got, want in zip(grads, gradients):
            assert_close32(got, want)
    assert len(traces) == 1


@pytest.mark.parametrize("name", sorted(mivb.BOUNDS))
def test_bounds_under_vmap_match_the_reference_per_matrix(name):
    matrices = 4.0 * np.tanh(np.random.default_rng(1).standard_normal((5, 6, 6))).astype(np.float32)
    values = jax.jit(jax.vmap(lambda s: mivb.bound(name, s, **PARAMS.get(name, {}))))(jnp.asarray(matrices))
    grads = jax.vmap(jax.grad(lambda s: mivb.bound(name, s, **PARAMS.get(name, {}))))(jnp.asarray(matrices))
    for matrix, value, grad in zip(matrices, values, grads):
        expected, d_pos, d_neg = oracle(name, *reference.split(matrix))
        assert float(value) == approx32(expected)
        assert_close32(grad, reference.full_matrix_of(d_pos, d_neg))


def test_mine_with_a_moving_average_traces_once_for_any_log_ema():
    traces = []

    @jax.jit
    def grads(scores, log_ema):
        traces.append(1)
        return jax.grad(lambda s: mivb.bound("mine", s, log_ema=log_ema))(scores)

    matrix = np.random.default_rng(2).standard_normal((6, 6)).astype(np.float32)
    for log_ema in (0.5, -1.0):
        assert_close32(grads(jnp.asarray(matrix), jnp.float32(log_ema)),
                       reference.full_matrix_gradient("mine", matrix, log_ema))
    assert len(traces) == 1


@pytest.mark.parametrize("critic", ["separable", "bilinear", "joint", {"kind": "joint", "negative_samples": 3}])
def test_apply_and_update_under_jit_return_the_bound_of_the_critic_scores(critic):
    estimator = MIEstimator(3, 3, bound="infonce", critic=critic)
    state = estimator.init(jax.random.key(0))
    x, z = batch()
    mi, mi_for_grads = jax.jit(estimator.apply)(state, x, z)
    if estimator.config.negative_samples is None:
        assert float(mi) == approx32(reference.value("infonce", *reference.split(full_scores(estimator, state, x, z))))
    assert float(mi_for_grads) == float(mi)
    new_state, value = jax.jit(estimator.update)(state, x, z)
    assert float(value) == approx32(float(mi))  # the value before the step, on the same negatives as apply
    assert float(estimator.apply(new_state, x, z).mi) > float(mi)  # one Adam step up the bound
    assert jax.tree_util.tree_structure(new_state) == jax.tree_util.tree_structure(state)


def test_sampled_negatives_are_the_shifted_entries_of_the_full_matrix():
    estimator = MIEstimator(3, 3, critic={"kind": "joint", "negative_samples": 4})
    state = estimator.init(jax.random.key(1))
    x, z = batch(n=8)
    shifts = jnp.asarray([3, 1, 7, 5])
    scores = estimator.scores(state, x, z, shifts)
    pos, neg = scores.pos, scores.neg
    matrix = np.asarray(critic_matrix(estimator, state.params, x, z))
    rows = np.arange(8)[:, None]
    np.testing.assert_allclose(pos, np.diag(matrix), rtol=RTOL_FLOAT32, atol=1e-6)
    np.testing.assert_allclose(neg, matrix[rows, (rows + np.asarray(shifts)) % 8], rtol=RTOL_FLOAT32, atol=1e-6)
    np.testing.assert_array_equal(shifted(jnp.arange(8), shifts), (rows + np.asarray(shifts)) % 8)


def test_mine_ema_after_jitted_updates_follows_the_reference():
    estimator = MIEstimator(3, 3, bound="mine", ema_decay=0.9)
    state = estimator.init(jax.random.key(2))
    assert np.isnan(float(state.bound_state["log_ema"]))
    update = jax.jit(estimator.update)
    seen = []
    for step in range(5):
        x, z = batch(seed=step)
        seen.append(reference.split(full_scores(estimator, state, x, z))[1])
        state, _ = update(state, x, z)
        assert float(state.bound_state["log_ema"]) == approx32(reference.ema_after(seen, 0.9))


def test_mine_gradient_divides_by_the_moving_average_as_this_batch_would_update_it():
    estimator = MIEstimator(3, 3, bound="mine", ema_decay=0.5)
    state = estimator.init(jax.random.key(3))
    x0, z0 = batch(seed=0)
    first_neg = reference.split(full_scores(estimator, state, x0, z0))[1]
    state, _ = jax.jit(estimator.update)(state, x0, z0)
    x, z = batch(seed=1)
    matrix = full_scores(estimator, state, x, z)
    log_ema = reference.ema_after([first_neg, reference.split(matrix)[1]], 0.5)
    grads = jax.jit(jax.grad(lambda p: estimator.apply(state._replace(params=p), x, z).mi_for_grads))(state.params)
    chained = jnp.asarray(reference.full_matrix_gradient("mine", matrix, log_ema), jnp.float32)
    (expected,) = jax.jit(lambda p: jax.vjp(lambda q: critic_matrix(estimator, q, x, z), p)[1](chained))(state.params)
    for got, want in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(expected)):
        assert_close32(got, want)


def test_adaptive_clip_scale_of_two_gradient_pytrees_matches_the_reference():
    rng = np.random.default_rng(4)
    params = {"w": jnp.asarray(rng.standard_normal((3, 3)), jnp.float32), "b": jnp.zeros(3, jnp.float32)}
    estimator = MIEstimator(3, 3, bound="smile")
    state = estimator.init(jax.random.key(4))
    x, z = batch()

    def model(p):
        return x @ p["w"] + p["b"]

    grads_loss = jax.jit(jax.grad(lambda p: 1e-3 * jnp.mean(model(p) ** 2)))(params)
    grads_mi = jax.jit(jax.grad(lambda p: estimator.apply(state, model(p), z).mi_for_grads))(params)
    scale = jax.jit(adaptive_clip_scale)(grads_loss, grads_mi)
    leaves = [[np.asarray(g) for g in jax.tree_util.tree_leaves(grads)] for grads in (grads_loss, grads_mi)]
    assert float(scale) == approx32(reference.clip_scale(*leaves))
    assert float(scale) < 1.0
    no_gradient = jax.grad(lambda g: adaptive_clip_scale(grads_loss, g))(grads_mi)
    assert all(float(jnp.abs(g).max()) == 0.0 for g in jax.tree_util.tree_leaves(no_gradient))
    zeros = jax.tree_util.tree_map(jnp.zeros_like, grads_mi)
    assert float(adaptive_clip_scale(grads_loss, zeros)) == 1.0
    with pytest.raises(mivb.InvalidArgumentError, match="same parameters as grads_loss"):
        adaptive_clip_scale(grads_loss, [grads_mi["w"]])


def test_states_are_pytrees_vmap_over_an_ensemble_and_round_trip_through_numpy():
    estimator = MIEstimator(3, 3, bound="mine", critic="bilinear")
    states = jax.vmap(estimator.init)(jax.random.split(jax.random.PRNGKey(5), 3))
    x, z = batch()
    ensemble = jax.jit(jax.vmap(estimator.apply, in_axes=(0, None, None)))(states, x, z).mi
    for member in range(3):
        assert float(ensemble[member]) == approx32(float(estimator.apply(member_of(states, member), x, z).mi))
    state, update = member_of(states, 0), jax.jit(estimator.update)
    for step in range(3):
        state, _ = update(state, *batch(seed=step))
    leaves, treedef = jax.tree_util.tree_flatten(state)
    restored = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(np.asarray(leaf)) for leaf in leaves])
    after, value = update(state, x, z)
    after_restored, value_restored = update(restored, x, z)
    assert float(value_restored) == float(value)
    assert float(after_restored.bound_state["log_ema"]) == float(after.bound_state["log_ema"])


def test_same_key_same_training_and_another_key_another():
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.8, seed=0)
    estimator = MIEstimator(2, 2, bound="smile", critic={"kind": "joint", "negative_samples": 4}, lr=1e-3)
    runs = [estimator.fit(estimator.init(jax.random.key(seed)), x, z, steps=50, batch_size=64, seed=0)[1]
            for seed in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_fit_on_static_data_then_evaluate_on_new_data():
    x, z, true_mi = mivb.correlated_gaussians(6000, 2, 0.8, seed=0)
    estimator = MIEstimator(2, 2, bound="infonce", lr=5e-4)
    state, history = estimator.fit(estimator.init(jax.random.key(6)), x[:5000], z[:5000], steps=600, seed=0)
    assert history.shape == (600,)
    held_out = estimator.evaluate(state, x[5000:], z[5000:], batch_size=128)
    assert abs(held_out - true_mi) < 0.15


def test_estimate_on_correlated_gaussians_is_accurate_and_reproducible():
    x, z, true_mi = mivb.correlated_gaussians(4000, 2, 0.8, seed=1)
    runs = [mivb.estimate(x, z, backend="jax", bound="smile", steps=500, seed=seed) for seed in (3, 3, 4)]
    assert abs(runs[0].mi - true_mi) < 0.15, (runs[0].mi, true_mi)
    assert runs[0].mi == runs[1].mi
    np.testing.assert_array_equal(runs[0].history, runs[1].history)
    assert runs[2].mi != runs[0].mi


@pytest.mark.parametrize("name", ["club", "l1out", "tuba", "alpha"])
def test_the_upper_bounds_and_the_bounds_with_a_baseline_train_to_finite_values(name):
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.8, seed=0)
    result = mivb.estimate(x, z, backend="jax", bound=name, steps=100, batch_size=64, seed=0)
    assert np.isfinite(result.mi) and np.all(np.isfinite(result.history)), result
    estimator = MIEstimator(2, 2, bound=name)
    assert estimator.config.kind == ("conditional" if name in ("club", "l1out") else "separable")
    assert (estimator.init(jax.random.key(0)).params.baseline is not None) == (name in ("tuba", "alpha"))


def test_l1out_reads_close_to_the_truth():
    # Measured at 300 steps over seeds 0-7, in torch, JAX and TensorFlow alike: -0.10 to +0.10 nats off.
    x, z, true_mi = mivb.correlated_gaussians(4000, 2, rho_for_mi(2, 1.0), seed=1)
    result = mivb.estimate(x, z, backend="jax", bound="l1out", steps=300, seed=0)
    assert abs(result.mi - true_mi) < 0.3, (result.mi, true_mi)


def test_club_reads_what_the_true_conditional_gives_above_the_mi():
    # CLUB with the exact q(z | x) of Gaussians with per-dimension correlation rho: d rho^2 / (1 - rho^2),
    # 2.46 nats at I = 1, d = 5. Measured at 600 steps over seeds 0-7: torch -0.12 to +0.13 off, JAX -0.05
    # to +0.16, TensorFlow 0.00 to +0.16 (at I = 2 the same runs scatter three times as far).
    rho = rho_for_mi(5, 1.0)
    x, z, true_mi = mivb.correlated_gaussians(10000, 5, rho, seed=1)
    result = mivb.estimate(x, z, backend="jax", bound="club", steps=600, seed=0)
    assert abs(result.mi - 5 * rho**2 / (1 - rho**2)) < 0.25 and result.mi > true_mi + 1.0, result


def test_the_conditional_critic_scores_gaussian_log_densities_and_selection_reads_their_likelihood():
    estimator = MIEstimator(2, 2, bound="club", critic={"kind": "conditional", "hidden": (8,)})
    state = estimator.init(jax.random.key(0))
    x, z = batch(n=6, dim=2)
    critic = eqx.combine(state.params, estimator.static)
    mean, raw = np.split(np.asarray(jax.vmap(critic.f)(x), np.float64), 2, axis=1)
    log_variance = 10.0 * np.tanh(raw / 10.0)  # softly limited to [-10, 10]
    z64 = np.asarray(z, np.float64)
    expected = -0.5 * ((z64[:, None, :] - mean[None]) ** 2 / np.exp(log_variance)[None] + log_variance[None]
                       + np.log(2 * np.pi)).sum(-1)  # [i, j] = log q(z_i | x_j)
    assert_close32(critic(x, z), expected)
    shifts = jnp.asarray([1, 4])
    pos, neg = critic.sampled(x, z, shifts)
    rows = np.arange(6)[:, None]
    assert_close32(pos, np.diag(expected))
    assert_close32(neg, expected[rows, (rows + np.asarray(shifts)) % 6])
    batches = jnp.arange(6)[None]
    assert float(estimator.batch_values(state, x, z, batches, selection=True)[0]) == approx32(np.diag(expected).mean())
    assert float(estimator.batch_values(state, x, z, batches)[0]) == approx32(np.diag(expected).mean() - np.mean(
        expected[~np.eye(6, dtype=bool)]))


def test_a_baseline_network_gives_one_log_baseline_per_row_and_leaves_the_critic_as_drawn():
    config = CriticConfig(kind="joint", hidden=(8,))
    plain, with_baseline = (build_critic((2,), (3,), config, jax.random.key(0), baseline=b) for b in (False, True))
    x, z = jnp.ones((5, 2)), jnp.ones((5, 3))
    assert plain.baseline is None and plain.row_baseline(x, z) is None
    np.testing.assert_array_equal(plain(x, z), with_baseline(x, z))  # the baseline draws from a key of its own
    assert with_baseline.row_baseline(x, z).shape == (5,)
    estimator = MIEstimator(2, 3, bound="alpha", critic=config)
    assert estimator.scores(estimator.init(jax.random.key(0)), x, z).baseline.shape == (5,)


def test_trainer_compiles_one_scan_per_chunk_length(monkeypatch):
    traces = []

    class CountingEstimator(MIEstimator):
        def update(self, *args):
            traces.append(1)
            return super().update(*args)

    monkeypatch.setattr("mivb_jax._trainer.MIEstimator", CountingEstimator)
    x, z, _ = mivb.correlated_gaussians(600, 2, 0.5, seed=2)
    result = mivb.estimate(x, z, backend="jax", bound="mine", steps=250, batch_size=32, seed=0)
    assert len(result.history) == 250
    assert len(traces) == 2  # chunks of 100, 100 and 50 steps: two scan lengths, two traces
    mivb.estimate(x, z, backend="jax", bound="mine", steps=250, batch_size=32, seed=1)
    assert len(traces) == 2  # the same settings again: compiled code is reused


def test_chunks_of_one_length_compile_the_training_loop_once():
    """The first state is committed to its device, as the compiled steps return theirs: an uncommitted
    one made the second chunk compile the loop again (1.3 s for the conv critic on 2 cores)."""
    x, z, _ = mivb.correlated_gaussians(600, 2, 0.5, seed=2)
    compiled = train_steps._cache_size()
    # A learning rate no other test uses: equal settings would share compiled code.
    result = mivb.estimate(x, z, backend="jax", bound="mine", steps=300, batch_size=32, learning_rate=3.21e-4,
                           early_stopping=False, seed=0)
    assert len(result.history) == 300  # three chunks of 100 steps
    assert train_steps._cache_size() == compiled + 1


def test_train_steps_is_the_same_as_updating_step_by_step():
    estimator = MIEstimator(2, 2, bound="mine", critic={"kind": "separable", "negative_samples": 3})
    state = estimator.init(jax.random.key(9))
    x, z, _ = mivb.correlated_gaussians(64, 2, 0.8, seed=3)
    x, z = jnp.asarray(x), jnp.asarray(z)
    rng = np.random.default_rng(0)
    batches = jnp.asarray(np.stack([rng.permutation(64)[:16] for _ in range(4)]))
    shifts = jnp.asarray(np.stack([rng.permutation(np.arange(1, 16))[:3] for _ in range(4)]))
    scanned, values = train_steps(estimator, state, x, z, batches, shifts)
    update = jax.jit(estimator.update)
    for step in range(4):
        state, value = update(state, x[batches[step]], z[batches[step]], shifts[step])
        assert float(values[step]) == approx32(float(value))
    assert float(scanned.bound_state["log_ema"]) == approx32(float(state.bound_state["log_ema"]))


def test_devices_are_resolved_or_refused_clearly():
    assert resolve_device(None).platform == "cpu" and resolve_device("cpu").platform == "cpu"
    with pytest.raises(mivb.InvalidArgumentError, match="received device='tpu'"):
        resolve_device("tpu")
    with pytest.raises(mivb.InvalidArgumentError, match="received device='cpu:9'"):
        resolve_device("cpu:9")
    gpus = [device for device in jax.devices() if device.platform == "gpu"]
    if gpus:
        assert resolve_device("cuda") == gpus[0]
    else:
        with pytest.raises(mivb.InvalidArgumentError, match="JAX sees no GPU"):
            mivb.estimate(*mivb.correlated_gaussians(100, 1, 0.5)[:2], backend="jax", device="cuda", batch_size=8)


def test_float64_needs_jax_64_bit_mode_and_is_never_rounded_silently():
    scores = np.eye(3)
    if jax.config.jax_enable_x64:
        assert from_numpy(scores).dtype == jnp.float64
    else:
        with pytest.raises(mivb.InvalidTypeError, match="jax_enable_x64"):
            from_numpy(scores)
    assert from_numpy(scores.astype(np.float32)).dtype == jnp.float32


def test_bad_arguments_are_clear_errors():
    estimator = MIEstimator(3, 3)
    state = estimator.init(jax.random.key(0))
    with pytest.raises(mivb.InvalidArgumentError, match="same N"):
        estimator.apply(state, jnp.zeros((4, 3)), jnp.zeros((5, 3)))
    with pytest.raises(mivb.InvalidArgumentError, match="N >= 2"):
        estimator.apply(state, jnp.zeros((1, 3)), jnp.zeros((1, 3)))
    with pytest.raises(mivb.InvalidArgumentError, match="received dim_x=0"):
        MIEstimator(0, 3)
    with pytest.raises(mivb.InvalidArgumentError, match="received ema_decay=0"):
        MIEstimator(3, 3, ema_decay=0)
    with pytest.raises(mivb.InvalidArgumentError, match="received lr=-1"):
        MIEstimator(3, 3, lr=-1)
    sampled = MIEstimator(3, 3, critic={"kind": "joint", "negative_samples": 8})
    with pytest.raises(mivb.InvalidArgumentError, match="received negative_samples=8"):
        sampled.apply(sampled.init(jax.random.key(0)), jnp.zeros((4, 3)), jnp.zeros((4, 3)))


def test_critics_match_the_configuration():
    config = CriticConfig(kind="bilinear", hidden=(8, 4), activation="gelu", embedding=5)
    critic = build_critic((2,), (3,), config, jax.random.key(0))
    assert critic(jnp.ones((6, 2)), jnp.ones((7, 3))).shape == (6, 7)
    widths = [leaf.shape for leaf in jax.tree_util.tree_leaves(eqx.filter(critic.f, eqx.is_array)) if leaf.ndim == 2]
    assert widths == [(8, 2), (4, 8), (5, 4)]
    np.testing.assert_array_equal(critic.w, np.eye(5))
    bound = 1.0 / np.sqrt(2)  # torch.nn.Linear's initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    first_weight = next(leaf for leaf in jax.tree_util.tree_leaves(critic.f) if getattr(leaf, "ndim", 0) == 2)
    assert float(jnp.abs(first_weight).max()) <= bound


def test_conv_critic_on_channels_last_images_estimates_their_mi():
    x, z, true_mi = gaussian_images(3000, 3, rho_for_mi(3, 1.0), size=12, channels_last=True, seed=0)
    critic = {"kind": "conv", "channels": (8, 16), "hidden": (64,), "embedding": 16}
    result = mivb.estimate(x, z, backend="jax", critic=critic, steps=400, batch_size=64, seed=0)
    assert abs(result.mi - true_mi) < 0.3, result


def test_conv_encoder_shapes_follow_the_torch_layers():
    config = CriticConfig(encoder="conv", channels=(4, 8), hidden=(16,), embedding=5)
    critic = build_critic((12, 12, 1), (7, 5, 3), config, jax.random.key(0))
    fx, gz = critic.features(jnp.ones((2, 12, 12, 1)), jnp.ones((2, 7, 5, 3)))
    assert fx.shape == gz.shape == (2, 5)
    kernels = [leaf.shape for leaf in jax.tree_util.tree_leaves(eqx.filter(critic.g, eqx.is_array)) if leaf.ndim == 4]
    assert kernels == [(4, 3, 3, 3), (8, 4, 3, 3)]  # (out, in, 3, 3), stride 2: 7x5 -> 4x3 -> 2x2
    first_dense = next(leaf for leaf in jax.tree_util.tree_leaves(eqx.filter(critic.g, eqx.is_array)) if leaf.ndim == 2)
    assert first_dense.shape == (16, 8 * 2 * 2)
    joint = build_critic((12, 12, 1), (4,), replace(config, kind="joint", encoder="auto"), jax.random.key(0))
    x, z = jnp.ones((6, 12, 12, 1)), jnp.ones((6, 4))
    assert joint(x, z).shape == (6, 6)
    assert [a.shape for a in joint.sampled(x, z, jnp.asarray([1, 2]))] == [(6,), (6, 2)]
    with pytest.raises(mivb.InvalidArgumentError, match="for a conv encoder"):
        build_critic((3,), (3,), config, jax.random.key(0))


@pytest.mark.parametrize("shape", [(12, 12, 1), (7, 5, 3)])
def test_conv_features_equal_lax_convolutions_in_torch_layout(shape):
    """The patches-times-kernel convolutions (fast inside the compiled training loop) compute what
    ``lax.conv`` computes on (N, C, H, W) images, torch's layout, flattened in its (C, H, W) order."""
    config = CriticConfig(encoder="conv", channels=(4, 8))
    stack, width = conv_features(shape, config, jax.random.key(3))
    images = jax.random.normal(jax.random.key(4), (6, *shape))
    convolutions = [layer.conv for layer in stack.layers if hasattr(layer, "conv")]
    expected = jnp.moveaxis(images, -1, 1)
    for conv in convolutions:
        expected = jax.nn.relu(jax.lax.conv_general_dilated(expected, conv.weight, (2, 2), ((1, 1), (1, 1)),
                                                            precision="highest") + conv.bias)
    expected = expected.reshape(len(images), -1)
    assert [conv.weight.shape[:2] for conv in convolutions] == [(4, shape[-1]), (8, 4)]
    assert expected.shape == (6, width)
    np.testing.assert_allclose(jax.vmap(stack)(images), expected, rtol=1e-5, atol=1e-5)


def test_a_saved_state_loads_without_pickle_and_trains_on_identically(tmp_path):
    from mivb_jax import load_state, save_state

    estimator = MIEstimator(3, 3, bound="mine", critic={"kind": "joint", "negative_samples": 4})
    state = estimator.init(jax.random.key(3))
    for step in range(3):
        state, _ = estimator.update(state, *batch(seed=step))
    save_state(tmp_path / "critic.npz", state, estimator)
    restored = load_state(tmp_path / "critic.npz", estimator)
    x, z = batch(seed=7)
    assert float(estimator.apply(restored, x, z).mi) == float(estimator.apply(state, x, z).mi)
    after, value = estimator.update(state, x, z)
    after_restored, value_restored = estimator.update(restored, x, z)
    assert float(value_restored) == float(value) and float(after_restored.bound_state["log_ema"]) == float(after.bound_state["log_ema"])
    with pytest.raises(mivb.InvalidArgumentError, match="an estimator with critic="):
        load_state(tmp_path / "critic.npz", MIEstimator(3, 3, critic="separable"))


def saved_state(tmp_path, **kwargs):
    """A trained state saved to an .npz file, its estimator and the file's path."""
    from mivb_jax import save_state

    estimator = MIEstimator(3, 3, **kwargs)
    state, _ = estimator.update(estimator.init(jax.random.key(1)), *batch())
    save_state(tmp_path / "state.npz", state, estimator)
    return estimator, state, tmp_path / "state.npz"


@pytest.mark.parametrize("other, difference", [
    ({"dim_x": 4}, "shapes="),
    ({"critic": {"hidden": (32, 32)}}, "critic="),
    ({"critic": {"activation": "tanh"}}, "critic="),
    ({"bound": "infonce"}, "bound="),
    ({"bound": "smile", "clip": 2.0}, "bound="),
    ({"lr": 1e-3}, "learning_rate="),
])
def test_a_state_of_another_estimator_does_not_load(tmp_path, other, difference):
    from mivb_jax import load_state

    _, _, path = saved_state(tmp_path, critic={"hidden": (16,)})
    kwargs = {"dim_x": 3, "dim_z": 3, "critic": {"hidden": (16,)}, **other}
    with pytest.raises(mivb.InvalidArgumentError, match=f"path: expected a state saved by an estimator with {difference}"):
        load_state(path, MIEstimator(**kwargs))
    assert load_state(path, MIEstimator(3, 3, critic={"hidden": (16,)}, seed=7)) is not None  # the seed may differ


def test_a_state_with_arrays_of_another_shape_or_dtype_does_not_load(tmp_path):
    from mivb_jax import load_state, save_state

    estimator, state, path = saved_state(tmp_path, critic={"hidden": (8,)})
    with np.load(path) as stored:
        members = dict(stored)
    for name, change in [("arr_0", lambda a: a.astype(np.float16)), ("arr_1", lambda a: a[:-1])]:
        np.savez(tmp_path / "edited.npz", **{**members, name: change(members[name])})
        with pytest.raises(mivb.InvalidArgumentError, match=r"path: expected .* of shape .* and dtype .*, received "
                           r"path=.*edited\.npz' whose .* has shape (\(7.*|.*dtype float16)$"):
            load_state(tmp_path / "edited.npz", estimator)
    with pytest.raises(mivb.InvalidArgumentError, match="dtype float16"):
        save_state(tmp_path / "half.npz", state._replace(params=jax.tree.map(lambda a: a.astype(jnp.float16),
                                                                              state.params)), estimator)
    with pytest.raises(mivb.InvalidTypeError, match="received estimator="):
        save_state(tmp_path / "x.npz", state, state)
    with pytest.raises(mivb.InvalidTypeError, match="received estimator="):
        load_state(path, state)  # the call of older versions: a state, not its estimator


def test_a_missing_truncated_or_foreign_file_is_a_clear_error(tmp_path):
    from mivb_jax import load_state

    estimator, _, path = saved_state(tmp_path)
    data = path.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.npz").write_text("not an archive")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with np.load(path) as stored:
        members = dict(stored)
    np.savez(tmp_path / "no_identity.npz", **{k: v for k, v in members.items() if k != "identity"})
    np.savez(tmp_path / "no_array.npz", **{k: v for k, v in members.items() if k != "arr_2"})
    np.savez(tmp_path / "bad_identity.npz", **{**members, "identity": np.asarray("{not json")})
    cases = {"missing.npz": "no such file", "truncated.npz": "BadZipFile", "text.npz": "ValueError",
             "single.npy": "a single array", "no_identity.npz": "'identity' is missing",
             "no_array.npz": "arrays for this estimator", "bad_identity.npz": "a state saved by a mivb estimator"}
    for name, reason in cases.items():
        with pytest.raises(mivb.InvalidArgumentError, match="^path: expected") as raised:
            load_state(tmp_path / name, estimator)
        assert reason in str(raised.value) and (name in str(raised.value) or name == "bad_identity.npz"), raised.value


def test_the_estimator_estimate_returns_saves_loads_and_scores_new_pairs(tmp_path):
    from mivb_jax import Trained, load_state, save_state

    x, z, _ = mivb.correlated_gaussians(2000, 2, 0.6, seed=0)
    result = mivb.estimate(x, z, backend="jax", bound="nwj", steps=300, seed=0, progress=False)
    assert isinstance(result.estimator, Trained)
    estimator, state = result.estimator
    save_state(tmp_path / "critic.npz", state, estimator)
    restored = load_state(tmp_path / "critic.npz", MIEstimator(2, 2, **result.config.spec.to_kwargs()))
    new_x, new_z, _ = mivb.correlated_gaussians(500, 2, 0.6, seed=1)
    xs, zs = result.prepare_new(new_x, new_z)
    ratios = result.pointwise(new_x, new_z)
    np.testing.assert_array_equal(estimator.pointwise(restored, xs, zs), ratios)
    critic = eqx.combine(restored.params, estimator.static)  # nwj's optimal critic is 1 + log r
    np.testing.assert_allclose(ratios, np.diag(np.asarray(critic(xs, zs), np.float64)) - 1.0, rtol=1e-6)


def test_a_generator_of_jax_batches_streams_held_out_pairs_first():
    x, z, truth = mivb.correlated_gaussians(12_000, 2, 0.6, seed=0)
    batches = ((jnp.asarray(x[i:i + 100]), jnp.asarray(z[i:i + 100])) for i in range(0, 12_000, 100))
    with pytest.warns(UserWarning, match="seeing each of the 5856 training pairs once"):
        result = mivb.estimate(batches, seed=0, progress=False)  # no length: 4096 + 2048 pairs held out
    assert result.backend == "jax" and abs(result.mi - truth) < 0.08
