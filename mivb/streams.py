"""``estimate(batches)``: data that does not fit in memory, as an iterable of (x, z) batches.

A torch ``DataLoader``, a ``tf.data.Dataset``, a generator: anything that yields pairs of arrays
or tensors (x_batch, z_batch), read once, in order. The held-out pairs come first: the stream's
first pairs are the test split, the next the validation split, kept in memory (``test_fraction``
and ``validation_fraction`` of the stream when its length is known, as ``len(batches)`` batches of
the first batch's size; else ``HELD_OUT_PAIRS``). Every later pair trains the critic once, re-cut
into batches of ``batch_size``, a chunk of steps at a time; training ends at ``steps``, when early
stopping says so, or when the stream runs dry. The transform is fitted on the validation pairs.

Because the held-out pairs are the stream's first, the stream must not repeat them: an iterable
that cycles over its data (several epochs of one loader) would train on the test pairs. A stream
seen to start over (a batch of 8 or more pairs that comes twice, more batches than its ``len()``,
or more training pairs equal to held-out ones than the held-out part's own repeats predict) gives
an unreliable estimate, with a note. Shuffle the data beforehand, so that the first pairs are like
the rest. Each batch must be (n, ...) with a sample axis: a stream of single samples (a
``DataLoader`` with ``batch_size=None``, an unbatched ``tf.data`` dataset of vectors) is refused,
since its rows would be read as pairs of one feature.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .arguments import EstimateArguments
from .errors import Shown, invalid
from .notes import note
from .protocol import Fitted, new_trainer, random_streams, train
from .samples import PairTransform, as_samples, check_paired

if TYPE_CHECKING:
    from .backends import Trainer
    from .result import Estimate

HELD_OUT_PAIRS = (4096, 2048)  # test and validation pairs taken from a stream of unknown length
# pairs: a batch this large, of distinct pairs, that comes twice shows a stream that starts over
# (cycle, repeat()); smaller ones, or ones that repeat pairs, may recur by chance in data of few
# distinct values.
REPEAT_CHECK_ROWS = 8
HELD_OUT_KEYS = 8192  # held-out pairs whose bytes are kept to recognise them in training (memory stays bounded)
NO_LIMIT = 10**9  # pairs: a stream's length is unknown, so the sanity limit on values is 2 log(1e9) + 10


def is_stream(x: Any, z: Any) -> bool:
    """Whether ``x`` is an iterable of batches standing alone (``z`` None), not an array or a table."""
    from .backends import backend_name_of

    return (z is None and hasattr(x, "__iter__") and not isinstance(x, (list, tuple, np.ndarray, str, bytes))
            and backend_name_of(x) is None and not hasattr(x, "columns"))


class Stream:
    """The stream's pairs as NumPy arrays, read as they are asked for."""

    def __init__(self, batches: Any):
        self.batches: Iterator[Any] = iter(batches)
        self.read = 0  # pairs read so far
        self.batches_read = 0
        self.known_batches = known_length(batches)
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.dry = False
        self.first: Any = None  # the first batch as it came, whose framework picks the backend
        self.shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # one sample's, from the first batch
        self.batch_keys: set[int] = set()
        self.repeated_batch = False  # a batch of REPEAT_CHECK_ROWS distinct pairs or more came again: it cycles
        if getattr(batches, "batch_size", 0) is None and getattr(batches, "batch_sampler", 0) is None:
            # a torch DataLoader(batch_size=None) yields single samples: each one's features would be read as pairs
            raise invalid("x", "a stream of batches (n, d); a DataLoader with batch_size=None yields single samples, "
                          "so give it a batch_size", batches)

    def peek(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The next batch, left to be taken."""
        if not self.pending:
            self._read()
        return self.pending[0] if self.pending else None

    def pairs(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``count`` pairs (fewer when the stream runs dry)."""
        while sum(len(x) for x, _ in self.pending) < count and self._read():
            pass
        if not self.pending:
            return np.zeros((0, 1)), np.zeros((0, 1))
        x, z = (np.concatenate([part[i] for part in self.pending]) for i in (0, 1))
        self.pending = [(x[count:], z[count:])] if len(x) > count else []
        return x[:count], z[:count]

    def repeats(self, held_out: HeldOutPairs) -> str | None:
        """Why the stream is seen to start over (it then trains on its held-out pairs), or None."""
        if self.repeated_batch:
            return "a batch came twice"
        if self.known_batches is not None and self.batches_read > self.known_batches:
            return f"{self.batches_read} batches read, where len() gives {self.known_batches}"
        if held_out.repeated:
            return f"{held_out.seen} training pairs equal held-out ones"
        return None

    def _read(self) -> bool:
        batch = next(self.batches, None)
        if batch is None:
            self.dry = True
            return False
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise invalid("x", "an iterable of (x, z) pairs of batches", batch)
        for argument, part in zip(("x", "z"), batch):
            if len(getattr(part, "shape", np.shape(part))) < 2:
                raise invalid(argument, "batches of shape (n, d), a row per sample (a stream of single samples, or "
                              "of 1-D batches, is ambiguous: batch it, e.g. dataset.batch(128), or reshape a batch "
                              "of one feature to (n, 1))", part)
        self.first = batch if self.first is None else self.first
        x, z = as_samples("x", batch[0]), as_samples("z", batch[1])
        check_paired(x, z)
        shapes = (x.shape[1:], z.shape[1:])
        self.shapes = shapes if self.shapes is None else self.shapes
        for argument, array, shape in zip(("x", "z"), (x, z), self.shapes):
            if array.shape[1:] != shape:
                raise invalid(argument, f"every batch with samples of shape {shape}, as the first batch's (batch "
                              f"{self.batches_read})", array)
        if len(x) >= REPEAT_CHECK_ROWS and len(set(row_keys(x, z))) == len(x):
            key = hash((x.tobytes(), z.tobytes()))
            self.repeated_batch = self.repeated_batch or key in self.batch_keys
            self.batch_keys.add(key)
        self.read += len(x)
        self.batches_read += 1
        self.pending.append((x, z))
        return True


def known_length(batches: Any) -> int | None:
    """``len(batches)`` when the stream says it, else None (a generator, an infinite or unknown
    ``tf.data`` cardinality, a ``__len__`` that fails or is negative)."""
    try:
        length = len(batches)
    except (TypeError, ValueError, OverflowError):  # no __len__, tf.data's unknown or infinite, or a negative one
        return None
    return length if length >= 0 else None


def row_keys(x: np.ndarray, z: np.ndarray) -> list[bytes]:
    """Each pair's bytes: equal keys are equal pairs."""
    rows = np.ascontiguousarray(np.concatenate([x.reshape(len(x), -1), z.reshape(len(z), -1)], axis=1,
                                               dtype=np.float64))
    keys: list[Any] = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel().tolist()
    return keys  # void scalars list as bytes


class HeldOutPairs:
    """Counts training pairs equal to held-out ones, beyond what the held-out part's own repeats
    predict of data with repeated values: a stream that starts over trains on its test pairs."""

    def __init__(self, x: np.ndarray, z: np.ndarray):
        keys = row_keys(x[:HELD_OUT_KEYS], z[:HELD_OUT_KEYS])  # the first: a stream that starts over replays them
        self.keys = set(keys)
        counts: dict[bytes, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        # the share of held-out pairs that occur twice or more there: about how often a new pair of this data repeats one
        self.repeat_rate = sum(c for c in counts.values() if c > 1) / max(1, len(keys))
        self.seen = self.trained = 0

    def check(self, x: np.ndarray, z: np.ndarray) -> None:
        self.trained += len(x)
        self.seen += sum(key in self.keys for key in row_keys(x, z))

    @property
    def repeated(self) -> bool:
        return self.seen > 2 * self.repeat_rate * self.trained + 3


class StreamBatches:
    """Training batches from the stream: ``take(steps)`` holds the next ``steps * batch_size`` pairs
    on the device as the training split and returns their indices (fewer rows when it runs dry)."""

    def __init__(self, stream: Stream, trainer: Trainer, batch_size: int, transform: Any, held_out: HeldOutPairs):
        self.stream, self.trainer, self.batch_size, self.transform = stream, trainer, batch_size, transform
        self.held_out, self.taken = held_out, 0

    def take(self, steps: int) -> np.ndarray:
        x, z = self.stream.pairs(steps * self.batch_size)
        rows = len(x) // self.batch_size
        if rows == 0 and self.taken == 0:
            raise invalid("x", f"a stream with at least batch_size={self.batch_size} pairs left to train on after "
                          f"the held-out ones", Shown(f"a stream of {self.stream.read} pairs"))
        if rows:
            x, z = x[: rows * self.batch_size], z[: rows * self.batch_size]
            self.held_out.check(x, z)
            self.trainer.put("train", *self.transform(x, z))
        self.taken += rows
        return np.arange(rows * self.batch_size).reshape(rows, self.batch_size)


def estimate_stream(batches: Any, arguments: EstimateArguments) -> Estimate:
    """``estimate(batches)``: the held-out protocol on a stream (see the module)."""
    from .bounds import get_bound
    from .pipeline import configure, result

    for name in ("folds", "given"):
        if getattr(arguments, name) is not None:
            raise invalid(name, "None for a stream of batches (read once, held out from its start)",
                          getattr(arguments, name))
    if get_bound(arguments.bound).critic == "classifier":
        raise invalid("bound", "a bound that reads z batch by batch for a stream (ba needs every label's count "
                      "first)", arguments.bound)
    stream = Stream(batches)
    first = stream.peek()
    if first is None:
        raise invalid("x", "an iterable of (x, z) batches with at least one batch", batches)
    config = configure(arguments, *stream.first)
    n_test, n_validation = _held_out(stream, len(first[0]), config)
    test, validation = stream.pairs(n_test), stream.pairs(n_validation)
    if len(validation[0]) < n_validation:
        raise invalid("x", f"a stream of more than {n_test + n_validation} pairs (held out first for test and "
                      f"validation)", batches)

    transform = PairTransform(config.transform, config.transform, *validation)
    held = {"validation": transform(*validation), "test": transform(*test)}
    shapes = (held["test"][0].shape[1:], held["test"][1].shape[1:])
    trainer = new_trainer(config, shapes, {**held, "train": held["validation"]})
    _, train_rng, validation_rng, test_rng, _ = random_streams(config.seed)
    held_out = HeldOutPairs(*(np.concatenate(parts) for parts in zip(test, validation)))
    source = StreamBatches(stream, trainer, config.batch_size, transform, held_out)
    run, reason = train(trainer, train_rng, validation_rng, NO_LIMIT, n_validation, config, arguments.progress,
                        arguments.callback, source=source)
    notes = [note("stream-dry", read=stream.read, steps=len(run.history), train=stream.read - n_test - n_validation)
             ] if stream.dry else []
    repeated = stream.repeats(held_out)
    if repeated:
        notes.append(note("stream-repeats", repeated=repeated))
    fitted = Fitted(trainer=trainer, config=config, run=run, stop_reason=reason, notes=notes, test_size=n_test,
                    test_seed=int(test_rng.integers(2**63)), test_pairs=held["test"], n_pairs=stream.read,
                    x_is_z=False, prepare_new=transform)
    estimate = result(fitted)
    return replace(estimate, unreliable=True) if repeated is not None else estimate


def _held_out(stream: Stream, first_size: int, config: Any) -> tuple[int, int]:
    """Test and validation pairs: fractions of a stream whose length is known, else ``HELD_OUT_PAIRS``."""
    if stream.known_batches is None:  # a generator, or a tf.data.Dataset of unknown cardinality
        return HELD_OUT_PAIRS
    total = stream.known_batches * first_size
    return max(2, round(total * config.test_fraction)), max(2, round(total * config.validation_fraction))
