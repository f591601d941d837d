"""Speed: mivb's training loop against the same training written by hand, per backend.

Fixed work: d = 20 correlated Gaussians, InfoNCE, Adam 5e-4, the default separable critic at
batch 128 and 512, and a joint critic on 16 sampled negatives at batch 128; 2000 steps (--quick:
300). Reported: steps per second of mivb's trainer (what ``mivb.estimate`` runs), of the
hand-written loop, their ratio (target <= 1.10), and the total time of ``mivb.estimate`` for the
same steps. Warm-up (mivb's first chunk of 100 steps, the loop's first step: compilation) is
excluded; times are medians over repeats; all contenders train on the same batches.

``--precision`` adds a second table: mivb's trainer with the separable critic at each batch of
``--batches``, in mixed precision (bfloat16, float16) and, for torch, compiled (``torch.compile``:
its compilation excluded with the first chunk), as steps per second and the ratio to float32 eager
in the same run, and to the hand-written float32 loop (on CPU), both as speed-ups (above 1: faster).
``--device cuda`` runs on a GPU (``nox -s gpu`` does, at 128 to 4096).

    python benchmarks/speed.py --quick
    python benchmarks/speed.py --quick --precision --backends torch --batches 128 512
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import handwritten
import numpy as np

import mivb
from mivb.estimate import CHUNK_STEPS, EstimateConfig
from mivb.schedule import batch_schedule, shift_schedule

RESULTS = Path(__file__).resolve().parent / "results"
CASES = [("separable", 128, None), ("separable", 512, None), ("joint", 128, 16)]


PRECISIONS = ("float32", "bfloat16", "float16")


def config_for(backend: str, kind: str, batch: int, k: int | None, steps: int, **options) -> EstimateConfig:
    return EstimateConfig(bound="infonce", critic=mivb.critics.critic_config(kind, negative_samples=k), backend=backend,
                          steps=steps, batch_size=batch, learning_rate=5e-4, early_stopping=False, seed=0, **options)


def mivb_seconds_per_step(backend, x, z, batches, shifts, config) -> float:
    """Seconds per step of the trainer ``estimate`` drives; the first chunk (compilation) excluded."""
    trainer = mivb.get_backend(backend).Trainer(config, (x.shape[1:], z.shape[1:]), {"train": (x, z)})
    for i in range(0, len(batches), CHUNK_STEPS):
        if i == CHUNK_STEPS:
            start = time.perf_counter()
        trainer.train(batches[i : i + CHUNK_STEPS], None if shifts is None else shifts[i : i + CHUNK_STEPS])
    return (time.perf_counter() - start) / (len(batches) - CHUNK_STEPS)


def hand_seconds_per_step(loop, x, z, batches, kind, shifts) -> float:
    """Seconds per step of the hand-written loop; its first step (compilation) excluded."""
    _, seconds = loop(x, z, batches, kind, shifts)
    return seconds / (len(batches) - 1)


def run(args) -> list[dict]:
    x, z, _ = mivb.correlated_gaussians(20_000, 20, 0.5, seed=0)
    rows = []
    print(f"{'backend':<10} {'critic':<10} {'batch':>5} {'mivb steps/s':>12} {'hand steps/s':>12} {'ratio':>6} "
          f"{'estimate s':>10}")
    for backend in args.backends:
        for kind, batch, k in CASES:
            rng = np.random.default_rng(0)
            batches = batch_schedule(rng, len(x), batch, args.steps)
            shifts = None if k is None else shift_schedule(rng, batch, k, args.steps)
            config = config_for(backend, kind, batch, k, args.steps)
            loop = handwritten.LOOPS[backend]
            ours = statistics.median(mivb_seconds_per_step(backend, x, z, batches, shifts, config)
                                     for _ in range(args.repeats))
            hand = statistics.median(hand_seconds_per_step(loop, x, z, batches, kind, shifts)
                                     for _ in range(args.repeats))
            start = time.perf_counter()
            mivb.estimate(x, z, backend=backend, critic=kind, negative_samples=k, batch_size=batch, steps=args.steps,
                          early_stopping=False, seed=0)
            total = time.perf_counter() - start
            row = {"backend": backend, "critic": kind, "batch": batch, "negatives": k, "steps": args.steps,
                   "mivb_steps_per_s": 1 / ours, "hand_steps_per_s": 1 / hand,
                   "ratio": ours / hand, "estimate_seconds": total}
            rows.append(row)
            print(f"{backend:<10} {kind:<10} {batch:>5} {row['mivb_steps_per_s']:>12.0f} {row['hand_steps_per_s']:>12.0f}"
                  f" {row['ratio']:>6.2f} {total:>10.1f}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    meta = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, 2 cores", "date": str(date.today())}
    for backend in args.backends:  # one file per backend, so a run of one backend keeps the others' results
        mine = [row for row in rows if row["backend"] == backend]
        name = f"speed_{backend}_quick.json" if args.quick else f"speed_{backend}.json"
        (RESULTS / name).write_text(json.dumps({**meta, "rows": mine}, indent=1))
    return rows


def variants(args) -> list[dict]:
    """Steps per second of the trainer in each precision (and compiled, for torch), by batch size."""
    x, z, _ = mivb.correlated_gaussians(20_000, 20, 0.5, seed=0)
    rows = []
    print(f"\n{'backend':<10} {'batch':>5} {'precision':<9} {'compiled':<8} {'steps/s':>8} {'vs float32':>10} "
          f"{'vs hand':>8}")
    for backend in args.backends:
        for batch in args.batches:
            batches = batch_schedule(np.random.default_rng(0), len(x), batch, args.steps)
            hand = 1.0 if args.device else statistics.median(  # the hand-written loops run on the CPU
                hand_seconds_per_step(handwritten.LOOPS[backend], x, z, batches, "separable", None)
                for _ in range(args.repeats))
            base = None
            for precision in PRECISIONS:
                for compiled in (False, True) if backend == "torch" else (False,):
                    options = {"precision": precision, "compile": compiled, "device": args.device}
                    config = config_for(backend, "separable", batch, None, args.steps, **options)
                    seconds = statistics.median(mivb_seconds_per_step(backend, x, z, batches, None, config)
                                                for _ in range(args.repeats))
                    base = base or seconds
                    versus_hand = None if args.device else hand / seconds
                    rows.append({"backend": backend, "batch": batch, "precision": precision, "compiled": compiled,
                                 "device": args.device or "cpu", "steps_per_s": 1 / seconds, "vs_float32": base / seconds,
                                 "vs_hand": versus_hand})
                    print(f"{backend:<10} {batch:>5} {precision:<9} {compiled!s:<8} {1 / seconds:>8.0f} "
                          f"{base / seconds:>10.2f} {'' if versus_hand is None else f'{versus_hand:.2f}':>8}", flush=True)
    meta = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}", "date": str(date.today()),
            "device": args.device or "cpu"}
    RESULTS.mkdir(exist_ok=True)
    name = f"speed_precision_{args.device or 'cpu'}{'_quick' if args.quick else ''}.json"
    (RESULTS / name).write_text(json.dumps({**meta, "rows": rows}, indent=1))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default 2000, --quick 300)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per contender (default 3, --quick 1)")
    parser.add_argument("--precision", action="store_true", help="add the mixed-precision and compiled table")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 512], help="batch sizes of that table")
    parser.add_argument("--device", default=None, help="torch's device for that table (default cpu)")
    parser.add_argument("--only-precision", action="store_true", help="that table alone")
    args = parser.parse_args()
    args.backends = args.backends or [b for b in handwritten.LOOPS if b in mivb.available_backends()]
    args.steps = args.steps or (300 if args.quick else 2000)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if not args.only_precision:
        run(args)
    if args.precision or args.only_precision:
        variants(args)


if __name__ == "__main__":
    main()
