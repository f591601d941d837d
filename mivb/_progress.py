"""A one-line progress bar on stderr, shown only on a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, enabled: bool | None, label: str):
        self.total, self.label, self.done = total, label, 0
        self.enabled = sys.stderr.isatty() if enabled is None else bool(enabled)
        self.start = time.perf_counter()

    def advance(self, steps: int, value: float) -> None:
        self.done += steps
        if not self.enabled:
            return
        filled = int(30 * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        bar = "#" * filled + "-" * (30 - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {self.done}/{self.total} mi={value:.3f} {elapsed:.1f}s")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()
