"""Mixed precision in torch: the critic computes under autocast, its parameters stay float32."""

import io

import numpy as np
import pytest
import torch
from mivb_torch import MIEstimator

import mivb


def pairs(n=64, dim=3):
    x, z, _ = mivb.correlated_gaussians(n, dim, 0.8, seed=0)
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(z, dtype=torch.float32)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
@pytest.mark.parametrize("critic", ["separable", "joint", {"kind": "separable", "negative_samples": 4}])
def test_the_critic_computes_in_half_precision_and_the_bound_in_float32(precision, critic):
    estimator = MIEstimator(3, 3, bound="smile", critic=critic, seed=0, precision=precision, lr=1e-3)
    layers = [m for m in estimator.critic.modules() if isinstance(m, torch.nn.Linear)]
    outputs = []
    handle = layers[-1].register_forward_hook(lambda module, inputs, output: outputs.append(output.dtype))
    x, z = pairs()
    mi, mi_for_grads = estimator(x, z)
    before = [p.detach().clone() for p in estimator.critic.parameters()]
    estimator.update(x, z)
    handle.remove()
    assert set(outputs) == {getattr(torch, precision)}
    assert mi.dtype == mi_for_grads.dtype == torch.float32 and torch.isfinite(mi)
    assert all(p.dtype == torch.float32 for p in estimator.critic.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, estimator.critic.parameters()))  # it stepped
    # float16 scales the loss (dynamic loss scaling); bfloat16 has float32's range and needs none
    assert estimator._scaler(x.device).is_enabled() == (precision == "float16")


def test_float16_loss_scale_is_saved_and_restored():
    x, z = pairs()
    trained = MIEstimator(3, 3, bound="infonce", seed=0, precision="float16")
    for _ in range(3):
        trained.update(x, z)
    scale = trained._scaler(x.device).get_scale()
    trained._scaler(x.device).update(new_scale=scale / 8)  # as after overflowed steps
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    restored = MIEstimator(3, 3, bound="infonce", seed=1, precision="float16")
    restored.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=True))
    assert restored._scaler(x.device).get_scale() == scale / 8
    torch.testing.assert_close(restored.update(x, z), trained.update(x, z))
    for precision in ("float32", "bfloat16"):  # no loss scale to save: a stepped estimator still round-trips
        stepped = MIEstimator(3, 3, bound="infonce", seed=0, precision=precision)
        stepped.update(x, z)
        MIEstimator(3, 3, bound="infonce", seed=1, precision=precision).load_state_dict(stepped.state_dict())


def test_half_precision_scores_stay_close_to_float32_ones():
    x, z = pairs()
    full, half = (MIEstimator(3, 3, bound="infonce", seed=0, precision=p) for p in ("float32", "bfloat16"))
    half.load_state_dict(full.state_dict())
    # bfloat16 keeps 8 bits of mantissa: scores of size ~10 agree to about 10 * 2**-8 per entry
    assert float(half(x, z).mi) == pytest.approx(float(full(x, z).mi), abs=0.1)


def test_precision_is_validated_and_reproduced():
    with pytest.raises(mivb.InvalidArgumentError, match=r"precision.*'float32', 'bfloat16', 'float16'.*float64"):
        MIEstimator(3, 3, precision="float64")
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.6, seed=0)
    result = mivb.estimate(x, z, backend="torch", precision="bfloat16", steps=60, seed=0, progress=False)
    assert result.config.precision == "bfloat16" and result.estimator.spec.precision == "bfloat16"
    again = mivb.estimate(x, z, **result.config.to_kwargs(), progress=False)
    np.testing.assert_array_equal(again.history, result.history)
    assert again.mi == result.mi
