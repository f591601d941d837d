"""The compiled torch path, and a chunk of training that never waits on the device."""

import pytest
import torch
from mivb_torch import MIEstimator
from mivb_torch._trainer import Trainer
from torch.utils._python_dispatch import TorchDispatchMode

import mivb
from mivb.estimate import EstimateConfig

# The graph capture and autograd of the default compiler, without its code generation (minutes on
# this CPU): what differs between the compiled and the eager step is the captured graph.
CAPTURE_ONLY = {"backend": "aot_eager"}


def pairs(n=256, dim=3, seed=0):
    x, z, _ = mivb.correlated_gaussians(n, dim, 0.8, seed=seed)
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(z, dtype=torch.float32)


@pytest.mark.parametrize("bound, critic", [("mine", "separable"), ("smile", {"kind": "joint", "negative_samples": 8})])
def test_compiled_steps_train_as_the_eager_ones(bound, critic):
    x, z = pairs()
    eager = MIEstimator(3, 3, bound=bound, critic=critic, seed=0, lr=1e-3)
    compiled = MIEstimator(3, 3, bound=bound, critic=critic, seed=0, lr=1e-3, compile=CAPTURE_ONLY)
    batches = torch.as_tensor(mivb.spec.fit_schedule(256, 6, 64, 0))
    shifts = torch.randint(1, 64, (6, 8)) if isinstance(critic, dict) else None
    # float32 rounding in another order, grown over six steps: far below what a wrong graph changes
    torch.testing.assert_close(compiled.train_steps(x, z, batches, shifts), eager.train_steps(x, z, batches, shifts),
                               rtol=1e-4, atol=1e-5)
    for a, b in zip(compiled.state_dict().values(), eager.state_dict().values()):
        if isinstance(a, torch.Tensor):  # rounding differs; 1e-5 is 1% of one Adam step here
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_compile_takes_options_and_refuses_the_rest():
    with pytest.raises(mivb.InvalidArgumentError, match="compile.*True, False, or a mapping"):
        MIEstimator(3, 3, compile="yes")
    with pytest.raises(mivb.InvalidArgumentError, match="compile.*other than fullgraph"):
        MIEstimator(3, 3, compile={"fullgraph": False})
    with pytest.raises(mivb.InvalidArgumentError, match=r"compile.*True or False.*received compile=1"):
        mivb.estimate(*pairs(), backend="torch", compile=1)


class HostSyncs(TorchDispatchMode):
    """Counts the operators that make the host wait for a GPU: reading a value (``.item()``,
    ``bool(t)``, ``float(t)``), and the operators whose output size depends on values (a boolean
    mask as an index among them: on CPU its ``nonzero`` runs below the dispatcher, unseen)."""

    SYNCING = frozenset({"_local_scalar_dense", "nonzero", "masked_select", "unique", "_unique2", "item"})
    INDEXING = frozenset({"index", "index_put", "index_put_"})

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in self.SYNCING:
            self.seen.append(name)
        elif name in self.INDEXING and any(getattr(i, "dtype", None) == torch.bool for i in args[1]):
            self.seen.append(f"{name} with a boolean mask")
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("bound, precision", [("infonce", "float32"), ("mine", "bfloat16"), ("smile", "float32"),
                                              ("tuba", "float32"), ("club", "float32")])
def test_a_chunk_of_training_reads_nothing_back_until_it_ends(bound, precision):
    x, z = pairs(512)
    config = EstimateConfig(bound=bound, critic=mivb.critics.critic_config(mivb.BOUNDS[bound].critic or "separable"),
                            precision=precision, seed=0)
    trainer = Trainer(config, ((3,), (3,)), {"train": (x.numpy(), z.numpy()), "validation": (x.numpy(), z.numpy())})
    batches = mivb.spec.fit_schedule(512, 20, 64, 0)
    trainer.train(batches[:2], None)  # the first steps build Adam's state
    trainer.estimator.optimizer.zero_grad(set_to_none=True)
    train_steps = trainer.estimator.train_steps
    with HostSyncs() as syncs:
        values = train_steps(*trainer.splits["train"], torch.as_tensor(batches), None)
        trainer.estimator.batch_values(*trainer.splits["validation"], torch.as_tensor(batches[:5]), None)
    assert syncs.seen == [], f"{bound}: {len(syncs.seen)} host syncs inside a chunk ({sorted(set(syncs.seen))})"
    assert values.shape == (20,) and torch.isfinite(values).all()


def test_the_counter_sees_a_sync():
    with HostSyncs() as syncs:
        float(torch.ones(3).sum())
        torch.arange(4)[torch.arange(4) > 1]
    assert syncs.seen == ["_local_scalar_dense", "index with a boolean mask"]
