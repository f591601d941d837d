"""mivb.screen and mivb.estimate_many on the torch backend: a group of columns trains a torch critic, and
the estimates are the same on every executor (tests/test_screen.py and tests/test_many.py: the core in
depth)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import mivb

QUICK = {"backend": "torch", "steps": 40, "batch_size": 32}


def test_a_group_screens_with_a_torch_critic_beside_ksg_for_a_column():
    rng = np.random.default_rng(9)
    table = {name: rng.normal(size=300) for name in ("a", "b", "c")}
    table["y"] = table["a"] + table["b"] + 0.5 * rng.normal(size=300)
    result = mivb.screen(table, "y", features=["c"], groups={"ab": ["a", "b"]}, permutations=19,
                         executor="serial", progress=False, **QUICK)
    rows = result.set_index("feature")
    assert rows.loc["ab", "family"] in ("copula", "infonce") and rows.loc["ab", "mi"] > 0.4  # truth 1.1 nats
    assert rows.loc["ab", "p_value"] == 0.05 and rows.loc["ab", "selected"]
    assert rows.loc["c", "family"] == "ksg" and not rows.loc["c", "selected"]


def test_estimate_many_trains_torch_critics_seeded_by_key():
    pairs = {rho: mivb.correlated_gaussians(300, 1, rho, seed=4)[:2] for rho in (0.0, 0.9)}
    results = mivb.estimate_many(pairs, bound="infonce", executor="serial", progress=False, **QUICK)
    assert {result.backend for result in results.values()} == {"torch"}
    assert results[0.9].mi > results[0.0].mi + 0.3  # 0.83 nats against 0
    with ThreadPoolExecutor(2) as pool:
        again = mivb.estimate_many(pairs, bound="infonce", executor=pool, progress=False, **QUICK)
    assert {key: result.mi for key, result in again.items()} == {key: result.mi for key, result in results.items()}
