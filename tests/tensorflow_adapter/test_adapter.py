"""The TensorFlow adapter: bounds in tf.function and XLA, the Keras critics, MIEstimator, Trainer, import hygiene."""

import json
import os
import subprocess
import sys

import mivb_tensorflow
import numpy as np
import pytest
import tensorflow as tf
from mivb_tensorflow import MIEstimator, adaptive_clip_scale, build_critic
from mivb_tensorflow._critics import shifted

import mivb
from mivb import reference
from mivb.critics import CriticConfig

RTOL_FLOAT32 = 1e-5


def approx32(expected):
    """Float32 agreement: relative, with float32 rounding of a sum of O(1) terms as the absolute floor."""
    return pytest.approx(expected, rel=RTOL_FLOAT32, abs=1e-6)


def batch(n=16, dim=3, rho=0.8, seed=0):
    x, z, _ = mivb.correlated_gaussians(n, dim, rho, seed=seed)
    return tf.constant(x, tf.float32), tf.constant(z, tf.float32)


def full_scores(estimator, x, z):
    return estimator.critic(x, z).numpy().astype(np.float64)


PARAMS = {"ba": {"entropy": 1.5}}  # the parameters of the bounds with one that has no default


def oracle(name, pos, neg):
    """The registry's float64 reference of bound ``name``: value, d_pos, d_neg (no baseline given)."""
    definition = mivb.BOUNDS[name]
    return definition.reference(pos, neg, definition.resolve_params(PARAMS.get(name, {})), {})[:3]


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("name", sorted(mivb.BOUNDS))
def test_bounds_in_tf_function_and_xla_match_the_reference_without_retracing(name, jit_compile):
    @tf.function(jit_compile=jit_compile)
    def value_and_grads(pos, neg):
        with tf.GradientTape() as tape:
            tape.watch([pos, neg])
            value = mivb.bound(name, pos, neg, **PARAMS.get(name, {}))
        return value, tape.gradient(value, [pos, neg], unconnected_gradients=tf.UnconnectedGradients.ZERO)

    rng = np.random.default_rng(0)
    for _ in range(3):  # new values, same shapes: one trace
        pos, neg = (5.0 * rng.standard_normal(shape).astype(np.float32) for shape in ((8,), (8, 5)))
        value, grads = value_and_grads(tf.constant(pos), tf.constant(neg))
        expected, *gradients = oracle(name, pos, neg)
        assert value.dtype == tf.float32
        np.testing.assert_allclose(value.numpy(), expected, rtol=RTOL_FLOAT32, atol=1e-5)
        for got, want in zip(grads, gradients):
            np.testing.assert_allclose(got.numpy(), want, rtol=RTOL_FLOAT32, atol=1e-6)
    assert value_and_grads.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("kind", ["joint", "separable", "bilinear", "conditional", "classifier"])
def test_sampled_negatives_are_the_shifted_entries_of_the_full_matrix(kind):
    critic = build_critic((2,), (3,), CriticConfig(kind=kind, hidden=(8,), embedding=4), seed=0)
    x, z = tf.random.stateless_normal((6, 2), (1, 2)), tf.random.stateless_normal((6, 3), (3, 4))
    matrix = critic(x, z).numpy()
    shifts = tf.constant([1, 4, 5])
    pos, neg = critic.sampled(x, z, shifts)
    rows = np.arange(6)
    np.testing.assert_allclose(pos.numpy(), matrix[rows, rows], rtol=1e-6, atol=1e-6)
    expected = np.stack([matrix[rows, (rows + s) % 6] for s in shifts.numpy()], axis=1)
    np.testing.assert_allclose(neg.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert shifted(z, shifts).shape == (6, 3, 3)


@pytest.mark.parametrize("critic", ["separable", "bilinear", "joint", {"kind": "joint", "negative_samples": 3}])
def test_call_returns_the_bound_of_the_critic_scores(critic):
    estimator = MIEstimator(3, 3, bound="infonce", critic=critic, seed=0)
    x, z = batch()
    mi, mi_for_grads = estimator(x, z)
    if estimator.config.negative_samples is None:
        expected = reference.value("infonce", *reference.split(full_scores(estimator, x, z)))
        assert float(mi) == approx32(expected)
    assert float(mi_for_grads) == float(mi)
    with tf.GradientTape() as tape:
        tape.watch(x)
        mi, mi_for_grads = estimator(x, z)
    assert tape.gradient(mi_for_grads, x) is not None
    with tf.GradientTape() as tape:
        tape.watch(x)
        mi, _ = estimator(x, z)
    assert tape.gradient(mi, x) is None


def test_call_and_update_in_tf_function_follow_the_reference_ema_without_retracing():
    estimator = MIEstimator(3, 3, bound="mine", ema_decay=0.9, seed=1)

    @tf.function
    def step(x, z):
        mi, _ = estimator(x, z)
        return mi, estimator.update(x, z)

    seen = []
    for seed in range(5):
        x, z = batch(seed=seed)
        seen.append(reference.split(full_scores(estimator, x, z))[1])
        mi, value = step(x, z)
        assert float(mi) == float(value)  # both read the critic before its update
        assert float(estimator.log_ema) == approx32(reference.ema_after(seen, 0.9))
    assert step.experimental_get_tracing_count() == 1
    before = float(estimator.log_ema)
    estimator(*batch(seed=9))
    estimator.evaluate(*batch(n=64, seed=10), batch_size=16)
    assert float(estimator.log_ema) == before


def test_mine_gradient_divides_by_the_moving_average_as_this_batch_would_update_it():
    estimator = MIEstimator(3, 3, bound="mine", ema_decay=0.5, seed=2)
    x0, z0 = batch(seed=0)
    first_neg = reference.split(full_scores(estimator, x0, z0))[1]
    estimator.update(x0, z0)
    x, z = batch(seed=1)
    variables = estimator.critic.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        scores = estimator.critic(x, z)
        _, mi_for_grads = estimator(x, z)
    matrix = scores.numpy().astype(np.float64)
    log_ema = reference.ema_after([first_neg, reference.split(matrix)[1]], 0.5)
    chained = tf.constant(reference.full_matrix_gradient("mine", matrix, log_ema), tf.float32)
    expected = tape.gradient(scores, variables, output_gradients=chained)
    for got, want in zip(tape.gradient(mi_for_grads, variables), expected):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-6)
    assert float(estimator.log_ema) == approx32(reference.ema_after([first_neg], 0.5))


def test_adaptive_clip_scale_matches_the_reference():
    model = tf.keras.layers.Dense(3)
    model.build((None, 3))
    estimator = MIEstimator(3, 3, bound="smile", seed=3)
    x, z = batch()
    with tf.GradientTape(persistent=True) as tape:
        out = model(x)
        loss = 1e-3 * tf.reduce_mean(out ** 2)
        _, mi = estimator(out, z)
    grads_loss = tape.gradient(loss, model.trainable_variables)
    grads_mi = tape.gradient(mi, model.trainable_variables)
    scale = adaptive_clip_scale(grads_loss, grads_mi)
    expected = reference.clip_scale([g.numpy() for g in grads_loss], [g.numpy() for g in grads_mi])
    assert float(scale) == approx32(expected) and float(scale) < 1.0
    unrelated = tf.Variable(tf.ones(2))
    assert float(adaptive_clip_scale(tape.gradient(loss, [unrelated]), tape.gradient(mi, [unrelated]))) == 1.0
    with pytest.raises(mivb.InvalidArgumentError, match="one gradient per variable"):
        adaptive_clip_scale(grads_loss, grads_mi[:1])


def test_checkpoint_restores_critic_ema_optimizer_and_sampler(tmp_path):
    config = {"kind": "joint", "hidden": (16,), "negative_samples": 4}
    estimator = MIEstimator(3, 3, bound="mine", critic=config, seed=4)
    x, z = batch()
    for _ in range(3):
        estimator.update(x, z)
    path = tf.train.Checkpoint(estimator=estimator).save(str(tmp_path / "estimator"))
    restored = MIEstimator(3, 3, bound="mine", critic=config, seed=99)
    tf.train.Checkpoint(estimator=restored).restore(path).assert_consumed()
    assert float(restored.log_ema) == float(estimator.log_ema)
    np.testing.assert_array_equal(restored.critic(x, z).numpy(), estimator.critic(x, z).numpy())
    assert float(restored.update(x, z)) == float(estimator.update(x, z))  # same sampled negatives
    np.testing.assert_array_equal(restored.critic(x, z).numpy(), estimator.critic(x, z).numpy())
    assert float(restored.log_ema) == float(estimator.log_ema)


def test_fit_on_static_data_then_evaluate_on_new_data():
    x, z, true_mi = mivb.correlated_gaussians(6000, 2, 0.8, seed=0)
    estimator = MIEstimator(2, 2, bound="infonce", lr=5e-4, seed=5)
    history = estimator.fit(x[:5000], z[:5000], steps=600, batch_size=128, seed=0)
    assert history.shape == (600,)
    held_out = estimator.evaluate(x[5000:], z[5000:], batch_size=128)
    assert abs(held_out - true_mi) < 0.15
    assert estimator._train_steps.experimental_get_tracing_count() == 1


def train_with_mi_regulariser(beta: float) -> float:
    """A model shrinking its output (loss = mean x^2) with an MI term I(x; z) weighted by beta."""
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(2)])
    optimiser = tf.keras.optimizers.Adam(1e-2)
    estimator = MIEstimator(2, 2, bound="mine", lr=1e-3, seed=6)
    z_all = tf.random.stateless_normal((4000, 2), (6, 0))

    @tf.function
    def step(z, noise):
        with tf.GradientTape(persistent=True) as tape:
            x = model(z) + 0.1 * noise
            loss = tf.reduce_mean(x ** 2)
            _, mi_for_grads = estimator(x, z)
        grads_loss = tape.gradient(loss, model.trainable_variables)
        grads_mi = tape.gradient(mi_for_grads, model.trainable_variables)
        scale = adaptive_clip_scale(grads_loss, grads_mi)
        optimiser.apply_gradients(zip([gl - beta * scale * gm for gl, gm in zip(grads_loss, grads_mi)],
                                      model.trainable_variables))
        estimator.update(x, z)

    for seed in range(300):
        index = tf.random.stateless_uniform((128,), (seed, 1), maxval=4000, dtype=tf.int32)
        step(tf.gather(z_all, index), tf.random.stateless_normal((128, 2), (seed, 2)))
    x = model(z_all) + 0.1 * tf.random.stateless_normal((4000, 2), (7, 0))
    return mivb.estimate(x, z_all, backend="tensorflow", steps=300, seed=0).mi


def test_mi_regulariser_keeps_the_output_informative():
    without, with_mi = train_with_mi_regulariser(0.0), train_with_mi_regulariser(1.0)
    assert with_mi > without + 0.3, (without, with_mi)


def test_estimate_on_correlated_gaussians_is_close_and_reproducible():
    x, z, true_mi = mivb.correlated_gaussians(4000, 3, mivb.data.rho_for_mi(3, 1.0), seed=1)
    first = mivb.estimate(x, z, backend="tensorflow", steps=400, seed=0)
    assert first.backend == "tensorflow"
    assert first.history.shape == (400,) or (first.stopped_early and first.history.shape[0] < 400)
    assert abs(first.mi - true_mi) < 0.2, (first, true_mi)
    again = mivb.estimate(tf.constant(x), tf.constant(z), steps=400, seed=0)  # backend from the tensors
    assert again.backend == "tensorflow"
    assert again.mi == first.mi and np.array_equal(again.history, first.history)
    other = mivb.estimate(x, z, backend="tensorflow", steps=400, seed=1)
    assert other.mi != first.mi


@pytest.mark.parametrize("name", ["club", "l1out", "tuba", "alpha"])
def test_the_upper_bounds_and_the_bounds_with_a_baseline_train_to_finite_values(name):
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.8, seed=0)
    result = mivb.estimate(x, z, backend="tensorflow", bound=name, steps=100, batch_size=64, seed=0)
    assert np.isfinite(result.mi) and np.all(np.isfinite(result.history)), result
    estimator = MIEstimator(2, 2, bound=name)
    assert estimator.config.kind == ("conditional" if name in ("club", "l1out") else "separable")
    assert (estimator.critic.baseline is not None) == (name in ("tuba", "alpha"))


def test_l1out_reads_close_to_the_truth():
    # Measured at 300 steps over seeds 0-7, in torch, JAX and TensorFlow alike: -0.10 to +0.10 nats off.
    x, z, true_mi = mivb.correlated_gaussians(4000, 2, mivb.data.rho_for_mi(2, 1.0), seed=1)
    result = mivb.estimate(x, z, backend="tensorflow", bound="l1out", steps=300, seed=0)
    assert abs(result.mi - true_mi) < 0.3, (result.mi, true_mi)


def test_club_reads_what_the_true_conditional_gives_above_the_mi():
    # CLUB with the exact q(z | x) of Gaussians with per-dimension correlation rho: d rho^2 / (1 - rho^2),
    # 2.46 nats at I = 1, d = 5. Measured at 600 steps over seeds 0-7: torch -0.12 to +0.13 off, JAX -0.05
    # to +0.16, TensorFlow 0.00 to +0.16 (at I = 2 the same runs scatter three times as far).
    rho = mivb.data.rho_for_mi(5, 1.0)
    x, z, true_mi = mivb.correlated_gaussians(10000, 5, rho, seed=1)
    result = mivb.estimate(x, z, backend="tensorflow", bound="club", steps=600, seed=0)
    assert abs(result.mi - 5 * rho**2 / (1 - rho**2)) < 0.25 and result.mi > true_mi + 1.0, result


def test_the_conditional_critic_scores_gaussian_log_densities_and_selection_reads_their_likelihood():
    estimator = MIEstimator(2, 2, bound="club", critic={"kind": "conditional", "hidden": (8,)}, seed=0)
    x, z = batch(n=6, dim=2)
    mean, raw = np.split(estimator.critic.f(x).numpy().astype(np.float64), 2, axis=1)
    log_variance = 10.0 * np.tanh(raw / 10.0)  # softly limited to [-10, 10]
    z64 = z.numpy().astype(np.float64)
    expected = -0.5 * ((z64[:, None, :] - mean[None]) ** 2 / np.exp(log_variance)[None] + log_variance[None]
                       + np.log(2 * np.pi)).sum(-1)  # [i, j] = log q(z_i | x_j)
    np.testing.assert_allclose(full_scores(estimator, x, z), expected, rtol=1e-5, atol=1e-5)
    batches = tf.range(6)[None]
    assert float(estimator.batch_values(x, z, batches, selection=True)[0]) == approx32(np.diag(expected).mean())
    assert float(estimator.batch_values(x, z, batches)[0]) == approx32(np.diag(expected).mean() - np.mean(
        expected[~np.eye(6, dtype=bool)]))


def test_a_baseline_network_gives_one_log_baseline_per_row_and_trains_with_the_critic():
    config = CriticConfig(kind="joint", hidden=(8,))
    x, z = tf.ones((5, 2)), tf.ones((5, 3))
    plain = build_critic((2,), (3,), config, seed=0)
    assert plain.baseline is None and plain.row_baseline(x, z) is None
    estimator = MIEstimator(2, 3, bound="alpha", critic=config, seed=0)
    assert estimator.scores(x, z).baseline.shape == (5,)
    before = [w.numpy() for w in estimator.critic.baseline.weights]
    estimator.update(tf.random.stateless_normal((5, 2), (0, 1)), tf.random.stateless_normal((5, 3), (0, 2)))
    assert all(not np.array_equal(w.numpy(), b) for w, b in zip(estimator.critic.baseline.weights, before))


def test_sampled_negatives_train_through_the_trainer_with_a_short_last_chunk():
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.8, seed=2)
    result = mivb.estimate(x, z, backend="tensorflow", critic="joint", negative_samples=4, steps=150,
                           batch_size=32, seed=0)
    assert result.history.shape == (150,) and np.all(np.isfinite(result.history)) and result.mi > 0.2


def test_conv_critic_estimates_the_mi_of_channels_last_images():
    x, z, true_mi = mivb.data.gaussian_images(3000, 3, mivb.data.rho_for_mi(3, 1.0), size=12, channels_last=True)
    assert x.shape == (3000, 12, 12, 1)
    critic = {"kind": "separable", "encoder": "conv", "channels": (8, 16), "hidden": (64,), "embedding": 16}
    result = mivb.estimate(x, z, backend="tensorflow", critic=critic, steps=400, batch_size=64, seed=0)
    assert abs(result.mi - true_mi) < 0.3, result
    joint = MIEstimator((12, 12, 1), (12, 12, 1), critic={**critic, "kind": "joint", "negative_samples": 3}, seed=0)
    scores = joint.scores(tf.constant(x[:8]), tf.constant(z[:8]))
    pos, neg = scores.pos, scores.neg
    assert pos.shape == (8,) and neg.shape == (8, 3)
    with pytest.raises(mivb.InvalidArgumentError, match="for a conv encoder"):
        MIEstimator(3, 3, critic="conv")


def test_trainer_restores_a_snapshot_exactly():
    x, z, _ = mivb.correlated_gaussians(600, 2, 0.8, seed=3)
    config = mivb.EstimateConfig(bound="mine", bound_params={}, critic=CriticConfig(hidden=(16,)), backend="tensorflow",
                                 device=None, steps=20, batch_size=32, learning_rate=1e-3, ema_decay=0.9,
                                 test_fraction=0.2, transform=None, seed=0)
    trainer = mivb_tensorflow.Trainer(config, ((2,), (2,)), {"train": (x.astype(np.float32), z.astype(np.float32))})
    batches = mivb.schedule.batch_schedule(np.random.default_rng(0), 600, 32, 20)
    trainer.train(batches[:10], None)
    snapshot = trainer.snapshot()
    first = trainer.train(batches[10:], None)
    trainer.restore(snapshot)
    np.testing.assert_array_equal(trainer.train(batches[10:], None), first)


def test_bad_arguments_are_clear_errors():
    estimator = MIEstimator(3, 3)
    with pytest.raises(mivb.InvalidArgumentError, match="same N"):
        estimator(tf.zeros((4, 3)), tf.zeros((5, 3)))
    with pytest.raises(mivb.InvalidArgumentError, match="N >= 2"):
        estimator(tf.zeros((1, 3)), tf.zeros((1, 3)))
    with pytest.raises(mivb.InvalidArgumentError, match="received dim_x=0"):
        MIEstimator(0, 3)
    with pytest.raises(mivb.InvalidArgumentError, match="received ema_decay=0"):
        MIEstimator(3, 3, ema_decay=0)
    sampled = MIEstimator(3, 3, critic={"kind": "joint", "negative_samples": 8})
    with pytest.raises(mivb.InvalidArgumentError, match="received negative_samples=8"):
        sampled(tf.zeros((4, 3)), tf.zeros((4, 3)))
    x, z, _ = mivb.correlated_gaussians(200, 2, 0.5, seed=0)
    missing_gpu = f"gpu:{len(tf.config.list_logical_devices('GPU'))}"  # one past the last GPU, on any machine
    with pytest.raises(mivb.InvalidArgumentError, match=f"received device='{missing_gpu}'"):
        mivb.estimate(x, z, backend="tensorflow", device=missing_gpu, steps=5, batch_size=16)
    with pytest.raises(mivb.InvalidArgumentError, match="received device='tpu'"):
        mivb.estimate(x, z, backend="tensorflow", device="tpu", steps=5, batch_size=16)


def environment_after(modules, **overrides):
    """os.environ in a fresh process after importing ``modules`` (TensorFlow sets a few variables itself)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    code = f"import json, os, {modules}; print(json.dumps(dict(os.environ)))"
    imported = subprocess.run([sys.executable, "-c", code], env={**env, **overrides}, capture_output=True,
                              text=True, check=True)
    return json.loads(imported.stdout.strip().splitlines()[-1])


def test_importing_the_adapter_leaves_the_environment_as_tensorflow_leaves_it():
    for overrides in ({}, {"TF_CPP_MIN_LOG_LEVEL": "1", "TF_ENABLE_ONEDNN_OPTS": "1"}):
        with_mivb = environment_after("mivb, mivb_tensorflow", **overrides)
        assert with_mivb == environment_after("tensorflow, keras", **overrides)
        assert with_mivb.get("TF_ENABLE_ONEDNN_OPTS") == overrides.get("TF_ENABLE_ONEDNN_OPTS")


@pytest.mark.parametrize("other, difference", [
    ({"critic": {"hidden": (16,), "activation": "tanh"}}, "critic="),
    ({"bound": "nwj"}, "bound="),
    ({"dim_x": 4}, "shapes="),
    ({"lr": 1e-3}, "learning_rate="),
])
def test_a_checkpoint_of_another_estimator_is_refused_before_anything_is_restored(tmp_path, other, difference):
    saved = MIEstimator(3, 3, bound="mine", critic={"hidden": (16,)}, seed=1)
    x, z = batch()
    saved.update(x, z)
    model = tf.Variable([1.0, 2.0])
    path = tf.train.Checkpoint(estimator=saved, model=model).save(str(tmp_path / "run"))
    target = MIEstimator(**{"dim_x": 3, "dim_z": 3, "bound": "mine", "critic": {"hidden": (16,)}, "seed": 2, **other})
    mine = MIEstimator(3, 3, bound="mine", critic={"hidden": (16,)}, seed=2)
    before = [v.numpy() for v in target.training_variables]
    other_model = tf.Variable([0.0, 0.0])
    with pytest.raises(mivb.InvalidArgumentError,
                       match=f"checkpoint: expected a state saved by an estimator with {difference}"):
        tf.train.Checkpoint(estimator=target, model=other_model).restore(path)
    for variable, value in zip(target.training_variables, before):  # nothing was restored, not even the model
        np.testing.assert_array_equal(variable.numpy(), value)
    np.testing.assert_array_equal(other_model.numpy(), [0.0, 0.0])
    tf.train.Checkpoint(estimator=mine, model=other_model).restore(path).assert_consumed()  # a match restores
    np.testing.assert_array_equal(mine.critic(x, z).numpy(), saved.critic(x, z).numpy())
    assert float(mine.log_ema) == float(saved.log_ema) and other_model.numpy().tolist() == [1.0, 2.0]


@pytest.mark.parametrize("n, batch_size", [(60, 32), (300, 128), (900, 128)])
def test_estimate_with_held_out_splits_smaller_than_a_batch(n, batch_size):
    x, z, _ = mivb.correlated_gaussians(n, 2, 0.8, seed=4)
    result = mivb.estimate(x, z, backend="tensorflow", steps=30, batch_size=batch_size, seed=0)
    assert result.history.shape == (30,) and np.isfinite(result.mi)
    sampled = mivb.estimate(x, z, backend="tensorflow", critic="joint", negative_samples=4, steps=30,
                            batch_size=batch_size, seed=0)
    assert np.isfinite(sampled.mi)


def test_fit_and_evaluate_take_any_batch_size_one_trace_per_size():
    x, z, _ = mivb.correlated_gaussians(500, 2, 0.8, seed=5)
    estimator = MIEstimator(2, 2, bound="infonce", seed=5)
    for batch_size in (64, 32, 64):
        assert estimator.fit(x[:400], z[:400], steps=5, batch_size=batch_size, seed=0).shape == (5,)
    estimator.fit(x[:300], z[:300], steps=7, batch_size=32, seed=0)  # other data, other steps: generalised once
    traces = estimator._train_steps.experimental_get_tracing_count()
    estimator.fit(x[:200], z[:200], steps=9, batch_size=32, seed=0)  # ...then no new trace
    assert estimator._train_steps.experimental_get_tracing_count() == traces <= 3
    for batch_size in (128, 50, 100):
        assert np.isfinite(estimator.evaluate(x[400:], z[400:], batch_size=batch_size))
    assert estimator._batch_values.experimental_get_tracing_count() == 2  # 100 pairs: 128 and 100 are one size
    with pytest.raises(mivb.InvalidArgumentError, match="static batch_size"):
        estimator.train_steps(tf.constant(x), tf.constant(z), tf.zeros((4,), tf.int32))


def test_a_device_index_tensorflow_does_not_see_is_refused():
    x, z, _ = mivb.correlated_gaussians(200, 2, 0.5, seed=0)
    from mivb_tensorflow._trainer import resolve_device

    cpus = len(tf.config.list_logical_devices("CPU"))
    assert resolve_device(None) == resolve_device("cpu") == resolve_device("cpu:0") == "/CPU:0"
    with pytest.raises(mivb.InvalidArgumentError, match=f"TensorFlow sees {cpus} CPU device.*received device='cpu:{cpus}'"):
        mivb.estimate(x, z, backend="tensorflow", device=f"cpu:{cpus}", steps=5, batch_size=16)
    with pytest.raises(mivb.InvalidArgumentError, match="received device=1"):
        resolve_device(1)


def test_the_estimator_estimate_returns_saves_loads_and_scores_new_pairs(tmp_path):
    x, z, _ = mivb.correlated_gaussians(2000, 2, 0.6, seed=0)
    result = mivb.estimate(x, z, backend="tensorflow", bound="js", steps=300, seed=0, progress=False)
    assert isinstance(result.estimator, MIEstimator)
    path = tf.train.Checkpoint(estimator=result.estimator).save(str(tmp_path / "critic"))
    restored = MIEstimator(2, 2, **result.config.spec.to_kwargs())
    tf.train.Checkpoint(estimator=restored).restore(path).assert_consumed()
    new_x, new_z, _ = mivb.correlated_gaussians(500, 2, 0.6, seed=1)
    xs, zs = result.prepare_new(new_x, new_z)
    ratios = result.pointwise(new_x, new_z)
    np.testing.assert_array_equal(restored.pointwise(xs, zs), ratios)
    scores = restored.critic(tf.constant(xs), tf.constant(zs)).numpy()  # js's optimal critic is log r
    np.testing.assert_allclose(ratios, np.diag(scores.astype(np.float64)), rtol=1e-6)


def test_a_tf_data_dataset_streams_held_out_pairs_first_then_trains_on_the_rest():
    x, z, truth = mivb.correlated_gaussians(12_000, 2, 0.6, seed=0)
    dataset = tf.data.Dataset.from_tensor_slices((x, z)).batch(100)  # 120 batches: a known length
    with pytest.warns(UserWarning, match="the stream ran dry after 12000 pairs"):
        result = mivb.estimate(dataset, seed=0, progress=False)
    assert result.backend == "tensorflow" and abs(result.mi - truth) < 0.08
    unknown = dataset.filter(lambda x, z: True)  # a length tf.data cannot know: 4096 + 2048 pairs held out
    with pytest.warns(UserWarning, match="seeing each of the 5856 training pairs once"):
        mivb.estimate(unknown, seed=0, progress=False, steps=60)
