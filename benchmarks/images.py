"""Images (issue #33): `mivb.estimate(x, z)` with every default on pictures, per installed backend.

Two tasks, 10,000 pairs each, about 1 nat (the defaults pick the conv critic for images):

- ``blob-distractor``: 24 x 24 single-channel pictures of a bright blob whose position (row and
  column) is a Gaussian latent of two coordinates, 0.5 nat of MI with its partner's per coordinate,
  plus a dimmer distractor blob at a uniform position independent of everything. Two blobs of
  known widths and different brightness are told apart from their sum (Gaussians at distinct
  places are linearly independent), so each picture gives back its latent and its distractor, and
  I(x; z) is exactly the latents' MI;
- ``brightness``: the examples' task (examples/images.py, ``mivb.data.gaussian_images``): four
  blobs at fixed places whose brightness is sigmoid(latent), 16 x 16, four latents at 1 nat in all.

Per task and backend: the estimate, the truth, their ratio (target: within a factor 1.5), the seconds
of the call and its ratio to the fastest backend on that task (target: at most 2). Images are
channels-first (N, C, H, W) for torch and channels-last (N, H, W, C) for JAX and TensorFlow, the
layout each backend's conv critic takes. Nothing here was tuned on these tasks.

Threads: with OMP_NUM_THREADS=1 torch computes on one thread, while TensorFlow and XLA (JAX) size
their own thread pools to the machine's cores; ``--one-thread`` puts all three on one thread (XLA's
flags as the noxfile's XLA_ENV, TensorFlow's intra- and inter-op pools), steps on an equal footing.

    python benchmarks/images.py                          # both tasks, every installed backend
    python benchmarks/images.py --one-thread --stem images_one_thread
    python benchmarks/images.py --tasks blob-distractor --backends jax
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from collections.abc import Callable

import numpy as np
from reporting import quiet, run_metadata, write_results
from scipy.special import ndtr

import mivb
from mivb.data import correlated_gaussians, gaussian_images, rho_for_mi
from mivb.estimate import training_backends

PAIRS = 10_000
MI = 1.0
SIZE = 24
BLOB_WIDTH = 1.5  # pixels: the blob's standard deviation
DISTRACTOR_BRIGHTNESS = 0.5  # the latent's blob has brightness 1


def blobs(rows: np.ndarray, columns: np.ndarray, brightness: float, size: int) -> np.ndarray:
    """(n, size, size) pictures of one Gaussian blob centred at each (row, column)."""
    grid = np.arange(size)
    across = np.exp(-((grid[None, :] - rows[:, None]) ** 2) / (2 * BLOB_WIDTH**2))
    down = np.exp(-((grid[None, :] - columns[:, None]) ** 2) / (2 * BLOB_WIDTH**2))
    return brightness * across[:, :, None] * down[:, None, :]


def position_pictures(latents: np.ndarray, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """The latent's bright blob, placed by its two coordinates over the middle of the picture, plus the
    dimmer distractor anywhere over the same range: (n, size, size), float64."""
    low, high = 3.5, size - 4.5
    place = low + (high - low) * ndtr(latents)  # the normal CDF: one-to-one onto the range
    distractor = rng.uniform(low, high, size=latents.shape)
    return (blobs(place[:, 0], place[:, 1], 1.0, size)
            + blobs(distractor[:, 0], distractor[:, 1], DISTRACTOR_BRIGHTNESS, size))


def blob_distractor(n: int, channels_last: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Pairs of pictures whose bright blobs' positions share ``MI`` nats; a distractor in each, and the MI."""
    latent_x, latent_z, truth = correlated_gaussians(n, 2, rho_for_mi(2, MI), seed=seed)
    rng = np.random.default_rng([seed, 1])
    x, z = (position_pictures(latent.astype(np.float64), rng) for latent in (latent_x, latent_z))
    layout = (n, SIZE, SIZE, 1) if channels_last else (n, 1, SIZE, SIZE)
    return x.reshape(layout).astype(np.float32), z.reshape(layout).astype(np.float32), truth


def brightness(n: int, channels_last: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """The examples' task: four latents drawn as the brightness of four blobs, 16 x 16, ``MI`` nats."""
    return gaussian_images(n, 4, rho_for_mi(4, MI), channels_last=channels_last, seed=seed)


TASKS: dict[str, Callable[[int, bool], tuple[np.ndarray, np.ndarray, float]]] = {
    "blob-distractor": blob_distractor, "brightness": brightness}


HEADER = (f"{'task':<16} {'backend':<11} {'estimate':>8} {'truth':>6} {'ratio':>6} {'steps':>5} {'seconds':>8} "
          f"{'x fastest':>9}")


def one_thread() -> None:
    """Every installed framework computes on one thread; before JAX or TensorFlow starts its pools."""
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    if importlib.util.find_spec("torch"):
        import torch

        torch.set_num_threads(1)
    if importlib.util.find_spec("tensorflow"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    for name in args.tasks:
        task_rows = []
        for backend in args.backends:
            x, z, truth = TASKS[name](args.pairs, backend != "torch")
            start = time.perf_counter()
            with quiet():
                result = mivb.estimate(x, z, backend=backend, seed=0, progress=False)
            seconds = time.perf_counter() - start
            task_rows.append({"task": name, "backend": backend, "pairs": args.pairs, "estimate": round(result.mi, 4),
                              "truth": round(truth, 4), "ratio": round(result.mi / truth, 3),
                              "steps": len(result.history), "best_step": result.best_step, "seconds": round(seconds, 1),
                              "bound": result.bound, "notes": len(result.notes)})
            print(f"{name} on {backend}: {result.mi:.3f} of {truth:.3f} nats, {len(result.history)} steps, "
                  f"{seconds:.1f} s", flush=True)
        fastest = min(row["seconds"] for row in task_rows)
        for row in task_rows:
            row["time_ratio"] = round(row["seconds"] / fastest, 2)
        rows += task_rows
    print(HEADER)
    for row in rows:
        print(f"{row['task']:<16} {row['backend']:<11} {row['estimate']:>8.3f} {row['truth']:>6.3f} {row['ratio']:>6.3f} "
              f"{row['steps']:>5} {row['seconds']:>8.1f} {row['time_ratio']:>9.2f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--backends", nargs="+", help="default: every installed backend that trains a critic")
    parser.add_argument("--pairs", type=int, default=PAIRS)
    parser.add_argument("--one-thread", action="store_true", help="every framework on one thread")
    parser.add_argument("--stem", default="images", help="results/<stem>.csv and .json")
    args = parser.parse_args()
    if args.one_thread:
        one_thread()  # before training_backends() imports the frameworks
    args.backends = args.backends or training_backends()
    rows = run(args)
    threads = "one per framework" if args.one_thread else "each framework's default (torch: OMP_NUM_THREADS)"
    write_results(rows, run_metadata("images.py", threads=threads,
                                     omp_num_threads=os.environ.get("OMP_NUM_THREADS")), args.stem)


if __name__ == "__main__":
    main()
