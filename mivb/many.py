"""``mivb.estimate_many``: many estimates, each seeded from the call's seed and its key, run on local
processes, any ``concurrent.futures.Executor``, a Dask ``distributed.Client`` or Ray.

Every task runs the same function of its own data and seed in whatever process the executor
picks, so the results do not depend on the executor, the number of workers or the order in which
tasks finish. A task that raises becomes a [`TaskFailure`][mivb.TaskFailure] in its place;
with ``cache_dir``, each finished task is pickled under a digest of its data, options, seed and key,
and a rerun of the call loads it instead of running it again. ``mivb.screen`` runs on the same
engine (``run_tasks``).

Ray and Dask are imported only when asked for (``executor="ray"``, or a ``distributed.Client``).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib
import multiprocessing
import os
import pickle
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ._progress import in_notebook
from .arguments import EstimateArguments
from .catalogue import estimators
from .errors import BackendNotAvailableError, InvalidTypeError, MivbError, invalid, unknown_name
from .result import AUTO
from .tables import from_table

__all__ = ["TaskFailure", "estimate_many", "run_tasks", "task_seed"]

# The variables that size the thread pools of BLAS, OpenMP and the frameworks: one thread per worker
# process, since the processes already use every core (on 2 cores torch's default pool made training
# 10 to 100 times slower, noxfile.py).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTEROP_THREADS",
                    "TF_NUM_INTRAOP_THREADS")
EXECUTORS = ("processes", "serial", "ray")  # by name; or an Executor, or a Dask distributed.Client


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised: its ``key`` (the index or key of the task), ``error`` (the exception's
    type and message, one line) and the worker's ``traceback``. It stands in the task's place in
    the results, so that no failure is lost; it is never cached, so a rerun tries the task again."""

    key: Any
    error: str
    traceback: str = field(default="", repr=False)


def estimate_many(tasks: Sequence[Any] | Mapping[Any, Any], *, data: Any = None, executor: Any = None,
                  workers: int | None = None, seed: int = 0, cache_dir: str | os.PathLike[str] | None = None,
                  progress: bool | None = None, **options: Any) -> list[Any] | dict[Any, Any]:
    """Run [`mivb.estimate`][mivb.estimate.estimate] on many (x, z) pairs, spread over workers.

    Each task's seed is drawn from ``seed`` and the task's key (its index in a list, its key in a
    mapping; ``task_seed``), never from the order tasks run in, so the results are the same with
    every executor, every number of workers and every order of completion: a mapping's entries
    give the same estimates in any order. (A trained critic's last digits also depend on the
    number of threads its framework computes with, which orders its sums: the local processes use
    one each, as does a process started with ``OMP_NUM_THREADS=1``.)

    Args:
        tasks: a list of (x, z) pairs, or a mapping of keys (names) to (x, z) pairs. With ``data``,
            x and z are names of its columns (a name, or a list of names stacked as features), as
            ``estimate(x, z, data=...)`` takes them.
        data: a pandas DataFrame or a mapping of names to arrays, which the tasks' names select from.
        executor: where the tasks run. None or ``"processes"`` (default): local processes
            (``workers`` of them, by default one per core available to this process; each limits
            BLAS, OpenMP and the frameworks to one thread, since the processes fill the cores). A
            script that uses them must guard its top level with ``if __name__ == "__main__":``
            (they are started with ``spawn``, which imports the script anew). ``"serial"``: one
            after the other in this process. ``"ray"``: Ray tasks on the cluster ``ray.init()``
            connected to (a local one of every core when none is). Any
            ``concurrent.futures.Executor`` (a ``ThreadPoolExecutor``, a ``ProcessPoolExecutor``,
            loky, an MPI pool), or a Dask ``distributed.Client``: the tasks are submitted to it.
        workers: the local processes of ``executor="processes"``; 1 runs the tasks in this process.
        seed: the seed every task's seed is drawn from.
        cache_dir: a folder where each finished task is pickled, under a digest of its data, its
            options, its seed and its key: a rerun of the same call loads those instead of running
            them again (a task that failed runs again). Pickles run code when loaded: use a folder
            only you write to.
        progress: one progress bar over all tasks (tqdm, on stderr); None (default) shows it when
            stderr is a terminal or in a notebook. Each estimate's own bar is off.
        **options: any option of [`mivb.estimate`][mivb.estimate.estimate] (``bound``, ``backend``,
            ``steps``, ``folds``, ...), the same for every task.

    Returns:
        A list (for a list of tasks) or a dict (for a mapping, with its keys in its order) holding,
            in each task's place, its [`Estimate`][mivb.Estimate] (a tuple of them for a list of
            bounds), or a [`TaskFailure`][mivb.TaskFailure] when it raised.

    Examples:
        >>> import mivb
        >>> pairs = {rho: mivb.correlated_gaussians(1000, 1, rho, seed=1)[:2] for rho in (0.0, 0.9)}
        >>> results = mivb.estimate_many(pairs, bound="gaussian", executor="serial", progress=False)
        >>> [round(results[rho].mi, 2) for rho in (0.0, 0.9)]
        [0.0, 0.81]
    """
    if isinstance(tasks, Mapping):
        payloads = {key: _pair(key, task, data) for key, task in tasks.items()}
    elif isinstance(tasks, Sequence) and not isinstance(tasks, (str, bytes)):
        payloads = {index: _pair(index, task, data) for index, task in enumerate(tasks)}
    else:
        raise invalid("tasks", "a list of (x, z) pairs, or a mapping of keys to (x, z) pairs", tasks,
                      error=InvalidTypeError)
    check_options(options)
    results = run_tasks(estimate_task, payloads, options, executor=executor, workers=workers, seed=seed,
                        cache_dir=cache_dir, progress=progress, label="estimates")
    return results if isinstance(tasks, Mapping) else list(results.values())


def check_options(options: Mapping[str, Any]) -> None:
    """``estimate``'s options, checked once before any task runs: a misspelled estimator or a bad
    value would otherwise fail every task, each in its own row. (A bound's own parameters are
    checked by each task, which knows its bound.)"""
    arguments = {f.name for f in fields(EstimateArguments)} - {"bound_params", "seed", "progress"}
    EstimateArguments(**{name: value for name, value in options.items() if name in arguments})
    names = options.get("bound")
    for name in [names] if isinstance(names, str) or names is None else names:
        if name is not None and name not in (AUTO, *estimators()):
            raise unknown_name("bound", name, [AUTO, *estimators()])


def _pair(key: Any, task: Any, data: Any) -> tuple[Any, Any]:
    if not isinstance(task, (tuple, list)) or len(task) != 2:
        raise invalid(f"tasks[{key!r}]", "an (x, z) pair", task, error=InvalidTypeError)
    if data is None:
        return task[0], task[1]
    try:
        selected = from_table(data, x=task[0], z=task[1])
    except MivbError as error:  # which of many tasks named it: the message's own argument stays first
        raise type(error)(f"{error} (in tasks[{key!r}])") from None
    return selected["x"], selected["z"]


def estimate_task(pair: tuple[Any, Any], seed: int, options: dict[str, Any]) -> Any:
    """One task of ``estimate_many``: ``estimate`` of the pair, with the task's seed and no bar."""
    from .estimate import estimate  # here: mivb.estimate imports the whole pipeline

    return estimate(pair[0], pair[1], seed=seed, progress=False, **options)


def task_seed(seed: int, key: Any) -> int:
    """The seed of the task ``key`` of a call seeded with ``seed``: 31 bits of the SHA-256 of both
    (keys are told apart by their ``repr``: the index 0 and the name "0" get different seeds)."""
    digest = hashlib.sha256(repr((int(seed), key)).encode()).digest()
    return int.from_bytes(digest[:4], "little") >> 1


def run_tasks(function: Callable[[Any, int, dict[str, Any]], Any], payloads: Mapping[Any, Any],
              options: dict[str, Any], *, executor: Any = None, workers: int | None = None, seed: int = 0,
              cache_dir: str | os.PathLike[str] | None = None, progress: bool | None = None,
              label: str = "tasks") -> dict[Any, Any]:
    """``function(payload, task_seed(seed, key), options)`` for each ``payloads[key]``, on ``executor``;
    the results (or ``TaskFailure``) by key, in the order of ``payloads``. ``function`` must be a
    module-level function (pickled by name to the workers)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise invalid("seed", "an integer (each task's seed is drawn from it and the task's key)", seed,
                      error=InvalidTypeError)
    run_on = _check_executor(executor, workers)
    jobs = {key: (function, key, payload, options, task_seed(seed, key)) for key, payload in payloads.items()}
    cache = None if cache_dir is None else _Cache(Path(cache_dir))
    results: dict[Any, Any] = {}
    if cache is not None:
        for key, job in jobs.items():
            found = cache.load(job)
            if found is not None:
                results[key] = found[0]
    pending = {key: job for key, job in jobs.items() if key not in results}
    bar = _bar(len(jobs), len(results), progress, label)
    try:
        for key, outcome in run_on(pending):
            results[key] = outcome
            if cache is not None and not isinstance(outcome, TaskFailure):
                cache.store(pending[key], outcome)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return {key: results[key] for key in payloads}


def run_one(function: Callable[[Any, int, dict[str, Any]], Any], key: Any, payload: Any, options: dict[str, Any],
            seed: int) -> Any:
    """One task, in whatever process runs it: its result, or a ``TaskFailure`` (which always pickles,
    where the exception itself might not). Warnings are silenced (estimates carry them as notes), but
    not in a thread of a pool: ``warnings.catch_warnings`` changes the whole process's filters."""
    try:
        if threading.current_thread() is not threading.main_thread():
            return function(payload, seed, options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(payload, seed, options)
    except Exception as error:  # noqa: BLE001 - every failure becomes the task's row
        return TaskFailure(key, f"{type(error).__name__}: {' '.join(str(error).split())}", traceback.format_exc())


Jobs = Mapping[Any, tuple[Any, ...]]


def _check_executor(executor: Any, workers: int | None) -> Callable[[Jobs], Iterator[tuple[Any, Any]]]:
    """The function that runs jobs on ``executor`` (checked now, before any task runs)."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise invalid("workers", "None or a positive number of local processes", workers)
    if workers is not None and executor not in (None, "processes"):
        raise invalid("workers", "None with an executor other than local processes (its own workers run the tasks)",
                      workers)
    if executor is None or executor == "processes":
        return lambda jobs: _local_processes(jobs, workers)
    if executor == "serial":
        return _serial
    if executor == "ray":
        return _ray
    if isinstance(executor, concurrent.futures.Executor):
        return lambda jobs: _executor(executor, jobs)
    if _is_dask_client(executor):
        return lambda jobs: _dask(executor, jobs)
    raise invalid("executor", f"one of {', '.join(map(repr, EXECUTORS))}, a concurrent.futures.Executor or a Dask "
                  f"distributed.Client", executor, error=InvalidTypeError)


def _serial(jobs: Jobs) -> Iterator[tuple[Any, Any]]:
    for key, job in jobs.items():
        yield key, run_one(*job)


def available_cores() -> int:
    """The cores this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def one_thread() -> None:
    """A worker's initializer: one thread for BLAS, OpenMP and each framework (the workers fill the cores)."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    if "torch" in sys.modules:  # imported before the variables were set (by the initializer's unpickling)
        sys.modules["torch"].set_num_threads(1)


def _local_processes(jobs: Jobs, workers: int | None) -> Iterator[tuple[Any, Any]]:
    count = min(len(jobs), available_cores() if workers is None else workers)
    if count <= 1:
        yield from _serial(jobs)
        return
    context = multiprocessing.get_context("spawn")  # fork would copy a framework's threads and locks
    with concurrent.futures.ProcessPoolExecutor(count, mp_context=context, initializer=one_thread) as pool:
        yield from _executor(pool, jobs)


def _executor(executor: concurrent.futures.Executor, jobs: Jobs) -> Iterator[tuple[Any, Any]]:
    futures = {executor.submit(run_one, *job): key for key, job in jobs.items()}
    try:
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], _outcome(futures[future], future)
    finally:
        for future in futures:
            future.cancel()


def _outcome(key: Any, future: Any) -> Any:
    """A future's result, or a ``TaskFailure`` when the executor itself failed (a worker that died)."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - a broken pool, a result that did not unpickle
        return TaskFailure(key, f"{type(error).__name__}: {' '.join(str(error).split())}", traceback.format_exc())


def _is_dask_client(executor: Any) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(executor, "submit")


def _dask(client: Any, jobs: Jobs) -> Iterator[tuple[Any, Any]]:
    as_completed = importlib.import_module("distributed").as_completed  # installed with the client handed in

    futures = {client.submit(run_one, *job, pure=False): key for key, job in jobs.items()}
    try:
        for future in as_completed(list(futures)):
            yield futures[future], _outcome(futures[future], future)
    finally:
        client.cancel(list(futures))


def _ray(jobs: Jobs) -> Iterator[tuple[Any, Any]]:
    try:
        ray = importlib.import_module("ray")
    except ImportError:
        raise BackendNotAvailableError('executor="ray" needs Ray, not installed: pip install "mivb[ray]"') from None
    if not ray.is_initialized():
        ray.init()  # the cluster of RAY_ADDRESS where it is set, else a local one
    remote = ray.remote(run_one)
    pending = {remote.remote(*job): key for key, job in jobs.items()}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            key = pending.pop(ready[0])
            try:
                outcome = ray.get(ready[0])
            except Exception as error:  # noqa: BLE001 - a worker that died
                outcome = TaskFailure(key, f"{type(error).__name__}: {' '.join(str(error).split())}",
                                      traceback.format_exc())
            yield key, outcome
    finally:
        for reference in pending:
            ray.cancel(reference)


class _Cache:
    """Finished tasks, one pickle each, named by the digest of everything that determines the result."""

    def __init__(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise invalid("cache_dir", f"a folder that can be created and written ({error.strerror})",
                          str(folder)) from None
        self.folder = folder

    def path(self, job: tuple[Any, ...]) -> Path:
        function, key, payload, options, seed = job
        digest = hashlib.sha256()
        for part in (f"{function.__module__}.{function.__qualname__}", key, payload, options, seed):
            _fingerprint(part, digest)
        return self.folder / f"{digest.hexdigest()}.pkl"

    def load(self, job: tuple[Any, ...]) -> tuple[Any] | None:
        path = self.path(job)
        if not path.is_file():
            return None
        try:
            with path.open("rb") as file:
                return (pickle.load(file),)  # the user's own cache folder
        except Exception:  # noqa: BLE001 - a file cut short by an interrupted write: run the task again
            return None

    def store(self, job: tuple[Any, ...], outcome: Any) -> None:
        path = self.path(job)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as file:
            pickle.dump(outcome, file)
        os.replace(partial, path)  # whole or absent: a rerun never reads half a result


def _fingerprint(value: Any, digest: Any) -> None:
    """Feed ``value`` to ``digest``: arrays by dtype, shape and bytes; containers item by item; the
    rest by ``repr`` (options: names, numbers, configs)."""
    if isinstance(value, Mapping):
        digest.update(b"{")
        for key in sorted(value, key=repr):
            _fingerprint(key, digest)
            _fingerprint(value[key], digest)
        digest.update(b"}")
    elif isinstance(value, (tuple, list)):
        digest.update(b"(")
        for item in value:
            _fingerprint(item, digest)
        digest.update(b")")
    elif isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        array = np.ascontiguousarray(np.asarray(value))
        digest.update(f"array{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes() if array.dtype != object else repr(array.tolist()).encode())
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def _bar(total: int, done: int, progress: bool | None, label: str) -> Any:
    """One tqdm bar over all tasks, starting at those loaded from the cache."""
    if not ((sys.stderr.isatty() or in_notebook()) if progress is None else bool(progress)):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc=f"mivb {label}", unit="task", file=sys.stderr, leave=True,
                dynamic_ncols=True)
