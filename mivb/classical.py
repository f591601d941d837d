"""Classical, training-free MI estimators of vector samples: KSG and the Gaussian model.

- ``ksg``: the k-nearest-neighbour estimator of Kraskov, Stoegbauer and Grassberger,
  "Estimating mutual information", Phys. Rev. E 69, 066138 (2004), their algorithm 1.
- ``gaussian``: the MI of the jointly Gaussian distribution with the samples' covariance,
  -1/2 sum log(1 - rho_i^2) over the canonical correlations rho_i of Hotelling, "Relations between
  two sets of variates", Biometrika 28, 321 (1936); computed as in Bjoerck and Golub, "Numerical
  methods for computing angles between linear subspaces", Math. Comp. 27, 579 (1973).

Both take NumPy arrays of shape (n,) or (n, d), return ``(mi_nats, stderr)`` and need no
framework. ``ksg`` needs SciPy (``pip install "mivb[classical]"``), imported when it is called,
so ``import mivb`` never needs it; ``gaussian`` needs only NumPy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BackendNotAvailableError, Shown, UnknownNameError, invalid
from .notes import note
from .samples import as_samples, check_paired

KSG_MAX_DIMENSIONS = 20  # d_x + d_z: beyond this, neighbour distances all look alike (see ksg)
KSG_SECONDS_LIMIT = 60.0  # ksg refuses samples it estimates would take longer (see ksg)
KSG_PILOT_POINTS = 1000  # the points ksg times first, to estimate the whole run
# gaussian takes a canonical correlation rho with 1 - rho^2 below this for exactly 1, and a block whose
# correlation matrix has an eigenvalue below it for singular: an exact linear relation, rounded. Measured
# on z = x A + b (n = 100 to 4 000 000, d = 1 to 100): 1 - rho^2 came out within 3e-15 of 0 in float64,
# and at most 3.4e-14 with x and z rounded to float32. 1e-10 keeps 3000 times above that, and refuses
# only MI above 11.5 nats per canonical pair (a relation with noise 1e-5 times the signal's scale).
SINGULAR_TOLERANCE = 1e-10


def ksg(x: Any, z: Any, k: int = 3) -> tuple[float, float]:
    """I(X; Z) in nats by the KSG estimator (Kraskov et al. 2004, algorithm 1), with its standard error.

    For each sample i, eps_i is the max-norm distance to its k-th nearest neighbour in the joint
    space (x, z), and n_x(i), n_z(i) count the other samples strictly closer than eps_i in x and in
    z alone (max-norm each). The estimate is psi(k) + psi(n) - mean_i(psi(n_x(i) + 1) + psi(n_z(i) + 1)),
    psi the digamma function. It needs no training and no model; it is consistent, and its bias is
    smallest for smooth densities in few dimensions. It underestimates large MI, and more so in
    more dimensions (a sample sees too few neighbours of the strongly concentrated joint density).
    Measured with n = 5000, k = 3 on correlated Gaussians (mean error over 12 samples, standard
    deviation 0.016 to 0.021): 0.5 nats in 1 + 1 dimensions +0.009, 2 nats +0.021; over 3 + 3
    dimensions 0.5 nats -0.015, 2 nats -0.073. Larger ``k`` lowers the variance and raises the bias.

    ``stderr`` is the standard deviation of the per-sample terms psi(n_x + 1) + psi(n_z + 1) divided
    by sqrt(n): the sampling noise of their average, as if the terms were independent. They are not
    (neighbouring samples share neighbours), so it is an indication, not a confidence interval, and
    says nothing of the bias: in the measurements above (and under independence) the estimates'
    actual spread over the 12 samples was 5 to 30% larger than the stderr reported.

    Args:
        x: samples of X, shape (n,) or (n, d_x), real floats (a framework's array is converted).
        z: samples of Z, shape (n,) or (n, d_z), paired with ``x`` row by row.
        k: the neighbour whose distance sets each sample's scale, a positive integer below n - 1.

    Returns:
        ``(mi, stderr)`` in nats, Python floats.

    Raises:
        InvalidArgumentError: ``x`` or ``z`` is not a finite (n,) or (n, d) array (images are
            refused: KSG is for low-dimensional vectors, d_x + d_z <= 20, because in more
            dimensions all neighbour distances become alike and the counts carry no information);
            the lengths differ; n < k + 2; ``k`` is not a positive integer; some sample has k or
            more exact duplicates (the distance eps_i is 0: KSG needs continuous samples); or the
            run would take longer than ``KSG_SECONDS_LIMIT`` (60 s).
        InvalidTypeError: integer, boolean, complex or object data.
        BackendNotAvailableError: SciPy is not installed.

    Cost: three k-d trees (max-norm), one k-nearest-neighbour query and two radius counts per
    sample, in one thread. Measured (SciPy 1.17, a shared 2-core machine) on correlated Gaussians of
    d_x = d_z = d/2 at 0.51 nats per pair, d = d_x + d_z: d = 2: n = 20 000 0.2 s, 100 000 1.6 to
    2.1 s, 1 000 000 28 s; d = 6: 50 000 11 s; d = 10: 20 000 7 s, 100 000 93 to 123 s; d = 20:
    5000 4 s, 20 000 60 s. The time grows faster than n log n in more dimensions: the searches
    visit more of the trees and the marginal counts grow with n. Rather than guess from n and d,
    ksg first runs ``KSG_PILOT_POINTS`` evenly spaced samples, projects the whole run's time from
    theirs (within 25% of the actual time in the runs above), and raises with the projection and a
    subsample size that fits when it exceeds ``KSG_SECONDS_LIMIT``; otherwise the pilot's work is kept.

    Examples:
        >>> import mivb
        >>> from mivb.classical import ksg
        >>> x, z, true_mi = mivb.correlated_gaussians(2000, 1, 0.8, seed=0)
        >>> round(true_mi, 3)
        0.511
        >>> mi, stderr = ksg(x, z)
        >>> abs(mi - true_mi) < 3 * stderr
        True
    """
    kd_tree, digamma = _scipy_for_ksg()
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise invalid("k", "a positive integer number of neighbours", k)
    k = int(k)
    x, z = _vectors(x, z, max_dimensions=KSG_MAX_DIMENSIONS)
    n = len(x)
    if n < k + 2:
        raise invalid("x", f"at least k + 2 = {k + 2} samples for KSG with k={k}", x)
    joint = np.hstack([x, z])

    started = time.perf_counter()
    joint_tree, x_tree, z_tree = kd_tree(joint), kd_tree(x), kd_tree(z)
    built = time.perf_counter()
    radii = np.empty(n)
    x_counts, z_counts = np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp)
    pilot = np.zeros(n, dtype=bool)
    pilot[np.linspace(0, n - 1, min(n, KSG_PILOT_POINTS)).astype(np.intp)] = True
    for part in (pilot, ~pilot):  # the pilot first, timed; the rest only if the projected time is acceptable
        radii[part] = _kth_neighbour_distance(joint_tree, joint[part], k)
        _check_distinct(radii[part], k, joint, x.shape[1])
        x_counts[part] = _strictly_closer(x_tree, x[part], radii[part])
        z_counts[part] = _strictly_closer(z_tree, z[part], radii[part])
        if part is pilot and not pilot.all():
            _check_ksg_time(built - started, time.perf_counter() - built, int(pilot.sum()), x, z)

    terms = digamma(x_counts + 1.0) + digamma(z_counts + 1.0)
    mi = float(digamma(k) + digamma(n) - terms.mean())
    return mi, float(terms.std(ddof=1) / math.sqrt(n))


def gaussian(x: Any, z: Any) -> tuple[float, float]:
    """I(X; Z) in nats under a jointly Gaussian model of (x, z), with its standard error.

    The MI of the Gaussian with the samples' covariance: -1/2 sum_i log(1 - rho_i^2) over the
    canonical correlations rho_i of x and z, the cosines of the principal angles between the
    spans of their centred columns; equal to 1/2 (log det S_xx + log det S_zz - log det S) for the
    sample covariance S. Each block is centred, its columns scaled to unit norm and replaced by an
    orthonormal basis of their span (SVD); the rho_i are the singular values of the product of the
    two bases (Bjoerck and Golub 1973), accurate where forming S and its determinants is not.

    Exact, up to sampling noise, when (x, z) is jointly Gaussian, and unchanged by invertible
    affine maps of x and of z. Otherwise it measures linear dependence only: z = x**2 with x
    symmetric about 0 gives about 0. The plug-in estimate is biased upwards by about
    d_x * d_z / (2 n) nats.

    ``stderr`` is the delta method's sqrt(sum_i rho_i^2 / n): each rho_i estimated with variance
    (1 - rho_i^2)^2 / n, and d MI / d rho_i = rho_i / (1 - rho_i^2). It is an asymptotic value; near
    independence (all rho_i near 0) it vanishes while the estimate's own spread, of order
    d_x * d_z / n, does not.

    Args:
        x: samples of X, shape (n,) or (n, d_x), real floats (a framework's array is converted).
        z: samples of Z, shape (n,) or (n, d_z), paired with ``x`` row by row.

    Returns:
        ``(mi, stderr)`` in nats, Python floats.

    Raises:
        InvalidArgumentError: ``x`` or ``z`` is not a finite (n,) or (n, d) array (flatten images
            with ``x.reshape(len(x), -1)``); the lengths differ; n < d_x + d_z + 2; the covariance
            is singular, so the MI is undefined (a constant feature, or a feature an exact linear
            function of the others of its block) or infinite (a combination of z an exact linear
            function of x) under the Gaussian model.
        InvalidTypeError: integer, boolean, complex or object data.

    Cost: O(n (d_x + d_z)^2), no SciPy.

    Examples:
        >>> import mivb
        >>> from mivb.classical import gaussian
        >>> x, z, true_mi = mivb.correlated_gaussians(20000, 3, 0.8, seed=0)
        >>> round(true_mi, 3)
        1.532
        >>> mi, stderr = gaussian(x, z)
        >>> round(mi, 2), round(stderr, 3)
        (1.53, 0.01)
    """
    x, z = _vectors(x, z, max_dimensions=None)
    n, dimensions = len(x), x.shape[1] + z.shape[1]
    if n < dimensions + 2:
        raise invalid("x", f"at least d_x + d_z + 2 = {dimensions + 2} samples for the Gaussian model (with fewer, "
                      f"the joint covariance is singular)", x)
    correlations = np.linalg.svd(_orthonormal_basis("x", x).T @ _orthonormal_basis("z", z), compute_uv=False)
    correlations = np.minimum(correlations, 1.0)
    unexplained = (1.0 - correlations) * (1.0 + correlations)  # 1 - rho^2, accurate near rho = 1
    if unexplained.min() < SINGULAR_TOLERANCE:
        raise invalid("x, z", f"no exact linear relation between x and z (a linear combination of z is a linear "
                      f"function of x, up to rounding: the largest canonical correlation rho has 1 - rho^2 = "
                      f"{unexplained.min():.1e} < {SINGULAR_TOLERANCE:g}, so the MI is infinite under the Gaussian "
                      f"model)", Shown(f"(n={n}, d_x={x.shape[1]}, d_z={z.shape[1]})"))
    mi = -0.5 * float(np.sum(np.log(unexplained)))
    return mi, math.sqrt(float(np.sum(correlations**2)) / n)


def _scipy_for_ksg() -> tuple[Any, Any]:
    """SciPy's KDTree class and digamma function, or an error saying how to install SciPy."""
    try:
        from scipy.spatial import KDTree
        from scipy.special import digamma
    except ImportError:
        raise BackendNotAvailableError('ksg needs SciPy, not installed: pip install "mivb[classical]"') from None
    return KDTree, digamma


def _vectors(x: Any, z: Any, *, max_dimensions: int | None) -> tuple[np.ndarray, np.ndarray]:
    """x and z as float64 arrays (n, d_x) and (n, d_z) of the same n, or the error saying what is wrong.

    ``max_dimensions`` bounds d_x + d_z for KSG; None (the Gaussian model) sets no bound.
    """
    arrays = []
    for argument, samples in (("x", x), ("z", z)):
        array = as_samples(argument, samples)  # floats, finite, non-empty, 1-D made (n, 1)
        if array.ndim > 2:
            if max_dimensions is not None:
                expected = (f"vectors of shape (n,) or (n, d): KSG is for low-dimensional vectors (d_x + d_z <= "
                            f"{max_dimensions}); for images, train a critic with mivb.estimate")
            else:
                expected = ("vectors of shape (n,) or (n, d); flatten with x.reshape(len(x), -1) (each pixel then "
                            "counts as a feature of the Gaussian model)")
            raise invalid(argument, expected, samples)
        arrays.append(array.astype(np.float64))
    x, z = arrays
    check_paired(x, z)
    if max_dimensions is not None and x.shape[1] + z.shape[1] > max_dimensions:
        raise invalid("x, z", f"d_x + d_z <= {max_dimensions} features: KSG is for low-dimensional vectors (in more "
                      f"dimensions all neighbour distances become alike, the curse of dimensionality, and the "
                      f"counts carry no information); use mivb.estimate, or gaussian for linear dependence",
                      Shown(f"(d_x={x.shape[1]}, d_z={z.shape[1]})"))
    return x, z


def _kth_neighbour_distance(tree: Any, points: np.ndarray, k: int) -> np.ndarray:
    """Max-norm distance from each point to its k-th nearest neighbour in the tree, itself excluded."""
    distances: np.ndarray = tree.query(points, k=k + 1, p=np.inf)[0]  # the point itself comes first, at distance 0
    return distances[:, -1]


def _strictly_closer(tree: Any, points: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """How many other points of the tree lie at a max-norm distance strictly below each radius.

    The tree counts distances <= r; the float just below the radius makes that < radius, exactly,
    since every distance is computed as the same float maximum of absolute differences.
    """
    within: np.ndarray = tree.query_ball_point(points, np.nextafter(radii, 0.0), p=np.inf, return_length=True)
    return within - 1


def _check_distinct(radii: np.ndarray, k: int, joint: np.ndarray, x_dimensions: int) -> None:
    if np.any(radii == 0.0):
        repeated = len(joint) - len(np.unique(joint, axis=0))
        raise invalid("x, z", f"continuous samples: KSG needs each sample's k-th neighbour (k={k}) at a positive "
                      f"distance, and some (x, z) pairs occur k + 1 times or more; add noise far below the data's "
                      f"resolution (about 1e-10 of its scale, as NPEET and scikit-learn do), or use gaussian",
                      Shown(f"{repeated} repeated pairs among n={len(joint)} (d_x={x_dimensions}, "
                            f"d_z={joint.shape[1] - x_dimensions})"))


def _check_ksg_time(build_seconds: float, pilot_seconds: float, pilot_points: int, x: np.ndarray,
                    z: np.ndarray) -> None:
    """Refuse a run whose time, projected from the trees' building and the pilot points, exceeds the limit."""
    n = len(x)
    projected = build_seconds + pilot_seconds * n / pilot_points
    if projected > KSG_SECONDS_LIMIT:
        fits = _two_digits(n * KSG_SECONDS_LIMIT / projected)  # the time per sample falls with n: this fits
        raise invalid("x, z", f"samples KSG can process within KSG_SECONDS_LIMIT = {KSG_SECONDS_LIMIT:g} s (these "
                      f"would take about {projected:.1f} s, projected from {pilot_points} of them); subsample, "
                      f"e.g. keep = np.random.default_rng(0).choice({n}, {fits}, replace=False), then "
                      f"ksg(x[keep], z[keep]); or raise mivb.classical.KSG_SECONDS_LIMIT",
                      Shown(f"(n={n}, d_x={x.shape[1]}, d_z={z.shape[1]})"))


def _two_digits(value: float) -> int:
    """``value`` rounded down to an integer of two significant digits."""
    whole = int(value)
    scale: int = 10 ** max(0, len(str(whole)) - 2)
    return whole // scale * scale


def _orthonormal_basis(argument: str, samples: np.ndarray) -> np.ndarray:
    """An orthonormal basis (n, d) of the span of the centred columns, or the error if they are dependent."""
    constant = np.flatnonzero(samples.min(axis=0) == samples.max(axis=0))
    if constant.size:
        raise invalid(argument, f"no constant feature (feature {int(constant[0])} is constant: its variance is 0, so "
                      f"the covariance is singular and the MI undefined under the Gaussian model); drop it", samples)
    centred = samples - samples.mean(axis=0)
    centred -= centred.mean(axis=0)  # a second pass removes the first's rounding
    centred /= np.abs(centred).max(axis=0)  # no overflow in the norms below
    centred /= np.linalg.norm(centred, axis=0)
    basis, singular_values, _ = np.linalg.svd(centred, full_matrices=False)
    # The columns have unit norm: singular_values**2 are the eigenvalues of their correlation matrix.
    if singular_values.min() ** 2 < SINGULAR_TOLERANCE:
        raise invalid(argument, f"linearly independent features (a feature is an exact linear function of the others, "
                      f"the correlation matrix's smallest eigenvalue is {singular_values.min() ** 2:.1e}: the "
                      f"covariance is singular, so the MI is undefined under the Gaussian model); drop the "
                      f"redundant features", samples)
    return basis


@dataclass(frozen=True)
class ClassicalEstimator:
    """A training-free estimator that ``mivb.estimate(x, z, bound=name)`` runs on all pairs."""

    name: str
    function: Callable[..., tuple[float, float]]
    summary: str
    paper: str
    params: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "classical"
    notes: Callable[[Mapping[str, Any], int], list[str]] | None = None  # (params, pairs) -> notes on the estimate

    def resolve_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        for key in params:
            if key not in self.params:
                choices = ", ".join(repr(p) for p in self.params) or "none"
                raise UnknownNameError(f"{key}: estimator {self.name!r} takes the parameters {choices}, "
                                       f"received {key}={params[key]!r}")
        return {**self.params, **params}


def _ksg_notes(params: Mapping[str, Any], n: int) -> list[str]:
    """KSG's neighbourhoods span the data when k nears n: every count is about n, and the estimate about 0."""
    k = params["k"]
    if KSG_NEIGHBOURS_SHARE * n >= k:
        return []
    return [note("ksg-k", k=k, pairs=n)]


KSG_NEIGHBOURS_SHARE = 0.1  # a k above this share of the pairs gets a note (k = 90 of 100 pairs read 0.03 at 1 nat)

CLASSICAL = {
    "ksg": ClassicalEstimator("ksg", ksg, "Kraskov-Stoegbauer-Grassberger k-nearest neighbours, low dimensions",
                              "Kraskov et al. 2004", {"k": 3}, notes=_ksg_notes),
    "gaussian": ClassicalEstimator("gaussian", gaussian, "jointly Gaussian model (canonical correlations): "
                                   "exact for Gaussian data, linear dependence only otherwise", "Hotelling 1936"),
}
