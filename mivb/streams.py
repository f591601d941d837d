"""``estimate(batches)``: data that does not fit in memory, as an iterable of (x, z) batches.

A torch ``DataLoader``, a ``tf.data.Dataset``, a generator: anything that yields pairs of arrays
or tensors (x_batch, z_batch), read once, in order. The held-out pairs come first: the stream's
first pairs are the test split, the next the validation split, kept in memory (``test_fraction``
and ``validation_fraction`` of the stream when its length is known, as ``len(batches)`` batches of
the first batch's size; else ``HELD_OUT_PAIRS``). Every later pair trains the critic once, re-cut
into batches of ``batch_size``, a chunk of steps at a time; training ends at ``steps``, when early
stopping says so, or when the stream runs dry. The transform is fitted on the validation pairs.

Because the held-out pairs are the stream's first, the stream must not repeat them: an iterable
that cycles over its data (several epochs of one loader) would train on the test pairs. Shuffle
the data beforehand, so that the first pairs are like the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import invalid
from .protocol import Fitted, random_streams, train
from .samples import as_samples, check_paired, prepare

if TYPE_CHECKING:
    from .result import Estimate

HELD_OUT_PAIRS = (4096, 2048)  # test and validation pairs taken from a stream of unknown length
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
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.dry = False
        self.first: Any = None  # the first batch as it came, whose framework picks the backend

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

    def _read(self) -> bool:
        batch = next(self.batches, None)
        if batch is None:
            self.dry = True
            return False
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise invalid("x", "an iterable of (x, z) pairs of batches", batch)
        self.first = batch if self.first is None else self.first
        x, z = as_samples("x", batch[0]), as_samples("z", batch[1])
        check_paired(x, z)
        self.read += len(x)
        self.pending.append((x, z))
        return True


class StreamBatches:
    """Training batches from the stream: ``take(steps)`` holds the next ``steps * batch_size`` pairs
    on the device as the training split and returns their indices (fewer rows when it runs dry)."""

    def __init__(self, stream: Stream, trainer: Any, batch_size: int, transform: Any):
        self.stream, self.trainer, self.batch_size, self.transform = stream, trainer, batch_size, transform

    def take(self, steps: int) -> np.ndarray:
        x, z = self.stream.pairs(steps * self.batch_size)
        rows = len(x) // self.batch_size
        if rows:
            self.trainer.put("train", *self.transform(x[: rows * self.batch_size], z[: rows * self.batch_size]))
        return np.arange(rows * self.batch_size).reshape(rows, self.batch_size)


def estimate_stream(batches: Any, arguments: dict[str, Any]) -> Estimate:
    """``estimate(batches)``: the held-out protocol on a stream (see the module)."""
    from .backends import get_backend
    from .bounds import get_bound
    from .pipeline import configure, result

    for name in ("folds", "given"):
        if arguments[name] is not None:
            raise invalid(name, "None for a stream of batches (read once, held out from its start)", arguments[name])
    if get_bound(arguments["bound"]).critic == "classifier":
        raise invalid("bound", "a bound that reads z batch by batch for a stream (ba needs every label's count "
                      "first)", arguments["bound"])
    stream = Stream(batches)
    first = stream.peek()
    if first is None:
        raise invalid("x", "an iterable of (x, z) batches with at least one batch", batches)
    config = configure(arguments, *stream.first)
    n_test, n_validation = _held_out(batches, len(first[0]), config)
    test, validation = stream.pairs(n_test), stream.pairs(n_validation)
    if len(validation[0]) < n_validation:
        raise invalid("x", f"a stream of more than {n_test + n_validation} pairs (held out first for test and "
                      f"validation)", batches)

    def transform(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (prepare(config.transform, validation[0], x, argument="x")[1],
                prepare(config.transform, validation[1], z, argument="z")[1])

    held = {"validation": transform(*validation), "test": transform(*test)}
    shapes = (held["test"][0].shape[1:], held["test"][1].shape[1:])
    trainer = get_backend(config.backend).Trainer(config, shapes, {**held, "train": held["validation"]})
    _, train_rng, validation_rng, test_rng, _ = random_streams(config.seed)
    run, reason = train(trainer, train_rng, validation_rng, NO_LIMIT, n_validation, config, arguments["progress"],
                        arguments["callback"], source=StreamBatches(stream, trainer, config.batch_size, transform))
    dry = (f"the stream ran dry after {stream.read} pairs: the critic trained {len(run.history)} steps, "
           f"seeing each of the {stream.read - n_test - n_validation} training pairs once")
    notes = [dry] if stream.dry else []
    fitted = Fitted(trainer, config, run, reason, notes, n_test, int(test_rng.integers(2**63)), held["test"],
                    stream.read, False, transform)
    return result(fitted)


def _held_out(batches: Any, first_size: int, config: Any) -> tuple[int, int]:
    """Test and validation pairs: fractions of a stream whose length is known, else ``HELD_OUT_PAIRS``."""
    try:
        total = len(batches) * first_size
    except TypeError:  # a generator, or a tf.data.Dataset of unknown cardinality
        return HELD_OUT_PAIRS
    return max(2, round(total * config.test_fraction)), max(2, round(total * config.validation_fraction))
