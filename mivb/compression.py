"""Compression before estimation: the Gaussian copula on the trained critic's own embeddings.

Where x or z has too many features for the copula's covariance (``mivb.copula.MAX_FEATURES``), or
is an image, the default's separable critic, score <f(x), g(z)>, has already learned what
low-dimensional summaries of x and z carry their dependence: its towers f and g map each sample to
``critic.embedding`` features (32 by default). The default reads the Gaussian copula
(``mivb.copula``) on those embeddings: the idea of LMI (Gowri, Lun, Klein and Yin, NeurIPS 2024,
"Approximating mutual information of high-dimensional variables using learned representations"),
with the critic's towers as the learned representation instead of a separately trained
autoencoder.

By data processing, I(f(X); g(Z)) <= I(X; Z) for any fixed f and g; what remains is the copula's
own error. Embeddings are not a Gaussian copula: a few latent directions appear in them with their
powers and products, which the Gaussian model would count again, so the model keeps only its
leading canonical directions (``mivb.copula.leading_directions``). The towers were trained on the
training split, whose embeddings are more dependent than new pairs' (the network fits its
training pairs): the directions come from the training embeddings, and the MI along them is read on
each held-out split's embeddings alone, the validation split's to decide whether the default
reports it (``mivb.copula.choose_compressed``), the test split's to report.

This module is the embeddings' side: which critics embed, the adapters' chunking, the validation
reading the estimate must clearly beat, and the critic that scores new pairs through the towers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from .critics import CriticConfig
from .crosscheck import FIT_PAIRS, GAP_NATS, GAP_SHARE, GAP_STDERRS, GaussianCritic
from .errors import MivbError, invalid
from .protocol import VALIDATION_LIMIT, Fitted, score, wide_batch_size
from .samples import prepare

COMPRESSED = "compressed"  # the family's name in ``Estimate.bound``
EMBEDDING_CHUNK = 4096  # samples embedded per call into the framework: bounded memory for images too
SEPARABLE = ("separable", "bilinear")  # the critics whose score is an inner product of two embeddings

Pairs = tuple[np.ndarray, np.ndarray]


def check_separable(config: CriticConfig) -> None:
    """A critic that scores <f(x), g(z)> (the bilinear one: <f(x) W, g(z)>) embeds; others cannot."""
    if config.kind not in SEPARABLE or config.module is not None:
        raise invalid("critic", f"a separable critic ({', '.join(map(repr, SEPARABLE))}) to embed x and z: "
                      f"only its score is an inner product of an embedding of x and one of z",
                      "module" if config.module is not None else config.kind)


def embed_in_chunks(features_of: Callable[[np.ndarray], Sequence[Any]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` samples' embeddings (f(x), g(z)) in float64, from ``features_of(indices)``: a chunk's
    two embeddings as NumPy arrays (the adapters' ``embed``)."""
    chunks = [features_of(chunk) for chunk in np.array_split(np.arange(n), max(1, -(-n // EMBEDDING_CHUNK)))]
    return (np.concatenate([np.asarray(fx, np.float64) for fx, _ in chunks]),
            np.concatenate([np.asarray(gz, np.float64) for _, gz in chunks]))


def summaries(estimator: Any, x: np.ndarray, z: np.ndarray) -> Pairs:
    """Each sample's embedding (``estimator.embed``) with the log radius log |x|^2 of the sample itself
    appended: the one summary that carries an elliptical law's shared scale (a Student-t's MI, all of
    it with identity dispersion), which a tower trained on few pairs per feature need not learn."""
    u, v = estimator.embed(x, z)
    return np.concatenate([u, log_radius(x)], axis=1), np.concatenate([v, log_radius(z)], axis=1)


def log_radius(samples: np.ndarray) -> np.ndarray:
    """log |s|^2 of each sample, as a column (float64; the smallest float where a sample is all zeros)."""
    flat = np.asarray(samples, np.float64).reshape(len(samples), -1)
    radii: np.ndarray = np.log(np.maximum(np.sum(flat**2, axis=1, keepdims=True), np.finfo(np.float64).tiny))
    return radii


class Embedded(NamedTuple):
    """The training pairs' embeddings as ``summaries`` gives them (``reference``: what new embeddings are
    mapped against), the training (at most FIT_PAIRS) and validation pairs' embeddings with each
    feature mapped to a normal against them (``splits``), and the trained ``estimator`` that embeds
    other pairs alike (``of``: the test split's only once the validation split chose the model)."""

    reference: Pairs
    splits: list[Pairs]
    estimator: Any  # the adapter's trained estimator (mivb.backends.TrainedEstimator)

    def of(self, x: np.ndarray, z: np.ndarray) -> Pairs:
        """New pairs' embeddings, each feature mapped to a normal against the training pairs'."""
        u, v = summaries(self.estimator, x, z)
        return (prepare("gaussianize", self.reference[0], u, argument="x")[1],
                prepare("gaussianize", self.reference[1], v, argument="z")[1])


def embedded(fitted: Fitted) -> Embedded | None:
    """The training and validation splits embedded by ``fitted``'s critic (None where an embedding
    feature is constant on the training pairs: a tower that collapsed carries nothing to read)."""
    assert fitted.train_pairs is not None and fitted.validation_pairs is not None
    estimator = fitted.trainer.trained()
    train_x, train_z = fitted.train_pairs
    raw = [summaries(estimator, *pairs) for pairs in ((train_x[:FIT_PAIRS], train_z[:FIT_PAIRS]), fitted.validation_pairs)]
    try:
        us = prepare("gaussianize", *(u for u, _ in raw), argument="x")
        vs = prepare("gaussianize", *(v for _, v in raw), argument="z")
    except MivbError:
        return None
    return Embedded(raw[0], list(zip(us, vs)), estimator)


@dataclass(frozen=True)
class EmbeddingCritic(GaussianCritic):
    """The copula's critic on a separable network's embeddings: pairs are embedded and each embedding
    feature mapped to a normal against the training split's embeddings (``embeddings.of``), then
    scored by ``model``. ``mivb.Estimate.pointwise`` reads the ratio off it."""

    model: GaussianCritic | None = None
    embeddings: Embedded | None = None

    def canonical(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self.model is not None and self.embeddings is not None
        return self.model.canonical(*self.embeddings.of(x, z))


def network_reading(fitted: Fitted) -> np.ndarray:
    """The network's bound on validation batches: on batches of the training size or on wide ones
    (``mivb.protocol.wide_batch_size``), whichever reads more."""
    assert fitted.validation_pairs is not None
    config, n = fitted.config, len(fitted.validation_pairs[0])
    sizes = dict.fromkeys((config.batch_size, wide_batch_size(min(n, VALIDATION_LIMIT), config.batch_size)))
    readings = [score(fitted.trainer, np.random.default_rng(fitted.comparison_seed), "validation", n,
                      replace(config, batch_size=size), VALIDATION_LIMIT)[0] for size in sizes]
    return max(readings, key=lambda values: float(values.mean()))


def reads_clearly_more(mi: float, stderr: float, bound_values: np.ndarray) -> bool:
    """Whether an estimate ``mi`` reads clearly more than a lower bound's values (one per batch): by
    GAP_NATS, GAP_SHARE of the estimate and GAP_STDERRS standard errors (``mivb.crosscheck``'s margins)."""
    if len(bound_values) < 2:
        return False
    noise = math.hypot(float(bound_values.std(ddof=1) / math.sqrt(len(bound_values))), stderr)
    return mi - float(bound_values.mean()) > max(GAP_NATS, GAP_SHARE * abs(mi), GAP_STDERRS * noise)
