"""Data parallelism with jax.sharding: a batch split over 2 devices equals the batch on one device.

JAX fixes its device count at import, so the test runs this file as a script with
``XLA_FLAGS=--xla_force_host_platform_device_count=2``; the script computes every case both ways
(``MIEstimator`` on one device, ``ShardedMIEstimator`` over a mesh of 2) and writes the numbers,
which the test compares.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

N = 8
BOUNDS = ["dv", "mine", "nwj", "infonce", "js", "smile"]
# (no mine-joint trajectory: at the first step MINE's gradient along the joint critic's last bias is zero but
# for rounding, and Adam turns that rounding into a step of size lr)
CASES = [f"{b}-separable" for b in BOUNDS] + ["infonce-bilinear", "dv-joint", "smile-joint", "dv-separable-sampled",
                                              "infonce-joint-sampled", "alpha-separable", "club-conditional",
                                              "l1out-conditional-sampled"]
UPDATES = 3
TRAINERS = [("infonce", "separable"), ("club", "conditional")]


def script(folder: str) -> None:
    import jax
    import jax.numpy as jnp
    from mivb_jax import MIEstimator, ShardedMIEstimator, Trainer, data_mesh, replicate

    import mivb
    from mivb.estimate import EstimateConfig

    assert len(jax.devices()) == 2, jax.devices()
    mesh = data_mesh()
    out = {"devices": np.array(len(mesh.devices.ravel()))}
    key = jax.random.key(0)
    x = jax.random.normal(jax.random.key(1), (N, 3))
    z = x[:, :2] + 0.5 * jax.random.normal(jax.random.key(2), (N, 2))
    for case in CASES:
        bound, kind, *sampled = case.split("-")
        critic = {"kind": kind, "hidden": (16,), "embedding": 4, "negative_samples": 3 if sampled else None}
        shifts = jnp.array([1, 3, 6]) if sampled else None
        for label, estimator in [("single", MIEstimator(3, 2, bound=bound, critic=critic, lr=1e-2, ema_decay=0.9)),
                                 ("sharded", ShardedMIEstimator(3, 2, bound=bound, critic=critic, lr=1e-2,
                                                                ema_decay=0.9, mesh=mesh))]:
            state = estimator.init(key)
            if label == "sharded":
                state = replicate(state, mesh)

            def mi(params, x, z, estimator=estimator, state=state, shifts=shifts):
                value, mi_for_grads, ema = estimator.objective(state._replace(params=params), x, z, shifts)
                return mi_for_grads, (value, ema.get("log_ema", jnp.nan))

            (_, (value, ema)), grads = jax.jit(jax.value_and_grad(mi, argnums=(0, 1, 2), has_aux=True))(
                state.params, x, z)
            prefix = f"{case}/{label}/"
            out[prefix + "value"], out[prefix + "ema"] = np.asarray(value), np.asarray(ema)
            for i, leaf in enumerate(jax.tree_util.tree_leaves(grads)):
                out[prefix + f"grad_{i}"] = np.asarray(leaf)
            update = jax.jit(estimator.update)
            values = []
            for _ in range(UPDATES):
                state, v = update(state, x, z, shifts)
                values.append(v)
            out[prefix + "values"] = np.asarray(values)
            out[prefix + "log_ema"] = np.asarray(state.bound_state.get("log_ema", np.nan))
            for i, leaf in enumerate(jax.tree_util.tree_leaves(state.params)):
                out[prefix + f"param_{i}"] = np.asarray(leaf)
            if label == "sharded":  # the layout: each device holds its rows of the negatives, all columns
                def negatives(state, estimator=estimator, shifts=shifts, sampled=sampled):  # the full matrix's rows, or K
                    scores = estimator.scores(state, x, z, shifts)
                    return scores.neg if sampled else scores.scores

                neg = jax.jit(negatives)(state)
                out[prefix + "shard_shapes"] = np.array([s.data.shape for s in neg.addressable_shards])
    # mivb.estimate's trainer with devices=2 against one device; club's critics are ranked by their likelihood
    data_x, data_z, _ = mivb.correlated_gaussians(1200, 2, 0.8, seed=0)
    for bound, kind in TRAINERS:
        for devices in (None, 2):
            config = EstimateConfig(backend="jax", bound=bound, steps=40, batch_size=64, seed=3, devices=devices,
                                    critic=mivb.CriticConfig(kind=kind, hidden=(32,), embedding=8))
            splits = {"train": (data_x[:1000], data_z[:1000]), "test": (data_x[1000:], data_z[1000:])}
            trainer = Trainer(config, ((2,), (2,)), splits)
            batches = np.random.default_rng(0).integers(0, 1000, size=(40, 64))
            prefix = f"trainer/{bound}/{devices}/"
            out[prefix + "train"] = trainer.train(batches, None)
            out[prefix + "evaluate"] = trainer.values("test", np.arange(192).reshape(3, 64), None)
            out[prefix + "selection"] = trainer.values("test", np.arange(192).reshape(3, 64), None, True)
    np.savez(Path(folder) / "results.npz", **out)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("jax")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "OMP_NUM_THREADS": "1"}
    env.pop("JAX_ENABLE_X64", None)
    result = subprocess.run([sys.executable, __file__, str(folder)], env=env, check=False, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(np.load(folder / "results.npz"))


@pytest.mark.parametrize("case", CASES)
def test_two_devices_equal_one_device_on_the_global_batch(results, case):
    assert int(results["devices"]) == 2
    single = {k.split("/", 2)[2]: v for k, v in results.items() if k.startswith(f"{case}/single/")}
    sharded = {k.split("/", 2)[2]: v for k, v in results.items() if k.startswith(f"{case}/sharded/")}
    shapes = sharded.pop("shard_shapes")
    k = 3 if "sampled" in case else N  # the full matrix: every column of the global batch, diagonal included
    assert shapes.tolist() == [[N // 2, k], [N // 2, k]]  # each device holds its own rows
    assert set(single) == set(sharded) and any(key.startswith("grad_") for key in single)
    for key, expected in single.items():  # float32 critics: equal up to the order of additions
        if key.startswith("param_"):
            # Adam divides by the root of the squared gradient, so a parameter whose gradient is
            # zero but for rounding (the last bias of a joint critic under a shift-invariant bound
            # such as dv) moves by rounding noise of the size of the step: compare the others.
            grad = single["grad_" + key[len("param_"):]]
            live = np.abs(grad) > 1e-4 * max(np.abs(v).max() for k, v in single.items() if k.startswith("grad_"))
            np.testing.assert_allclose(sharded[key][live], expected[live], rtol=1e-3, atol=1e-5, err_msg=key)
        elif key in ("values", "log_ema"):  # after Adam steps: the same rounding noise, a little amplified
            np.testing.assert_allclose(sharded[key], expected, rtol=1e-3, atol=1e-4, err_msg=key)
        else:  # the first step's value, EMA and gradients (critic and inputs)
            np.testing.assert_allclose(sharded[key], expected, rtol=1e-5, atol=1e-6, err_msg=key)
    if case.startswith("mine"):
        assert np.isfinite(single["log_ema"])


@pytest.mark.parametrize("bound", [bound for bound, _ in TRAINERS])
def test_estimate_trainer_over_two_devices_equals_one_device(results, bound):
    for part in ("train", "evaluate", "selection"):
        one, two = results[f"trainer/{bound}/None/{part}"], results[f"trainer/{bound}/2/{part}"]
        assert np.all(np.isfinite(one)) and one.shape == two.shape
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-4)
    assert results[f"trainer/{bound}/None/train"][-1] > results[f"trainer/{bound}/None/train"][0] + 0.1  # it trained


if __name__ == "__main__":
    script(sys.argv[1])
