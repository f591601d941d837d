"""Shared plumbing of the example scripts: arguments, output folder, optional plotting."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def parser(description: str) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(description=description)
    root.add_argument("--quick", action="store_true", help="a small run that checks the qualitative result")
    root.add_argument("--backend", default=None, help="torch, jax or tensorflow (default: first installed)")
    root.add_argument("--out", default="out", help="folder for plots and tables")
    root.add_argument("--seed", type=int, default=0, help="random seed (the first one where a script runs several)")
    return root


def output_folder(path: str) -> Path:
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        print('plots need matplotlib: pip install "mivb[plot]"; printing tables only')
        return None
    matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
    import matplotlib.pyplot as plt

    return plt
