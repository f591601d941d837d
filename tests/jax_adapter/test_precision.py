"""Mixed precision in JAX: each step casts the float32 parameters and samples to the half dtype."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from mivb_jax import MIEstimator

import mivb


def pairs(n=64, dim=3):
    x, z, _ = mivb.correlated_gaussians(n, dim, 0.8, seed=0)
    return jnp.asarray(x, jnp.float32), jnp.asarray(z, jnp.float32)


def dot_dtypes(estimator, state, x, z):
    """The operand dtypes of every matrix product in the traced step (the critic's layers)."""
    jaxpr = jax.make_jaxpr(lambda s: estimator.update(s, x, z))(state)
    found = set()

    def walk(jaxpr):
        for equation in jaxpr.eqns:
            if equation.primitive.name == "dot_general":
                found.update(str(v.aval.dtype) for v in equation.invars)
            for param in equation.params.values():  # the bodies of pjit, scan, custom_jvp, ...
                for item in param if isinstance(param, (tuple, list)) else (param,):
                    inner = getattr(item, "jaxpr", item)
                    if hasattr(inner, "eqns"):
                        walk(inner)
    walk(jaxpr.jaxpr)
    return found


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_the_critic_computes_in_half_precision_and_the_bound_in_float32(precision):
    estimator = MIEstimator(3, 3, bound="smile", seed=0, precision=precision, lr=1e-3)
    state = estimator.init()
    x, z = pairs()
    assert dot_dtypes(estimator, state, x, z) == {precision}
    output = estimator.apply(state, x, z)
    new_state, value = estimator.update(state, x, z)
    assert output.mi.dtype == output.mi_for_grads.dtype == value.dtype == jnp.float32 and jnp.isfinite(value)
    leaves = jax.tree.leaves(new_state.params)
    assert all(leaf.dtype == jnp.float32 for leaf in leaves)
    assert any(not jnp.array_equal(a, b) for a, b in zip(jax.tree.leaves(state.params), leaves))
    assert MIEstimator(3, 3, bound="smile", seed=0) != estimator  # compiled code is not shared across dtypes


def test_float32_computes_in_float32_and_precision_is_validated():
    estimator = MIEstimator(3, 3, bound="smile", seed=0)
    assert dot_dtypes(estimator, estimator.init(), *pairs()) == {"float32"}
    with pytest.raises(mivb.InvalidArgumentError, match=r"precision.*'float32', 'bfloat16', 'float16'.*half"):
        MIEstimator(3, 3, precision="half")


def test_estimate_trains_a_bfloat16_critic():
    x, z, _ = mivb.correlated_gaussians(1000, 2, 0.6, seed=0)
    result = mivb.estimate(x, z, backend="jax", precision="bfloat16", steps=60, seed=0, progress=False)
    assert result.config.precision == "bfloat16" and result.estimator.estimator.spec.precision == "bfloat16"
    assert np.all(np.isfinite(result.history))
