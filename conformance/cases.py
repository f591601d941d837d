"""The fixed inputs of the conformance suite, as data with readable ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mivb import BOUNDS, MivbError


@dataclass(frozen=True)
class ScoreCase:
    """Critic scores in one layout: ``k=None`` is a full (n, n) matrix, else pos (n,) and neg (n, k)."""

    n: int
    k: int | None
    scale: float
    dtype: str
    pattern: str = "normal"

    @property
    def id(self) -> str:
        layout = "full" if self.k is None else f"K{self.k}"
        return f"{layout}-N{self.n}-{self.pattern}{self.scale:g}-{self.dtype}"

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Deterministic scores, already rounded to ``dtype`` (the reference sees the same numbers)."""
        rng = np.random.default_rng(1000 * self.n + (self.k or 0))
        columns = self.n if self.k is None else self.k + 1
        if self.pattern == "zeros":
            scores = np.zeros((self.n, columns))
        elif self.pattern == "extreme":  # every score at +-scale: the overflow test of docs/bounds.md
            scores = self.scale * rng.choice([-1.0, 1.0], size=(self.n, columns))
        else:
            scores = self.scale * np.tanh(rng.standard_normal((self.n, columns)))
        scores = scores.astype(self.dtype)
        return (scores,) if self.k is None else (scores[:, 0].copy(), scores[:, 1:].copy())

    def baseline(self) -> np.ndarray:
        """A log-baseline per row, for the bounds that read one, on the scale of the scores."""
        rng = np.random.default_rng(7 * self.n + (self.k or 0))
        return (0.1 * self.scale * np.tanh(rng.standard_normal(self.n))).astype(self.dtype)


SCORE_CASES = [
    ScoreCase(n, k, scale, dtype, pattern)
    for dtype in ("float64", "float32")
    for n, k, scale, pattern in (
        (2, None, 1.0, "normal"),
        (16, None, 10.0, "normal"),
        (64, None, 80.0, "normal"),
        (32, None, 80.0, "extreme"),
        (5, None, 0.0, "zeros"),
        (8, 1, 3.0, "normal"),
        (16, 5, 10.0, "normal"),
        (32, 31, 80.0, "extreme"),
        (4, 2, 0.0, "zeros"),
    )
]

def bound_cases() -> list[tuple[str, dict]]:
    """(bound, parameters) pairs: every registered bound with a reference, at its defaults, and each
    bound's own further cases (``Bound.cases``: mine after some history, with log_ema given); read when
    the suite is collected, so bounds registered before then are checked too."""
    checked = [name for name, bound in BOUNDS.items() if bound.reference is not None]
    return ([(name, {}) for name in checked if defaults_suffice(name)]
            + [(name, dict(case)) for name in checked for case in BOUNDS[name].cases])


def defaults_suffice(name: str) -> bool:
    """Whether the bound runs on its default parameters (``ba`` needs ``entropy``, given in its cases)."""
    try:
        BOUNDS[name].resolve_params({})
    except MivbError:
        return False
    return True


def bound_case_id(name: str, params: dict) -> str:
    return name + "".join(f"-{key}{value}" for key, value in params.items())


# MINE's EMA: a sequence of negative-score batches of varying size and scale, folded in one by one.
EMA_DECAYS = (0.99, 0.5)


def ema_batches(dtype: str) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    shapes_scales = [((8, 7), 1.0), ((16, 15), 5.0), ((4, 1), 80.0), ((8, 3), 0.0), ((32, 31), 20.0)]
    return [(scale * rng.standard_normal(shape)).astype(dtype) for shape, scale in shapes_scales]


# Adaptive clipping: gradient lists of the loss and of the MI term over the same parameters.
def clipping_cases(dtype: str) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    rng = np.random.default_rng(11)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    small = [(0.01 * rng.standard_normal(s)).astype(dtype) for s in shapes]
    large = [(10.0 * rng.standard_normal(s)).astype(dtype) for s in shapes]
    zero = [np.zeros(s, dtype) for s in shapes]
    return {"mi-larger": (small, large), "mi-smaller": (large, small), "mi-zero": (large, zero),
            "both-zero": (zero, zero)}


@dataclass(frozen=True)
class GaussianCase:
    """Correlated Gaussians with known MI; ``tolerance`` in nats, InfoNCE judged against min(I, log N)."""

    bound: str
    mi: float
    tolerance: float
    dim: int = 5
    critic: str | None = None  # None: the bound's own (conditional for the upper bounds, else separable)
    negative_samples: int | None = None
    against_exact_q: bool = False  # an upper bound judged against what it reads with the exact q(z | x), above the MI

    @property
    def id(self) -> str:
        extra = "" if self.critic is None else f"-{self.critic}"
        extra += "" if self.negative_samples is None else f"-K{self.negative_samples}"
        return f"{self.bound}-I{self.mi:g}-d{self.dim}{extra}"
