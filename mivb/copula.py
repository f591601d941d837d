"""Gaussian-copula MI: a flow to a jointly Gaussian latent, and the MI of that latent in closed form.

Normalizing-flow MI estimators (Butakov et al., NeurIPS 2024, "Mutual information estimation via
normalizing flows") map x and z through invertible maps f and g to a latent whose joint law is
modelled as Gaussian. MI is invariant to invertible maps, so I(X; Z) = I(f(X); g(Z)), and a
Gaussian latent's MI is closed-form: -1/2 sum_k log(1 - rho_k^2) over its canonical correlations.
When f(X) and g(Z) are each exactly Gaussian, that value is a lower bound on I(f(X); g(Z)): the
Gaussian has the most entropy for its covariance.

This module is that estimator with the simplest flows, and no training. f and g map each feature
to a standard normal through its ranks (``transform="gaussianize"``, fitted on the training
split), then whiten the block and rotate it onto the canonical directions
(``mivb.crosscheck.GaussianCritic``). The estimate is exact, up to sampling noise,
for every distribution whose copula is Gaussian, whatever its marginals (heavy tails, skew,
monotone distortions of each feature), and it reads at any MI and in hundreds of dimensions, where
critic-trained bounds are capped near log(batch) and need many pairs per dimension. It misses
dependence that no per-feature map makes linear (z = x^2; a shared scale, below). That is why
`estimate`'s default also trains a critic and keeps the copula only where the critic's held-out
InfoNCE on the validation split reads no more than the copula's estimate (``choose``). Past
MAX_FEATURES features, and for images, the default reads the copula on the critic's own
embeddings instead (``choose_compressed``; ``mivb.compression``).

A shared scale is the one such dependence the copula does model: elliptical laws (the
multivariate Student-t, stochastic volatility) tie x and z through their radii. So each block also
gets its log radius log |u|^2 as one more coordinate, normal-scored on the training split
(``RadialCritic``; (|u|, u / |u|) is an invertible map of u); that model
is kept only where its critic reads clearly more than the plain one on the validation split. On a
Student-t with identity dispersion the radii carry all the MI: the plain copula reads about 0
there, the radial one within 10% of the truth at 25 + 25 and 50 + 50 dimensions
(benchmarks/frontier.py).

Bias: the MI of the sample covariance of n pairs reads about d_x d_z / (2n) nats above the truth
(1 nat at d = 200 + 200 and n = 20,000). For n Gaussian samples in d dimensions,
E log det S = log det Sigma + d log(2/n) + sum_{i=1..d} psi((n - i)/2) (the log-determinant of a
Wishart matrix; Misra, Singh and Demchuk 2005); subtracting that offset from each of the MI's
three log-determinants leaves the estimate unbiased for Gaussian data. Where the blocks' scales
move together, each sample cross-covariance is noisier than a Gaussian's: its variance is
E[u_i^2 v_j^2] / n, not 1 / n. So the offset is scaled by the pairs' own fourth moment,
kappa = mean(|u|^2 |v|^2) / (d_x d_z) over the whitened training pairs: 1.00 on Gaussian data (1.06
at 10 nats), 1.4 on a Student-t with 5 degrees of freedom, where the unscaled offset left the
estimate 0.53 nats high at 200 dimensions a side and 1.8 at 500.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from .arguments import EstimateArguments
from .compression import (
    COMPRESSED,
    SEPARABLE,
    Embedded,
    EmbeddingCritic,
    embedded,
    network_reading,
    reads_clearly_more,
)
from .crosscheck import (
    FIT_PAIRS,
    GAP_NATS,
    GAP_SHARE,
    GAP_STDERRS,
    PAIRS_PER_DIMENSION,
    GaussianCritic,
    clearly_above,
    linear_batch_size,
    linear_values,
)
from .errors import MivbError, Shown, invalid
from .intervals import crossfit
from .notes import warn
from .pipeline import result, seed_or_drawn, trained_inputs
from .protocol import VALIDATION_LIMIT, Fitted, fit, held_out_batches, random_streams, score, split_pairs
from .result import AUTO, NETWORK_BOUND, Estimate, EstimateConfig
from .samples import PairTransform, as_samples, check_paired, prepare

COPULA = "copula"
# d_x + d_z: the covariance costs O(n d^2) and n d float64s (40,000 pairs of 1,024 features: 330 MB).
MAX_FEATURES = 1024
COMPARISON_BATCHES = 8  # the fewest validation batches the network is held against the copula on

# Transforms under which the training pairs' features are already mapped to standard normals.
GAUSSIANIZING = ("auto", "gaussianize")


def log_det_offset(dimensions: int, n: int) -> float:
    """E[log det S] - log det Sigma for the (1/n-normalised) sample covariance S of n Gaussian samples."""
    from scipy.special import digamma  # imported here: `import mivb` stays fast

    i = np.arange(1, dimensions + 1)
    return float(dimensions * math.log(2.0 / n) + digamma((n - i) / 2.0).sum())


def copula_mi(critic: GaussianCritic, x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """The MI of ``critic``'s Gaussian model, fitted to the pairs ``x``, ``z``, with its sampling bias
    removed (the Wishart offset, scaled by the pairs' fourth moment kappa), and the delta method's
    standard error sqrt(sum_k rho_k^2 / n)."""
    n, (u, v) = len(x), critic.canonical(x, z)
    dx, dz = u.shape[1], v.shape[1]
    kappa = float(np.mean(np.sum(u**2, axis=1) * np.sum(v**2, axis=1))) / (dx * dz)
    bias = 0.5 * (log_det_offset(dx, n) + log_det_offset(dz, n) - log_det_offset(dx + dz, n))
    return critic.mi - kappa * bias, math.sqrt(float(np.sum(critic.rho**2)) / n)


@dataclass(frozen=True)
class RadialCritic(GaussianCritic):
    """The Gaussian critic of each block with its log radius log |u|^2 appended as one more coordinate,
    normal-scored against the training pairs' radii (``x_radii``, ``z_radii``): the copula of an
    elliptical law, whose blocks depend through a shared scale."""

    x_radii: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    z_radii: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))

    @classmethod
    def fit(cls, x: np.ndarray, z: np.ndarray) -> RadialCritic:
        x_radii, z_radii = _log_radius(x), _log_radius(z)
        gaussian = GaussianCritic.fit(*_with_radii(x, z, x_radii, z_radii, x_radii, z_radii))
        return cls(gaussian.x_mean, gaussian.z_mean, gaussian.x_map, gaussian.z_map, gaussian.rho, x_radii, z_radii)

    def canonical(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x and z with their normal-scored log radii appended, in the model's coordinates."""
        return super().canonical(*_with_radii(x, z, self.x_radii, self.z_radii, _log_radius(x), _log_radius(z)))


def denoised(critic: GaussianCritic, n: int) -> GaussianCritic:
    """``critic`` with its canonical correlations below the noise edge set to 0.

    With no dependence at all, the largest squared canonical correlation of n pairs of d_x and d_z
    dimensions sits near (sqrt(d_x / n) + sqrt(d_z / n))^2 (Wachter 1980; Johnstone 2008): 0.06 at
    200 + 200 dimensions and 14,000 pairs. A log density ratio that keeps every direction adds each
    one's noise to every score, and on held-out pairs reads far below the model's MI (0.58 against
    2.0 there); cut, it reads what the directions above the edge hold. The estimate itself, from
    every direction with its bias removed ([`copula_mi`][mivb.copula.copula_mi]), is unchanged.
    """
    edge = (math.sqrt(critic.x_map.shape[1] / n) + math.sqrt(critic.z_map.shape[1] / n)) ** 2
    return replace(critic, rho=np.where(critic.rho**2 > edge, critic.rho, 0.0))


def _log_radius(samples: np.ndarray) -> np.ndarray:
    flat = np.asarray(samples, np.float64).reshape(len(samples), -1)
    radii: np.ndarray = np.log(np.maximum(np.sum(flat**2, axis=1, keepdims=True), np.finfo(np.float64).tiny))
    return radii


def _with_radii(x: np.ndarray, z: np.ndarray, x_reference: np.ndarray, z_reference: np.ndarray,
                x_radii: np.ndarray, z_radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and z with their log radii appended, normal-scored against the training pairs' (the references)."""
    def appended(samples: np.ndarray, reference: np.ndarray, radii: np.ndarray, argument: str) -> np.ndarray:
        scored = prepare("gaussianize", reference, radii, argument=argument)[1]
        return np.concatenate([np.asarray(samples, np.float64).reshape(len(samples), -1), scored], axis=1)

    return appended(x, x_reference, x_radii, "x"), appended(z, z_reference, z_radii, "z")


class CopulaFit(NamedTuple):
    """The copula of some training pairs: ``model``, every canonical direction (its MI is the estimate),
    ``critic``, the same model [`denoised`][mivb.copula.denoised] (its log density ratio scores held-out
    pairs), and that critic's InfoNCE on each validation batch."""

    model: GaussianCritic
    critic: GaussianCritic
    validation: np.ndarray


def fit_copula(train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
               batches: np.ndarray) -> CopulaFit:
    """The copula of the (gaussianized) training pairs: the plain Gaussian one, or the radial one where
    its critic reads clearly more on the same validation batches."""
    fits = []
    for model in (GaussianCritic.fit(*train), RadialCritic.fit(*train)):
        critic = denoised(model, len(train[0]))
        fits.append(CopulaFit(model, critic, linear_values(critic, *validation, batches, "infonce", {})))
    plain, radial = fits
    return radial if clearly_above(plain.validation, radial.validation) else plain


def copula(x: Any, z: Any, arguments: EstimateArguments) -> Estimate:
    """``estimate(x, z, bound="copula")``: the Gaussian copula of the training split, no network.

    The pairs are split as ``estimate`` splits them; the MI is the bias-corrected MI of the Gaussian
    model of the gaussianized training pairs (with their log radii where that reads clearly more on
    the validation split), and ``lower`` the InfoNCE of that model's log density ratio on the test
    pairs (batches of up to 1,024). With ``folds``, each fold's in turn and their interval.
    """
    transform = arguments.transform
    if transform not in GAUSSIANIZING:
        raise invalid("transform", f"one of {', '.join(map(repr, GAUSSIANIZING))} for bound='copula', whose flow maps "
                      f"each feature to a standard normal", transform)
    if arguments.given is not None:
        raise invalid("given", "None for bound='copula' (conditional MI: a bound, or 'gaussian')", arguments.given)
    x_all, z_all = as_samples("x", x), as_samples("z", z)
    check_paired(x_all, z_all)
    check_vectors(x_all, z_all)
    config = EstimateConfig(bound=COPULA, backend="numpy", steps=0, transform="gaussianize",
                            test_fraction=arguments.test_fraction, batch_size=arguments.batch_size,
                            seed=seed_or_drawn(arguments.seed), folds=arguments.folds, level=arguments.level,
                            linear_fallback=False)
    folds = [None] if config.folds is None else list(range(config.folds))
    per_fold = [_copula_fold(x_all, z_all, config, fold) for fold in folds]
    estimate = per_fold[0] if config.folds is None else crossfit(config, per_fold)
    warn(estimate.notes, stacklevel=3)
    return estimate


def _copula_fold(x: np.ndarray, z: np.ndarray, config: EstimateConfig, fold: int | None) -> Estimate:
    split_rng, _, validation_rng, test_rng, _ = random_streams(config.seed, fold)
    indices, config, notes = split_pairs(split_rng, x, z, config, fold)
    train, validation, test = indices
    xs = prepare(config.transform, x[train], x[validation], x[test], argument="x")
    zs = prepare(config.transform, z[train], z[validation], z[test], argument="z")
    n_train = min(len(train), FIT_PAIRS)
    dimensions = xs[0].shape[1] + zs[0].shape[1] + 2  # with the two log radii
    if n_train < PAIRS_PER_DIMENSION * dimensions:
        raise invalid("x", f"at least {PAIRS_PER_DIMENSION} (d_x + d_z + 2) training pairs for the copula's covariance",
                      Shown(f"{len(train)} training pairs of d_x + d_z = {dimensions - 2}"))
    batches = held_out_batches(validation_rng, len(validation), config, VALIDATION_LIMIT)
    train_pairs = (xs[0][:n_train], zs[0][:n_train])
    model, critic, _ = fit_copula(train_pairs, (xs[1], zs[1]), batches)
    mi, stderr = copula_mi(model, *train_pairs)
    size = linear_batch_size(len(test), config.batch_size)
    values = linear_values(critic, xs[2], zs[2], held_out_batches(test_rng, len(test), replace(config, batch_size=size)),
                           "infonce", {})
    prepare_new = PairTransform(config.transform, config.transform, x, z, train)
    lower = Estimate(mi=float(values.mean()), stderr=_stderr(values), history=np.zeros(0), bound="infonce",
                     backend="numpy", config=replace(config, bound="infonce", batch_size=size), test_values=values,
                     ceiling=math.log(size), kind="lower", linear_critic=critic, prepare_new=prepare_new,
                     stop_reason="none (the copula's critic, no training)")
    return Estimate(mi=mi, stderr=stderr, history=np.zeros(0), bound=COPULA, backend="numpy", config=config,
                    test_values=np.array([mi]), notes=tuple(notes), kind="estimate", linear_critic=critic,
                    prepare_new=prepare_new, lower=lower, stop_reason="none (a closed-form model, no training)")


def auto(x: Any, z: Any, arguments: EstimateArguments) -> Estimate:
    """``estimate``'s default (``bound=None``): the network's held-out InfoNCE, and the Gaussian copula of
    the same training pairs wherever the network's InfoNCE on the validation split reads no more than
    the copula's estimate ([`choose`][mivb.copula.choose]); where the copula of the data does not apply,
    the copula on the critic's embeddings where it reads clearly more than the network on validation
    (``choose_compressed``). Each fold decides, and a copula is reported only when every fold chose
    the same one."""
    arguments = replace(arguments, bound=NETWORK_BOUND)
    config, x_all, z_all, labels = trained_inputs(x, z, arguments)
    folds = [None] if config.folds is None else list(range(config.folds))
    networks: list[Estimate] = []
    copulas: list[Estimate] = []
    for fold in folds:
        fitted = fit(x_all, z_all, config, labels, arguments.progress, arguments.callback, fold)
        networks.append(result(fitted, warn=False))
        alternative = choose(fitted, networks[-1]) or choose_compressed(fitted, networks[-1])
        copulas += [alternative] if alternative is not None else []
    chosen = networks
    if len(copulas) == len(networks) and len({copula.bound for copula in copulas}) == 1:
        chosen, config = copulas, replace(config, bound=AUTO)
    estimate = chosen[0] if config.folds is None else crossfit(config, chosen)
    warn(estimate.notes, stacklevel=3)
    return estimate


def choose(fitted: Fitted, network: Estimate) -> Estimate | None:
    """The copula's estimate from ``fitted``'s training pairs, with ``network`` as its ``lower``, unless
    the network's InfoNCE on the validation split reads clearly more than that estimate (a held-out
    lower bound above it shows dependence the copula misses), or its test value (``network.mi``)
    reads more at all (the estimate would then report less than the test pairs certify): then None.
    The data's notes (``fitted.notes``: repeated pairs) go with the copula's estimate.

    The network is held against the copula's estimate, not against its critic's InfoNCE: in
    hundreds of dimensions that critic reads far below the model's MI (its directions are noisy),
    and the network would win comparisons that say nothing about the model.

    None too where the copula does not apply ([`applies`][mivb.copula.applies]), or with fewer than
    two validation batches, or x and z the same array (the network's estimate says why no finite
    value is the answer).
    """
    config = fitted.config
    if (fitted.train_pairs is None or fitted.validation_pairs is None or not applies(config, *fitted.train_pairs)
            or fitted.x_is_z or len(fitted.validation_pairs[0]) < 4):
        return None
    n = len(fitted.validation_pairs[0])
    batches = held_out_batches(np.random.default_rng(fitted.comparison_seed), n, config, VALIDATION_LIMIT)
    # Any held-out lower bound above the estimate shows missed dependence, also one on smaller batches:
    # at least COMPARISON_BATCHES of them, so that the spread of their values is measured, not guessed.
    comparison = replace(config, batch_size=max(2, min(config.batch_size, min(n, VALIDATION_LIMIT) // COMPARISON_BATCHES)))
    network_values, _ = score(fitted.trainer, np.random.default_rng(fitted.comparison_seed), "validation", n,
                              comparison, VALIDATION_LIMIT)
    train_x, train_z = fitted.train_pairs
    n_train = min(len(train_x), FIT_PAIRS)
    train_pairs = (train_x[:n_train], train_z[:n_train])
    model, critic, _ = fit_copula(train_pairs, fitted.validation_pairs, batches)
    mi, stderr = copula_mi(model, *train_pairs)
    if len(network_values) < 2 or reads_more(network_values, mi, stderr):
        return None
    if network.mi > mi:  # what the test pairs certify is more than the estimate: never report less
        return None
    return replace(network, mi=mi, stderr=stderr, bound=COPULA, kind="estimate", config=replace(config, bound=AUTO),
                   test_values=np.array([mi]), ceiling=None, notes=tuple(fitted.notes), unreliable=False,
                   interval=None, linear_critic=critic, lower=network)


def choose_compressed(fitted: Fitted, network: Estimate) -> Estimate | None:
    """The copula on the embeddings of ``fitted``'s critic (``mivb.compression``), read on the test
    split, with ``network`` as its ``lower``, where it applies (``compresses``)
    and its reading on the validation split's embeddings is clearly more than the network's InfoNCE
    there; else None, and None where the network's test value (``network.mi``) reads as much (the
    estimate would report less than the test pairs certify).

    Embeddings are no Gaussian copula: 32 features made from a few latent directions hold each
    latent's own direction and then its products and powers, whose canonical correlations
    (rho^2, rho^3, ... for Hermite polynomials of a Gaussian) the Gaussian model would add as if
    they were new information (8.4 nats from the 32 + 32 embeddings of a 3.95-nat pair, against 3.85
    from the first 4 directions alone). So the model keeps only its first m canonical directions,
    the model (plain or with log radii) and m being those whose log density ratio, fitted on the
    training embeddings, reads the most InfoNCE on the validation split (``truncated``:
    a direction that repeats what earlier ones hold makes the ratio overconfident, and that reading
    drops). The MI is then that of those m + m coordinates of each held-out split alone
    (``projected_mi``).
    """
    embeddings = embedded(fitted) if compresses(fitted) else None
    if embeddings is None:
        return None
    critic, m = embedding_model(fitted, embeddings)
    validation_mi, validation_stderr = projected_mi(critic, m, *embeddings.splits[1])
    if not reads_clearly_more(validation_mi, validation_stderr, network_reading(fitted)):
        return None  # before the test split is embedded: images spend seconds on it
    try:
        test = embeddings.of(*fitted.test_pairs)
    except MivbError:  # a test embedding float32 cannot hold (a diverged tower): nothing to read
        return None
    mi, stderr = projected_mi(critic, m, *test)
    if network.mi >= mi:
        return None
    scorer = EmbeddingCritic(critic.x_mean, critic.z_mean, critic.x_map, critic.z_map, critic.rho, model=critic,
                             embeddings=embeddings)
    return replace(network, mi=mi, stderr=stderr, bound=COMPRESSED, kind="estimate",
                   config=replace(fitted.config, bound=AUTO), test_values=np.array([mi]), ceiling=None,
                   notes=tuple(fitted.notes), unreliable=False, interval=None, linear_critic=scorer, lower=network)


def embedding_model(fitted: Fitted, embeddings: Embedded) -> tuple[GaussianCritic, int]:
    """The copula of ``embeddings``' training split cut to its first m directions, and m, chosen on
    their validation split (``leading_directions``) with the batches the default compares on."""
    train, validation = embeddings.splits
    n = len(validation[0])
    wide = replace(fitted.config, batch_size=linear_batch_size(n, fitted.config.batch_size))
    return leading_directions(train, validation, held_out_batches(np.random.default_rng(fitted.comparison_seed), n,
                                                                  wide, VALIDATION_LIMIT))


def leading_directions(train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
                       batches: np.ndarray) -> tuple[GaussianCritic, int]:
    """The copula of the (gaussianized) ``train`` pairs, plain or with log radii, truncated to its first m
    canonical directions, and m: the one of every such model whose log density ratio reads the most
    InfoNCE on the ``validation`` pairs' ``batches`` (rows of indices)."""
    candidates = [(truncated(model, m), m) for model in (GaussianCritic.fit(*train), RadialCritic.fit(*train))
                  for m in range(1, len(model.rho) + 1)]
    readings = [float(linear_values(critic, *validation, batches, "infonce", {}).mean()) for critic, _ in candidates]
    return candidates[int(np.argmax(readings))]


def truncated(model: GaussianCritic, m: int) -> GaussianCritic:
    """``model`` with only its first ``m`` canonical directions (the most correlated): the others' rho set to 0."""
    return replace(model, rho=np.where(np.arange(len(model.rho)) < m, model.rho, 0.0))


def projected_mi(model: GaussianCritic, m: int, x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """The bias-corrected MI (``copula_mi``) of the Gaussian fitted to the pairs'
    first ``m`` canonical coordinates under ``model`` (directions found on other pairs), and its
    standard error."""
    a, b = model.canonical(x, z)
    a, b = a[:, :m], b[:, :m]
    return copula_mi(GaussianCritic.fit(a, b), a, b)


def compresses(fitted: Fitted) -> bool:
    """Whether the default may read the copula on ``fitted``'s embeddings: where the copula of the data
    itself does not apply for its shape (images, more than MAX_FEATURES features, or too few
    training pairs for them: ``applies``), with the default critic (a separable
    one) and transform, and PAIRS_PER_DIMENSION validation and test pairs per embedding feature."""
    config = fitted.config
    if (fitted.train_pairs is None or fitted.validation_pairs is None or fitted.x_is_z or not config.linear_fallback
            or config.transform not in GAUSSIANIZING or config.critic.kind not in SEPARABLE
            or config.critic.module is not None or applies(config, *fitted.train_pairs)):
        return False
    features = 2 * (config.critic.embedding + 2)  # with each sample's log radius, and the embedding's
    return min(len(fitted.validation_pairs[0]), fitted.test_size) >= PAIRS_PER_DIMENSION * features


def reads_more(bound_values: np.ndarray, mi: float, stderr: float) -> bool:
    """Whether a lower bound's values (one per batch) read clearly more than an estimate ``mi``: by
    GAP_NATS, GAP_SHARE of the bound and GAP_STDERRS standard errors (mivb.crosscheck's margins)."""
    bound = float(bound_values.mean())
    noise = math.hypot(_stderr(bound_values), stderr)
    return bound - mi > max(GAP_NATS, GAP_SHARE * abs(bound), GAP_STDERRS * noise)


def applies(config: EstimateConfig, x: np.ndarray, z: np.ndarray) -> bool:
    """Whether the default may report the copula of these (transformed) training pairs: vectors of at
    most MAX_FEATURES features in all, PAIRS_PER_DIMENSION training pairs per feature, a transform
    that gaussianizes, and the default critic (``linear_fallback``: a critic you chose is what you
    asked to measure)."""
    if x.ndim != 2 or z.ndim != 2 or x.shape[1] + z.shape[1] > MAX_FEATURES:
        return False
    features = x.shape[1] + z.shape[1] + 2  # with the two log radii
    return (config.linear_fallback and config.transform in GAUSSIANIZING
            and min(len(x), FIT_PAIRS) >= PAIRS_PER_DIMENSION * features)


def check_vectors(x: np.ndarray, z: np.ndarray) -> None:
    """The copula models vectors: images' pixels are too many, and too dependent, for its covariance."""
    for argument, samples in (("x", x), ("z", z)):
        if samples.ndim > 2:
            raise invalid(argument, "vectors, shape (n, d), for bound='copula' (images: the default, or a conv critic)",
                          samples)
    if x.shape[1] + z.shape[1] > MAX_FEATURES:
        raise invalid("x, z", f"at most d_x + d_z = {MAX_FEATURES} features for bound='copula'",
                      Shown(f"d_x + d_z = {x.shape[1] + z.shape[1]}"))


def _stderr(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
