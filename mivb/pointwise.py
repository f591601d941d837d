"""Pointwise MI: a trained critic's estimate of log r(x, z) = log p(x, z) / (p(x) p(z)) for each pair.

A bound's optimal critic determines r, but each bound pins it down differently (docs/bounds.md):

- ``nwj``'s optimal critic is ``1 + log r``, ``js``'s is ``log r`` and ``tuba``'s is
  ``1 + log r + b(x)`` (its log-baseline): the critic alone gives each pair's ratio.
- DV-type bounds (``dv``, ``mine``, ``smile``) and the contrastive ones (``infonce``, ``alpha``)
  determine the critic only up to a function of the row's sample, ``log r + c(x)``; the upper
  bounds' q(z | x) gives ``log q(z | x)``, whose normaliser is log q(z). Both are normalised over
  the other pairs given: ``T(x_i, z_i) - log mean_{j != i} exp T(x_i, z_j)``, the log-mean over
  samples of the marginal. So these need at least two pairs, and more pairs estimate the
  normaliser better (pairs are scored in chunks of up to ``CHUNK`` pairs, each chunk its own
  reference).
- ``ba`` reads H(Z) from label counts and its classifier's log q(z | x); it gives no ratio per pair.

Each rule maps a chunk's full score matrix (in the critic's layout: rows are x, or z for the
conditional critic of the upper bounds), its log-baselines and the bound's parameters to one value
per pair; a bound carries its rule (``Bound.log_ratio``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .errors import invalid

CHUNK = 2048  # pairs per score matrix: 2048 x 2048 float32 is 16 MiB; a good normaliser needs many


def critic_minus(offset: float) -> Callable[[np.ndarray, np.ndarray | None, Mapping[str, Any]], np.ndarray]:
    """The rule for a critic that is ``offset + log r`` (less its log-baseline, for a bound with one)."""

    def log_ratio(scores: np.ndarray, baseline: np.ndarray | None, params: Mapping[str, Any]) -> np.ndarray:
        return np.diag(scores) - offset - (0.0 if baseline is None else baseline)

    return log_ratio


def normalised(scores: np.ndarray, baseline: np.ndarray | None, params: Mapping[str, Any]) -> np.ndarray:
    """``T_ii - log mean_{j != i} exp T_ij``: the ratio of a critic known up to a function of its row."""
    n = scores.shape[0]
    if n < 2:  # in_chunks gives a chunk of one pair only when one pair is given
        raise invalid("x", "at least 2 pairs: this bound's ratio is normalised over the other pairs given", n)
    others = np.where(np.eye(n, dtype=bool), -np.inf, scores)
    peak = others.max(axis=1, keepdims=True)
    log_mean = peak[:, 0] + np.log(np.exp(others - peak).sum(axis=1)) - np.log(n - 1)
    ratios: np.ndarray = np.diag(scores) - log_mean
    return ratios


def in_chunks(rule: Callable[[np.ndarray, np.ndarray | None, Mapping[str, Any]], np.ndarray],
              scores_of: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]], n: int,
              params: Mapping[str, Any]) -> np.ndarray:
    """``rule`` with the bound's ``params`` over chunks of the ``n`` pairs (``scores_of(indices)``: the
    chunk's score matrix and log-baselines); chunks differ in size by one pair at most, so none is
    left with a single pair."""
    def chunk_ratios(chunk: np.ndarray) -> np.ndarray:
        scores, baseline = scores_of(chunk)
        return rule(np.asarray(scores, np.float64), None if baseline is None else np.asarray(baseline, np.float64),
                    params)

    return np.concatenate([chunk_ratios(chunk) for chunk in np.array_split(np.arange(n), -(-n // CHUNK))])
