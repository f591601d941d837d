"""What every benchmark records of its run and writes to benchmarks/results/: when, where, how."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import mivb

RESULTS = Path(__file__).resolve().parent / "results"


def run_metadata(script: str, **extra: object) -> dict:
    """The date, the machine, the exact command and mivb's version, with ``extra`` fields."""
    return {"date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
                       f"Python {platform.python_version()}",
            "command": " ".join([f"python benchmarks/{script}", *sys.argv[1:]]), **extra, "mivb": mivb.__version__}


def write_results(rows: list[dict], meta: dict, stem: str, fields: list[str] | None = None) -> None:
    """``rows`` as CSV and, with ``meta``, as JSON: results/<stem>.csv and .json."""
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / f"{stem}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (RESULTS / f"{stem}.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    print(f"results written to {RESULTS / stem}.csv and .json")


def proportion(hits: Sequence[bool]) -> tuple[float, float]:
    """A rate over draws and its Monte Carlo standard error, sqrt(r (1 - r) / draws)."""
    rate = sum(map(bool, hits)) / len(hits)
    return rate, math.sqrt(rate * (1 - rate) / len(hits))


@contextmanager
def quiet() -> Iterator[None]:
    """mivb's notes (UserWarnings) unshown: a benchmark counts them in its rows instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield
