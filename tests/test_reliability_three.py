"""Issue #29, reliability round three: each item a regression test (the conformance suite's
``reliability-*`` checks hold the ones that concern every backend)."""

import json
import warnings
from dataclasses import replace

import numpy as np
import pytest

import mivb
from mivb import cli
from mivb.bounds import SUM

torch = pytest.importorskip("torch")  # installed in the tests session: never skipped there

QUIET = {"progress": False, "seed": 0}  # with a bound named where the default's choice would matter
GAUSSIANS = mivb.correlated_gaussians(3000, 2, mivb.data.rho_for_mi(2, 0.5), seed=5)


class Sized:
    """A stream with a length of its own choosing."""

    def __init__(self, batches, length):
        self.batches, self.length = batches, length

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return self.length


# ---- 1. unbatched streams -------------------------------------------------------------------------

def test_a_data_loader_without_batches_is_refused():
    x, z, _ = mivb.correlated_gaussians(6000, 5, 0.5, seed=0)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(z)),
                                         batch_size=None)
    with pytest.raises(mivb.InvalidArgumentError, match=r"x: expected a stream of batches \(n, d\); a DataLoader "
                                                        r"with batch_size=None"):
        mivb.estimate(loader, steps=10, **QUIET)


# ---- 8. streams: clear errors -------------------------------------------------------------------

def test_a_stream_whose_held_out_part_takes_everything_is_a_clear_error():
    x, z, _ = mivb.correlated_gaussians(10, 2, 0.5, seed=0)
    with pytest.raises(mivb.InvalidArgumentError, match="x: expected a stream with at least batch_size=128 pairs left "
                                                        "to train on after the held-out ones, received x=a stream of 10 pairs"):
        mivb.estimate(Sized([(x, z)], 1), steps=10, **QUIET)


def test_batches_whose_feature_count_changes_are_a_clear_error():
    x, z, _ = mivb.correlated_gaussians(8000, 3, 0.5, seed=0)
    batches = [(x[i:i + 100], z[i:i + 100]) for i in range(0, 8000, 100)]
    batches[70] = (batches[70][0][:, :2], batches[70][1])
    with pytest.raises(mivb.InvalidArgumentError, match=r"x: expected every batch with samples of shape \(3,\), as "
                                                        r"the first batch's \(batch 70\)"):
        mivb.estimate(iter(batches), steps=100, **QUIET)


def test_a_negative_len_counts_as_an_unknown_length():
    x, z, _ = mivb.correlated_gaussians(8000, 2, 0.5, seed=0)
    batches = [(x[i:i + 100], z[i:i + 100]) for i in range(0, 8000, 100)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = mivb.estimate(Sized(batches, -1), steps=20, **QUIET)
    assert len(result.test_values) == 4096 // 128  # HELD_OUT_PAIRS, as for a generator


# ---- 5. labels that promise too much ------------------------------------------------------------

def test_l1out_is_labelled_an_estimate_and_stays_out_of_the_bracket():
    assert mivb.estimators()["l1out"].kind == "estimate" and mivb.BOUNDS["l1out"].kind == "estimate"
    x, z, _ = GAUSSIANS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no bracket note: l1out is no upper bound to hold a lower one under
        smile, l1out = mivb.estimate(x, z, bound=["smile", "l1out"], steps=300, **QUIET)
    assert l1out.kind == "estimate" and l1out.mi < smile.mi + 0.3


def test_a_registered_bound_may_be_an_estimate_and_nothing_else():
    value = mivb.Bound("noise", lambda s, p: {"pos": (s.sum_positives(), SUM)}, lambda t, p, s: (t.mean("pos"),) * 2,
                       summary="x", kind="approximate")
    with pytest.raises(mivb.UnknownNameError, match="bound.kind: expected one of 'estimate', 'lower', 'upper'"):
        mivb.register_bound(value)


# ---- 10. pointwise on the wrong feature count ----------------------------------------------------

def test_pointwise_with_the_wrong_feature_count_is_a_clear_error():
    x, z, _ = GAUSSIANS
    result = mivb.estimate(x, z, bound="infonce", steps=40, **QUIET)
    with pytest.raises(mivb.InvalidArgumentError, match=r"z: expected samples of shape \(n, 2\), as the training "
                                                        r"pairs were, received z=ndarray\(shape=\(10, 3\)"):
        result.pointwise(x[:10], np.ones((10, 3)))


# ---- 7. folds checked before any training ------------------------------------------------------

@pytest.mark.parametrize(("folds", "pairs", "message"), [
    (5, "repeated", "fold 2 would test 0 and train on 90"),
    (60, "distinct", "fold 2 would test 1 and train on 89"),
])
def test_folds_that_leave_a_fold_short_are_refused_before_training(folds, pairs, message, monkeypatch):
    if pairs == "repeated":  # 6 distinct pairs, one of them 50 times: whole groups to each fold
        x = np.repeat(np.random.default_rng(0).normal(size=(6, 2)), [50, 10, 10, 10, 10, 10], axis=0)
        z = x + 0.1
    else:
        x, z, _ = mivb.correlated_gaussians(100, 2, 0.5, seed=0)
    monkeypatch.setattr(mivb.pipeline, "fit", lambda *args, **kwargs: pytest.fail("a fold trained"))
    with pytest.raises(mivb.InvalidArgumentError, match=f"folds: expected fewer folds for these 100 pairs: {message}"):
        mivb.estimate(x, z, bound="infonce", folds=folds, steps=20, **QUIET)


# ---- 9. tables ---------------------------------------------------------------------------------

def test_tables_with_integer_labels_and_their_faults():
    pd = pytest.importorskip("pandas")
    x, z, _ = mivb.correlated_gaussians(400, 1, 0.6, seed=0)
    expected = mivb.estimate(x, z, bound="gaussian", seed=0).mi
    frame = pd.DataFrame(np.column_stack([x, z]))  # default labels 0 and 1
    for data, names in ((frame, (0, 1)), (frame, ("0", "1")), ({0: x[:, 0], 1: z[:, 0]}, (0, 1))):
        assert mivb.estimate(*names, data=data, bound="gaussian", seed=0).mi == expected
    with pytest.raises(mivb.InvalidArgumentError, match=r"z: expected names that select one column each \(data has "
                                                        r"2 columns named 'b'\)"):
        mivb.estimate("a", "b", data=pd.DataFrame(np.column_stack([x, z, z]), columns=["a", "b", "b"]),
                      bound="gaussian")


def test_archive_members_that_cannot_be_read_are_clear_errors(tmp_path):
    x = mivb.correlated_gaussians(400, 1, 0.6, seed=0)[0]
    np.savez(tmp_path / "pairs.npz", a=x, b=np.array([object()] * 400, dtype=object))
    archive = np.load(tmp_path / "pairs.npz", allow_pickle=False)
    with pytest.raises(mivb.InvalidArgumentError, match="z: expected numeric arrays in data .'b' could not be read: "
                                                        "Object arrays cannot be loaded"):
        mivb.estimate("a", "b", data=archive, bound="gaussian")
    archive.close()
    with pytest.raises(mivb.InvalidArgumentError, match=r"data: expected an open np.load archive"):
        mivb.estimate("a", "b", data=archive, bound="gaussian")


# ---- 11. the permutation loop: bounded, projected, shown -------------------------------------

def test_a_permutation_count_beyond_memory_is_refused_before_training(monkeypatch):
    x, z, _ = GAUSSIANS
    monkeypatch.setattr(mivb.independence, "fit", lambda *args, **kwargs: pytest.fail("the critic trained"))
    with pytest.raises(mivb.InvalidArgumentError, match="permutations: expected at most 1,000,000"):
        mivb.independence_test(x, z, permutations=10**12, **QUIET)


def test_a_permutation_loop_projected_too_long_is_refused_before_it_runs(monkeypatch):
    x, z, _ = GAUSSIANS
    monkeypatch.setattr(mivb.independence, "PERMUTATION_SECONDS_LIMIT", 1e-4)
    calls = []
    original = mivb.classical.CLASSICAL["gaussian"]
    monkeypatch.setitem(mivb.classical.CLASSICAL, "gaussian", replace(
        original, function=lambda *a, **k: calls.append(1) or original.function(*a, **k)))
    with pytest.raises(mivb.InvalidArgumentError, match=r"permutations: expected at most about \d+ here: each shuffle "
                                                        r"takes .* s with gaussian, so 199 would take about"):
        mivb.independence_test(x, z, bound="gaussian", **QUIET)
    assert len(calls) == 1  # the statistic only: no shuffle ran


def test_the_permutation_loop_has_a_progress_bar(capsys):
    x, z, _ = GAUSSIANS
    mivb.independence_test(x, z, bound="gaussian", permutations=19, seed=0, progress=True)
    shown = capsys.readouterr().err
    assert "mivb gaussian permutations" in shown and "19/19" in shown


# ---- 12. bounded cost: labels, critics ---------------------------------------------------------

def test_ba_with_tens_of_thousands_of_labels_is_refused_before_building_them(monkeypatch):
    rng = np.random.default_rng(0)
    labels = np.arange(30_000)
    monkeypatch.setattr(np, "eye", lambda *args, **kwargs: pytest.fail("an identity matrix of the classes"))
    with pytest.raises(mivb.InvalidArgumentError, match=r"z: expected at most 8,947 classes for 30,000 labels "
                                                        r"\(found 30,000: their one-hot rows would take 3.35 GiB\)"):
        mivb.estimate(rng.normal(size=(30_000, 2)), labels, bound="ba", steps=2, **QUIET)
    result = mivb.estimate(rng.normal(size=(600, 2)), np.arange(600) % 3, bound="ba", steps=20, **QUIET)
    assert result.config.bound_params["entropy"] == pytest.approx(np.log(3))


def test_a_critic_too_large_to_hold_is_refused_before_it_is_built():
    x, z, _ = GAUSSIANS
    with pytest.raises(mivb.InvalidArgumentError, match=r"critic: expected a critic of at most 1e\+08 parameters "
                                                        r"\(hidden \(256, 256\), embedding 10000000 on these samples "
                                                        r"make about 5.1e\+09\)"):
        mivb.estimate(x, z, critic={"embedding": 10**7}, steps=2, **QUIET)
    assert mivb.critics.critic_parameters(mivb.CriticConfig(), (2,), (2,)) == 2 * (3 * 256 + 257 * 256 + 257 * 32)


# ---- 13. register_bound checks what it is given --------------------------------------------------

def _statistics(scores, params):
    return {"pos": (scores.sum_positives(), SUM)}


@pytest.mark.parametrize(("options", "message"), [
    ({"value": lambda t, p, s: (np.ones(3),) * 2}, ("bound.value: expected a function returning (value, surrogate), "
     "each a scalar computed from the totals (a plain Python number carries no gradient), received bound.value=a "
     "function returning ndarray(shape=(3,)")),
    ({"value": lambda t, p, s: (1.0, 1.0)}, ("bound.value: expected a function returning (value, surrogate), each a "
     "scalar")),
    ({"statistics": lambda s, p: [s.sum_positives()]}, "bound.statistics: expected a function returning a dict"),
    ({"params": {1: 2.0}}, "bound.params: expected a mapping of parameter names (strings) to their defaults"),
    ({"statistics": 3}, "bound.statistics: expected a function, received bound.statistics=3"),
    ({"fit": "likelihood"}, "bound.fit: expected None or a function"),
    ({"value": lambda t, p, s: (t.mean("neg"),) * 2}, ("bound.value: expected a function that runs on a 4 x 4 score "
     "matrix with the default parameters, received one that raised KeyError: 'neg'")),
    ({"name": "ksg"}, "bound.name: expected a name no other estimator has"),
    ({"name": "gaussian"}, "bound.name: expected a name no other estimator has"),
])
def test_register_bound_refuses_what_would_fail_in_training(options, message):
    definition = {"name": "probe", "statistics": _statistics, "value": lambda t, p, s: (t.mean("pos"),) * 2,
                  "summary": "a probe", **options}
    with pytest.raises(mivb.MivbError) as error:
        mivb.register_bound(mivb.Bound(**definition))
    assert str(error.value).startswith(message), error.value
    assert definition["name"] not in mivb.BOUNDS or definition["name"] in ("ksg", "gaussian") and \
        mivb.estimators()[definition["name"]].kind == "classical"


# ---- Messages ------------------------------------------------------------------------------------

def test_numpy_scalars_are_numbers_and_a_refused_one_shows_its_value():
    x, z, _ = GAUSSIANS
    for options in ({"bound": "smile", "clip": np.float32(5.0)}, {"bound": "alpha", "alpha": np.float32(0.5)},
                    {"test_fraction": np.float32(0.2)}):
        result = mivb.estimate(x, z, steps=5, **QUIET, **options)
        assert all(type(value) is float for value in result.config.bound_params.values()), result.config
    with pytest.raises(mivb.InvalidArgumentError, match=r"received clip=-1.0$"):
        mivb.estimate(x, z, bound="smile", clip=np.float32(-1.0), steps=5, **QUIET)
    with pytest.raises(mivb.InvalidArgumentError, match=r"received test_fraction=np.float64\(2.0\)$"):
        mivb.estimate(x, z, test_fraction=np.float64(2.0), steps=5, **QUIET)


def test_a_device_number_is_refused_and_mivb_device_is_named(monkeypatch):
    x, z, _ = GAUSSIANS
    with pytest.raises(mivb.InvalidArgumentError, match="device: expected None or a device's name"):
        mivb.estimate(x, z, bound="infonce", device=0, steps=5, **QUIET)
    monkeypatch.setenv("MIVB_DEVICE", "tpu7")
    with pytest.raises(mivb.InvalidArgumentError, match=r"MIVB_DEVICE: expected .*, received MIVB_DEVICE='tpu7'"):
        mivb.estimate(x, z, bound="infonce", backend="torch", steps=5, **QUIET)


def test_the_command_line_runs_ba_on_integer_labels(capsys, tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 900)
    x = (labels == 1)[:, None] * 2.0 + rng.normal(size=(900, 2))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "labels.npy", labels)
    np.savetxt(tmp_path / "labels.csv", labels, fmt="%d")
    for z in ("labels.npy", "labels.csv"):
        status = cli.main(["estimate", str(tmp_path / "x.npy"), str(tmp_path / z), "--bound", "ba", "--steps",
                                "50", "--seed", "0", "--json", "--no-progress"])
        out = capsys.readouterr().out
        assert status == 0 and json.loads(out)["bound"] == "ba" and json.loads(out)["mi"] > 0.1, out
    np.save(tmp_path / "floats.npy", labels + 0.5)
    assert cli.main(["estimate", str(tmp_path / "x.npy"), str(tmp_path / "floats.npy"), "--bound", "ba"]) == 3
    assert "z: expected class labels for bound 'ba'" in capsys.readouterr().err


def test_command_line_exit_statuses_of_data_and_of_options(capsys, tmp_path):
    x = np.random.default_rng(0).normal(size=(300, 30))
    np.save(tmp_path / "x.npy", x)
    status = cli.main(["estimate", str(tmp_path / "x.npy"), str(tmp_path / "x.npy"), "--bound", "ksg"])
    assert status == 3 and "mivb: x, z: expected" in capsys.readouterr().err  # the data's fault, naming both
    assert cli.main(["demo", "--samples", "3", "--no-plot"]) == 2
    assert "samples: expected at least 20 pairs" in capsys.readouterr().err


def test_ba_takes_pandas_strings_categories_and_bytes_and_says_what_it_refuses():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    labels = rng.choice(np.array(["cat", "dog", "owl"]), 900)
    x = (labels == "dog")[:, None] * 2.0 + rng.normal(size=(900, 2))
    expected = mivb.estimate(x, labels, bound="ba", steps=50, **QUIET).mi
    for z in (pd.Series(labels), pd.Series(labels, dtype="category"), pd.Series(labels, dtype="string"),
              labels.astype(bytes)):
        assert mivb.estimate(x, z, bound="ba", steps=50, **QUIET).mi == expected
    with pytest.raises(mivb.InvalidArgumentError, match="given: expected None for bound 'ba': conditional MI joins"):
        mivb.estimate(x, labels, bound="ba", given=rng.normal(size=900), steps=5, **QUIET)
    with pytest.raises(mivb.InvalidArgumentError, match="bound: expected names that all take the same z: ba takes "
                                                        "class labels"):
        mivb.estimate(x, labels, bound=["ba", "club"], steps=5, **QUIET)


def test_what_a_list_or_a_condition_would_refuse_late_is_refused_first(monkeypatch):
    x, z, _ = GAUSSIANS
    monkeypatch.setattr(mivb.pipeline, "fit", lambda *args, **kwargs: pytest.fail("a critic trained"))
    with pytest.raises(mivb.InvalidArgumentError, match="folds: expected None for a list with the classical "
                                                        "estimators ksg"):
        mivb.estimate(x, z, bound=["infonce", "ksg"], folds=3, **QUIET)
    given = np.column_stack([np.random.default_rng(0).normal(size=len(x)), np.ones(len(x))])
    with pytest.raises(mivb.InvalidArgumentError, match=r"given: expected no constant feature \(feature 1 of given "
                                                        r"equals 1 throughout"):
        mivb.estimate(x, z, given=given, bound="infonce", **QUIET)


def test_ksg_says_when_k_nears_n_and_takes_large_values_untransformed():
    x, z, _ = mivb.correlated_gaussians(100, 1, mivb.data.rho_for_mi(1, 1.0), seed=0)
    with pytest.warns(UserWarning, match="ksg with k=90 of 100 pairs counts neighbours over much of the data"):
        assert mivb.estimate(x, z, bound="ksg", k=90).mi < 0.1
    assert mivb.estimate(x * 1e25, z * 1e25, bound="ksg", transform=None).mi == \
        mivb.estimate(x, z, bound="ksg", transform=None).mi  # no critic: no float32 limit, and KSG is scale-free


def test_streams_given_to_what_needs_arrays_are_named_as_streams():
    x, z, _ = mivb.correlated_gaussians(8000, 2, 0.5, seed=0)
    batches = [(x[i:i + 100], z[i:i + 100]) for i in range(0, 8000, 100)]
    with pytest.raises(mivb.InvalidArgumentError, match="bound: expected one variational bound for a stream"):
        mivb.estimate(iter(batches), bound="ksg")
    with pytest.raises(mivb.InvalidArgumentError, match="x: expected arrays x and z, not a stream"):
        mivb.independence_test(iter(batches))


def test_a_stream_of_few_distinct_pairs_is_not_taken_for_one_that_starts_over():
    """Binary x and ternary z in batches of 8: batches recur by chance (6**8 kinds, 5,000 batches),
    and held-out pairs recur in training, as in any data of few values: no note, not unreliable."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(40_000, 1)).astype(np.float32)
    z = (x + rng.integers(0, 2, size=(40_000, 1))).astype(np.float32)
    batches = iter([(x[i:i + 8], z[i:i + 8]) for i in range(0, 40_000, 8)])
    result = mivb.estimate(batches, bound="infonce", steps=300, batch_size=32, **QUIET)
    assert not result.unreliable and not any("starts over" in note for note in result.notes), result
