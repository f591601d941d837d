"""Checking and preparing the sample arrays handed to [`mivb.estimate`][mivb.estimate.estimate]."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from .backends import backend_name_of, get_backend
from .errors import InvalidTypeError, MivbError, invalid, unknown_name

# The largest magnitude a critic can be fed: every critic multiplies two quantities linear in its
# inputs (the separable and bilinear critics' <f(x), g(z)>, the joint critic's products of weights
# and activations), in float32, and a product of two values beyond sqrt(float32 max) ~ 1.8e19
# overflows. Measured (torch, correlated Gaussians scaled by s, transform=None): s = 1e19 gives a
# -inf estimate, s = 1e20 NaN. Below the limit the data can be computed on, but a critic trained
# with Adam at learning rate 5e-4 already degrades once features are ~100 times unit scale (the
# same task: 1.61 nats at s = 1, 0.49 at s = 100, -16.7 at s = 300), which is what transforms are for.
FLOAT32_LIMIT = float(np.sqrt(np.finfo(np.float32).max))


def as_samples(argument: str, samples: Any) -> np.ndarray:
    """A float NumPy array of ``samples`` (any registered framework's array, or a nested sequence).

    Shapes: the first axis counts the samples (n). 1-D input (n,) becomes (n, 1), so (n,) and
    (n, 1) are the same one-feature data; (n, d) is d features; every further axis is kept, so
    images stay (n, C, H, W) (torch) or (n, H, W, C) (JAX, TensorFlow) for a convolutional encoder,
    and the transforms treat them as images (one scale for all pixels). Nothing here knows the
    critic: a vector critic (an MLP encoder) needs (n, d), and other ranks, such as (n, a, b), are
    kept as they are though no critic takes them; flatten them with ``x.reshape(len(x), -1)``.

    Precision: float32 and float64 are kept; narrower floats (float16, and bfloat16 or float8
    tensors of torch, JAX or TensorFlow, which NumPy cannot hold) become float32, which holds them
    exactly; NumPy's long double becomes float64. Torch tensors may be on any real device and may
    require grad.

    Errors (each names ``argument``, what was expected and what was received): integer, bool,
    complex, string and object data (cast integers explicitly: they are often labels); ragged
    sequences; sparse, nested, quantized or meta tensors; masked arrays with masked entries; NaN
    and inf; 0-d and empty arrays. The result may share memory with ``samples``; nothing writes to it.
    """
    owner = backend_name_of(samples)
    array = _to_numpy(argument, owner, samples)
    kind, name = array.dtype.kind, array.dtype.name
    if kind == "V" and name.startswith(("bfloat", "float")):  # ml_dtypes' bfloat16, float8_*, from JAX or TF
        array = array.astype(np.float32)
    elif kind == "f" and array.dtype.itemsize < 4:  # float16: statistics and the critic run in float32
        array = array.astype(np.float32)
    if array.dtype.kind != "f":
        if array.dtype.kind == "O":
            expected = "a rectangular array of real floating-point numbers (an object array came back: ragged rows, " \
                       "mixed types or an unsupported array type)"
        else:
            expected = "real floating-point samples (cast integer or boolean data explicitly; for class labels z, use " \
                       "bound='ba')"
        raise invalid(argument, expected, samples, error=InvalidTypeError)
    if array.ndim == 0 or array.size == 0:
        raise invalid(argument, "a non-empty array of shape (n,) or (n, d)", samples)
    if array.ndim == 1:
        array = array[:, None]
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise invalid(argument, f"finite samples (found {bad} NaN or inf entries)", samples)
    if array.dtype.itemsize > 8:  # long double: mivb computes in float64 at most
        with np.errstate(over="ignore"):
            narrowed = array.astype(np.float64)
        if not np.all(np.isfinite(narrowed)):
            raise invalid(argument, f"magnitudes within float64's range (up to {np.finfo(np.float64).max:.3g})",
                          samples)
        array = narrowed
    return array


def _to_numpy(argument: str, owner: str | None, samples: Any) -> np.ndarray:
    if isinstance(samples, np.ma.MaskedArray) and np.ma.is_masked(samples):
        raise invalid(argument, "an array without masked entries (the values under a mask would be used): "
                      "drop those samples, or fill them with .filled()", samples)
    try:
        if owner in (None, "numpy"):
            return np.asarray(samples)
        return np.asarray(get_backend(owner).to_numpy(samples, argument))
    except MivbError:
        raise
    except MemoryError:
        raise
    except Exception as error:  # every framework has its own conversion errors
        if isinstance(error, ValueError) and "inhomogeneous" in str(error):
            raise invalid(argument, "a rectangular array of shape (n,) or (n, d): every sample of the same "
                          "length (found rows of different lengths)", samples) from error
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise invalid(argument, f"a dense array of real numbers that {owner or 'NumPy'} can convert to NumPy "
                      f"(the conversion failed: {type(error).__name__}: {message[:200]})", samples,
                      error=InvalidTypeError) from error


def check_paired(x: np.ndarray, z: np.ndarray) -> None:
    if x.shape[0] != z.shape[0]:
        raise invalid("z", f"as many samples as x (n={x.shape[0]})", z)


TRANSFORMS = {
    "auto": "gaussianize vectors, standardize images",
    "gaussianize": "map each feature through the training split's ranks to standard normal quantiles",
    "standardize": "zero mean and unit variance per feature (one scale for all pixels of images)",
}


def check_transform(transform: object) -> str | None:
    if transform is not None and transform not in TRANSFORMS:
        raise unknown_name("transform", transform, [*TRANSFORMS, "None"])
    return transform


def prepare(transform: str | None, train: np.ndarray, *others: np.ndarray, argument: str) -> list[np.ndarray]:
    """Apply ``transform`` fitted on the training split to every split (float32 out).

    Every transform is an invertible map of each feature, so the MI is unchanged; critics train
    best on inputs of unit scale, and heavy tails (a Cauchy feature, say) wreck an unbounded
    critic unless the marginals are tamed first. Both transforms work for any finite float64
    input, of any scale (1e-300 to 1e300) and any spread (1 + 1e-12 * noise); only a feature whose
    training values are all equal is "constant", an error.

    With ``transform=None`` the samples go to the critic as they are, cast to float32, and are
    refused (use ``"standardize"`` or ``"auto"``, or scale them) when a magnitude exceeds
    ``FLOAT32_LIMIT`` = sqrt(float32 max) ~ 1.8e19, beyond which the critic's products of inputs
    overflow float32, or when the cast merges the distinct values of a feature (all of them, or
    more than half of a sample of its training values): 1 + 1e-12 * noise, or 1e8 + noise, say.
    Data of magnitude well above 1 is still a poor critic input; transforms exist for it.

    After ``"standardize"`` the same two checks refuse what only extreme outliers cause: a
    held-out value beyond the limit (training values stay within sqrt(n)), or an outlier so far
    out that the other values become indistinguishable in float32; ``"gaussianize"`` is the cure.
    """
    if transform is None:
        outputs = [train, *others]
    elif transform == "gaussianize" or (transform == "auto" and train.ndim == 2):
        outputs = gaussianize(train, *others, argument=argument, cast=False)
    else:
        outputs = standardize(train, *others, argument=argument, cast=False)
    return _float32(transform, train, outputs, argument)


def _float32(transform: str | None, raw_train: np.ndarray, arrays: list[np.ndarray], argument: str) -> list[np.ndarray]:
    """``arrays`` in float32, after checking that the cast keeps them finite, usable and varying."""
    for array in arrays:
        peak = float(max(array.max(), -array.min())) if array.size else 0.0  # the validation split may be empty
        if not peak <= FLOAT32_LIMIT:
            if transform is None:
                expected = (f"magnitudes up to {FLOAT32_LIMIT:.3g} with transform=None (found {peak:.3g}; the "
                            f"critic's float32 products of larger inputs overflow): use transform='standardize' or "
                            f"'auto', or scale the samples")
            else:
                expected = (f"held-out samples within {FLOAT32_LIMIT:.3g} training standard deviations of the training "
                            f"mean after transform={transform!r} (found one at {peak:.3g}: an outlier); use "
                            f"transform='gaussianize', or remove the outlier")
            raise invalid(argument, expected, array)
    with np.errstate(over="ignore", under="ignore"):
        cast = [array.astype(np.float32) for array in arrays]
    merged = _merged_by_float32(arrays[0])
    if merged is not None:
        j, before, after = merged
        which = "the pixel values" if raw_train.ndim > 2 else f"feature {j}"
        fix = ("use transform='standardize' or 'auto', or center and scale the samples" if transform is None else
               "an outlier squashes the other values: use transform='gaussianize'")
        raise invalid(argument, f"samples that float32 can tell apart (of {before} distinct values of {which} in "
                      f"the training split, float32 keeps {after}); {fix}", raw_train)
    return cast


class PairTransform:
    """New raw pairs mapped as the training pairs were: each transform refitted on the rows ``fit`` of
    ``x`` and ``z`` (all rows when None). Whole arrays and an index, so that folds share one copy of
    the data; a class, not a closure, so that a result pickles."""

    def __init__(self, x_transform: str | None, z_transform: str | None, x: np.ndarray, z: np.ndarray,
                 fit: np.ndarray | None = None):
        self.x_transform, self.z_transform, self.x, self.z, self.fit = x_transform, z_transform, x, z, fit

    def __call__(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        for argument, new, fitted in (("x", x, self.x), ("z", z, self.z)):
            if new.shape[1:] != fitted.shape[1:]:
                raise invalid(argument, f"samples of shape (n, {', '.join(map(str, fitted.shape[1:]))}), as the "
                              f"training pairs were", new)
        x_fit, z_fit = (self.x, self.z) if self.fit is None else (self.x[self.fit], self.z[self.fit])
        return (prepare(self.x_transform, x_fit, x, argument="x")[1],
                prepare(self.z_transform, z_fit, z, argument="z")[1])


DISTINCT_SAMPLE = 1024  # training values per feature whose distinctness in float32 is checked


def _merged_by_float32(train: np.ndarray) -> tuple[int, int, int] | None:
    """(feature, distinct values, distinct in float32) of the first feature whose float32 cast merges
    more than half of its distinct values (one value left always counts), among an evenly spaced
    sample of its training values; None when there is none. Merging loses information the transform
    cannot restore."""
    columns = _columns(train)
    step = max(1, len(columns) // DISTINCT_SAMPLE)
    values = np.sort(columns[::step][:DISTINCT_SAMPLE], axis=0)
    with np.errstate(over="ignore", under="ignore"):
        rounded = values.astype(np.float32)  # monotone: still sorted
    before = 1 + np.count_nonzero(np.diff(values, axis=0), axis=0)
    after = 1 + np.count_nonzero(np.diff(rounded, axis=0), axis=0)
    merged = np.flatnonzero((before > 1) & ((after == 1) | (2 * after < before)))
    if not merged.size:
        return None
    j = int(merged[0])
    return j, int(before[j]), int(after[j])


def _columns(array: np.ndarray) -> np.ndarray:
    """The values each statistic is taken over, as columns: one per feature of vectors, one for images."""
    return array if array.ndim == 2 else array.reshape(-1, 1)


def _check_not_constant(columns: np.ndarray, argument: str, train: np.ndarray) -> None:
    """Only exactly constant columns are errors: any spread, however small, can be standardized."""
    low, high = columns.min(axis=0), columns.max(axis=0)
    constant = np.flatnonzero(low == high)
    if constant.size:
        j = int(constant[0])
        which = "images (every pixel" if columns.shape[1] == 1 and train.ndim > 2 else f"features (feature {j}"
        raise invalid(argument, f"no constant {which} equals {float(low[j]):.17g} in the training split, "
                      f"and a constant carries no information: drop it)", train)


def _exponents(columns: np.ndarray) -> np.ndarray:
    """Per column, e with max |value| < 2**e: dividing by 2**e is exact and brings values into (-1, 1)."""
    exponents: np.ndarray = np.frexp(np.maximum(columns.max(axis=0), -columns.min(axis=0)))[1]
    return exponents


def _scaled(array: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """A float64 copy of ``array`` divided by 2**exponents (exact; far beyond the training range: inf)."""
    out = np.array(array, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        scaled: np.ndarray = np.ldexp(out, -exponents, out=out)
    return scaled


def gaussianize(train: np.ndarray, *others: np.ndarray, argument: str, cast: bool = True) -> list[np.ndarray]:
    """Each feature through the monotone map taking its sorted training values to normal quantiles.

    The map is piecewise linear between the training values and flat beyond them, so it is
    invertible on the training range; only values outside it (a fraction of about 2/n) are tied.
    Each feature is first divided by a power of two (exact) that brings its training values into
    (-1, 1), so that no difference of values overflows, whatever their scale. float32 out unless
    ``cast`` is False (float64, for ``prepare``'s checks).
    """
    flat = train.reshape(len(train), -1)
    _check_not_constant(flat, argument, train)
    exponents = _exponents(flat)
    normal = NormalDist()
    quantiles = np.array([normal.inv_cdf((k + 0.5) / len(flat)) for k in range(len(flat))])
    sorted_train = np.sort(_scaled(flat, exponents), axis=0)
    out = []
    for a in (train, *others):
        columns = _scaled(a.reshape(len(a), flat.shape[1]), exponents)
        mapped = np.stack([np.interp(columns[:, j], sorted_train[:, j], quantiles) for j in range(columns.shape[1])], 1)
        mapped = mapped.reshape(a.shape)
        out.append(mapped.astype(np.float32) if cast else mapped)
    return out


def standardize(train: np.ndarray, *others: np.ndarray, argument: str, cast: bool = True) -> list[np.ndarray]:
    """Zero mean and unit variance per feature, with the training split's statistics.

    MI is unchanged by an invertible affine map of each variable, and critics train best on
    inputs of unit scale. A constant feature carries no information and is an error. Images
    (more than two axes) share one mean and scale, so constant pixels are fine.

    Accurate for any finite input. ``(a - mean) / std`` in the data's own precision, when that is
    accurate: no overflow, squared deviations above the underflow threshold (std >=
    sqrt(tiny / eps)) and a mean within 1/sqrt(eps) standard deviations of 0, so that centring
    errs by at most sqrt(eps) standard deviations (the results are those of earlier versions).
    Otherwise exactly scaled: each feature divided by a power of two bringing it into (-1, 1),
    centred, divided by a second power of two bringing the deviations into (-1, 1), centred
    again and divided by its standard deviation; so data of scale 1e300 or 1e-300, or
    1 + 1e-12 * noise, comes out with mean 0 and standard deviation 1. float32 out unless ``cast``
    is False (the data's precision, for ``prepare``'s checks).
    """
    columns = _columns(train)
    _check_not_constant(columns, argument, train)
    axis = 0 if train.ndim == 2 else None  # images: one scale for all pixels, borders may be constant
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mean, std = train.mean(axis=axis), train.std(axis=axis)
    precision = np.finfo(np.result_type(std))
    if (np.all(np.isfinite(std)) and np.all(std >= np.sqrt(precision.tiny / precision.eps))
            and np.all(np.abs(mean) * np.sqrt(precision.eps) <= std)):
        with np.errstate(over="ignore", invalid="ignore"):  # a far outlier (inf here) is refused by prepare
            direct = [(a - mean) / std for a in (train, *others)]
        return [a.astype(np.float32) for a in direct] if cast else direct
    first = _exponents(columns)
    u = _scaled(columns, first)
    first_mean = u.mean(axis=0)
    u -= first_mean
    second = _exponents(u)
    np.ldexp(u, -second, out=u)
    second_mean, std = u.mean(axis=0), u.std(axis=0)
    out = []
    for a in (train, *others):
        scaled = _scaled(_columns(a), first)
        with np.errstate(over="ignore", invalid="ignore"):  # a far outlier (inf here) is refused by prepare
            scaled -= first_mean
            np.ldexp(scaled, -second, out=scaled)
            scaled -= second_mean
            scaled /= std
        scaled = scaled.reshape(a.shape)
        out.append(scaled.astype(np.float32) if cast else scaled)
    return out


def as_labels(argument: str, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Class labels (n,) of integers, booleans or strings, as one-hot float32 rows (n, C) and the
    count of each of the C classes present (sorted by label)."""
    array = _to_numpy(argument, backend_name_of(labels), labels)
    if array.dtype.kind == "O":  # pandas' string and categorical columns come as object arrays
        values = array.ravel().tolist()
        for kind in (str, bytes):
            if values and all(isinstance(value, kind) for value in values):
                array = np.asarray(values, dtype=kind).reshape(array.shape)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.size == 0:
        raise invalid(argument, "a non-empty 1-D array of n class labels", labels)
    if array.dtype.kind not in "iubUS":
        raise invalid(argument, "class labels: integers, booleans, strings or bytes (a float array is not a label; cast "
                      "labels explicitly, e.g. z.astype(int))", labels, error=InvalidTypeError)
    classes, index, counts = np.unique(array, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise invalid(argument, "labels of at least 2 classes (with one, I(X; Z) = 0 and H(Z) = 0)", labels)
    if len(array) * len(classes) > MAX_ONE_HOT_ENTRIES:
        raise invalid(argument, f"at most {MAX_ONE_HOT_ENTRIES // len(array):,} classes for {len(array):,} labels "
                      f"(found {len(classes):,}: their one-hot rows would take "
                      f"{4 * len(array) * len(classes) / 2**30:.3g} GiB); merge rare classes", labels)
    one_hot = np.zeros((len(array), len(classes)), np.float32)
    one_hot[np.arange(len(array)), index.ravel()] = 1.0
    return one_hot, counts


# Entries of ba's one-hot labels, n x C float32: 1 GiB (30,000 distinct labels took 3.3 GiB, and the
# classifier's output layer grows with them).
MAX_ONE_HOT_ENTRIES = 2**28


def label_entropy(counts: np.ndarray) -> float:
    """H(Z) in nats of labels with these class counts (the plug-in entropy of their frequencies)."""
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p)))
