"""``mivb.estimate_many`` and ``mivb.screen`` on the cluster engines users already run: a local Ray
cluster and a Dask ``LocalCluster``, 2 workers each, give the results of local processes. Run by
``nox -s cluster`` (in CI's command), which installs both; the other sessions leave this file out."""

import distributed
import numpy as np
import pytest
import ray

import mivb

PERMUTATIONS = 49


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(8)
    columns = {name: rng.normal(size=400) for name in ("a", "b", "c", "d")}
    columns["y"] = columns["a"] + np.cos(2 * columns["b"]) + rng.normal(size=400)
    return columns


@pytest.fixture(scope="module")
def tasks():
    # the copula's split and validation batches depend on each task's seed: a seed gone astray shows
    return {rho: mivb.correlated_gaussians(600, 2, rho, seed=3)[:2] for rho in (0.0, 0.5, 0.8)}


def run_both(table, tasks, **executor):
    screened = mivb.screen(table, "y", permutations=PERMUTATIONS, progress=False, **executor)
    estimates = mivb.estimate_many(tasks, bound="copula", progress=False, **executor)
    return screened, {key: (result.mi, result.lower.mi) for key, result in estimates.items()}


@pytest.fixture(scope="module")
def local(table, tasks):
    return run_both(table, tasks, workers=2)


def check_same(found, local):
    screened, estimates = found
    assert screened.equals(local[0])
    assert estimates == local[1]
    assert list(screened.feature[:2]) == ["a", "b"] and screened.selected.sum() == 2


def test_a_local_ray_cluster_gives_the_local_results(table, tasks, local):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        check_same(run_both(table, tasks, executor="ray"), local)
    finally:
        ray.shutdown()


def test_a_dask_local_cluster_gives_the_local_results(table, tasks, local):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        check_same(run_both(table, tasks, executor=client), local)
