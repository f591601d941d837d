"""Data parallelism with tf.distribute.MirroredStrategy: 2 replicas equal one device on the global batch.

TensorFlow fixes its logical devices when it initialises, so the test runs this file as a script
that splits the CPU into 2 logical devices; the script computes each case on the replicas (each
holding half of a global batch of 8 pairs) and on the concatenated batch with the same critic,
and writes the numbers, which the test compares. Gradient convention: a replica's gradient is
W times the gradient through its rows, so the mean over replicas is the single-device gradient.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

N, WORLD = 8, 2
BOUNDS = ["dv", "mine", "nwj", "infonce", "js", "smile"]
# "fit": the critic's own step (critic_step=True: for club, q's likelihood rather than the bound)
CASES = [f"{b}-separable" for b in BOUNDS] + ["infonce-joint", "smile-bilinear", "dv-separable-sampled",
                                              "mine-joint-sampled", "alpha-separable", "tuba-joint-sampled",
                                              "club-conditional", "club-conditional-fit", "l1out-conditional-sampled"]


def script(folder: str) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * WORLD)
    from mivb_tensorflow import MIEstimator, replica_objective

    strategy = tf.distribute.MirroredStrategy([f"/CPU:{i}" for i in range(WORLD)])
    assert strategy.num_replicas_in_sync == WORLD
    rng = np.random.default_rng(0)
    x_all = rng.standard_normal((N, 3)).astype(np.float32)
    z_all = (x_all[:, :2] + 0.5 * rng.standard_normal((N, 2))).astype(np.float32)
    half = N // WORLD
    per_replica = [strategy.experimental_distribute_values_from_function(
        lambda ctx, a=a: tf.constant(a[ctx.replica_id_in_sync_group * half:(ctx.replica_id_in_sync_group + 1) * half]))
        for a in (x_all, z_all)]
    out = {}
    for case in CASES:
        bound, kind, *options = case.split("-")
        sampled, critic_step = "sampled" in options, "fit" in options
        critic = {"kind": kind, "hidden": (16,), "embedding": 4, "negative_samples": 3 if sampled else None}
        shifts = tf.constant([1, 3, 6]) if sampled else None
        with strategy.scope():
            estimator = MIEstimator(3, 2, bound=bound, critic=critic, seed=0, ema_decay=0.9)
        variables = estimator.critic.trainable_variables

        @tf.function
        def replicas(x, z):
            def step(x, z):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    value, mi_for_grads, ema = replica_objective(estimator, x, z, shifts, critic_step=critic_step)  # noqa: B023 - traced in this iteration
                grads = tape.gradient(mi_for_grads, [*variables, x])  # noqa: B023
                return value, ema.get("log_ema", tf.constant(float("nan"))), grads
            return strategy.run(step, args=(x, z))

        value, ema, grads = replicas(*per_replica)
        for r in range(WORLD):
            out[f"{case}/replica{r}/value"] = strategy.experimental_local_results(value)[r].numpy()
            out[f"{case}/replica{r}/ema"] = strategy.experimental_local_results(ema)[r].numpy()
            for i, g in enumerate(grads):
                out[f"{case}/replica{r}/grad_{i}"] = strategy.experimental_local_results(g)[r].numpy()
        x, z = tf.constant(x_all), tf.constant(z_all)
        with tf.GradientTape() as tape:  # one device, the concatenated batch, the same critic
            tape.watch(x)
            value, mi_for_grads, ema = estimator.objective(x, z, shifts, critic_step=critic_step)
        out[f"{case}/single/value"], out[f"{case}/single/ema"] = value.numpy(), ema.get("log_ema", tf.constant(float("nan"))).numpy()
        for i, g in enumerate(tape.gradient(mi_for_grads, [*variables, x])):
            out[f"{case}/single/grad_{i}"] = g.numpy()
        out[f"{case}/variables"] = np.array(len(variables))
    np.savez(Path(folder) / "results.npz", **out)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("tf")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, __file__, str(folder)], env=env, check=False, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(np.load(folder / "results.npz"))


@pytest.mark.parametrize("case", CASES)
def test_two_replicas_equal_one_device_on_the_global_batch(results, case):
    single = {k.split("/", 2)[2]: v for k, v in results.items() if k.startswith(f"{case}/single/")}
    replicas = [{k.split("/", 2)[2]: v for k, v in results.items() if k.startswith(f"{case}/replica{r}/")}
                for r in range(WORLD)]
    count = int(results[f"{case}/variables"])
    half = N // WORLD
    assert np.isfinite(single["value"])
    for replica in replicas:  # the global value and EMA on every replica
        np.testing.assert_allclose(replica["value"], single["value"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(replica["ema"], single["ema"], rtol=1e-5, atol=1e-6)
    for i in range(count):  # critic gradients: the mean over replicas is the single-device gradient
        mean = np.mean([replica[f"grad_{i}"] for replica in replicas], axis=0)
        np.testing.assert_allclose(mean, single[f"grad_{i}"], rtol=1e-4, atol=1e-6, err_msg=f"grad_{i}")
    for r, replica in enumerate(replicas):  # input gradients: W times the single-device rows
        np.testing.assert_allclose(replica[f"grad_{count}"] / WORLD, single[f"grad_{count}"][r * half:(r + 1) * half],
                                   rtol=1e-4, atol=1e-6)
    if case.startswith("mine"):
        assert np.isfinite(single["ema"])


if __name__ == "__main__":
    script(sys.argv[1])
