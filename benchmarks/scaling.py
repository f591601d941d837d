"""Scaling: time and peak memory as the batch (the N x N score matrix) and the held-out set grow.

Each measurement runs in a fresh process so that its peak resident memory is its own.

    python benchmarks/scaling.py [--backend torch] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

BATCH = """
import resource, time, numpy as np, mivb
from mivb.estimate import EstimateConfig
from mivb.schedule import batch_schedule
x, z, _ = mivb.correlated_gaussians(max(4 * {n}, 20_000), 20, 0.5, seed=0)
config = EstimateConfig(backend="{backend}", batch_size={n}, early_stopping=False)
trainer = mivb.get_backend("{backend}").Trainer(config, (x.shape[1:], z.shape[1:]), {{"train": (x, z)}})
batches = batch_schedule(np.random.default_rng(0), len(x), {n}, 60)
trainer.train(batches[:10], None)
start = time.perf_counter()
trainer.train(batches[10:], None)
print((time.perf_counter() - start) / 50, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

HELD_OUT = """
import resource, time, mivb
x, z, _ = mivb.correlated_gaussians({n} * 2, 20, 0.5, seed=0)
start = time.perf_counter()
mivb.estimate(x, z, backend="{backend}", steps=1, test_fraction=0.5, validation_fraction=0.01, seed=0)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def measure(code: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds, megabytes = out.stdout.split()[-2:]
    return float(seconds), float(megabytes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    batches = (128, 512) if args.quick else (128, 512, 2048, 4096)
    held_out = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    rows = []
    print(f"{'what':<10} {'size':>9} {'seconds':>9} {'peak MB':>8}   ({args.backend}, separable critic, d = 20)")
    for n in batches:
        seconds, megabytes = measure(BATCH.format(n=n, backend=args.backend))
        rows.append({"what": "batch", "size": n, "seconds_per_step": seconds, "peak_mb": megabytes})
        print(f"{'batch':<10} {n:>9} {seconds:>9.4f} {megabytes:>8.0f}   (seconds per training step)", flush=True)
    for n in held_out:
        seconds, megabytes = measure(HELD_OUT.format(n=n, backend=args.backend))
        rows.append({"what": "held-out", "size": n, "seconds": seconds, "peak_mb": megabytes})
        print(f"{'held-out':<10} {n:>9} {seconds:>9.2f} {megabytes:>8.0f}   (whole estimate, 1 step)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"scaling_{args.backend}{'_quick' if args.quick else ''}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
