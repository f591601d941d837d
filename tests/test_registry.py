"""The backend registry: names, install hints, and backends added by other packages."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import mivb

ROOT = Path(__file__).resolve().parents[1]


def test_unknown_backend_lists_the_valid_names():
    with pytest.raises(mivb.UnknownNameError) as error:
        mivb.get_backend("pytorch")
    message = str(error.value)
    assert "received backend='pytorch'" in message
    for name in ("'numpy'", "'torch'", "'jax'", "'tensorflow'"):
        assert name in message


def test_numpy_is_always_available():
    assert "numpy" in mivb.available_backends()
    assert mivb.get_backend("numpy").name == "numpy"


def test_a_plugin_registers_through_entry_points_and_a_missing_framework_names_its_install(tmp_path):
    # A third-party package: its dist-info names a BackendSpec under the "mivb.backends" group.
    dist = tmp_path / "mivb_fake-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mivb-fake\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[mivb.backends]\nfake = fake_spec:SPEC\nghost = fake_spec:GHOST\n")
    (tmp_path / "fake_spec.py").write_text(textwrap.dedent("""
        from mivb import BackendSpec
        SPEC = BackendSpec("fake", "numpy", "pip install mivb-fake", "fake_adapter")
        GHOST = BackendSpec("ghost", "ghost_framework", "pip install mivb-ghost", "ghost_adapter")
    """))
    (tmp_path / "fakearr.py").write_text("import numpy as np\nclass FakeArray(np.ndarray):\n    pass\n")
    (tmp_path / "fake_adapter.py").write_text(
        "from mivb._numpy_backend import ops, to_numpy, from_numpy\nimport fakearr\nname = 'fake'\n"
        "capabilities = frozenset()\narray_types = (fakearr.FakeArray,)\n")
    script = textwrap.dedent("""
        import numpy as np, mivb, fakearr
        assert "fake" in mivb.available_backends() and "ghost" not in mivb.available_backends()
        scores = (2.0 * np.eye(3)).view(fakearr.FakeArray)
        assert mivb.backends.backend_name_of(scores) == "fake"
        assert abs(float(mivb.bound("infonce", scores)) - 0.859068) < 1e-6
        try:
            mivb.get_backend("ghost")
        except mivb.BackendNotAvailableError as error:
            assert "pip install mivb-ghost" in str(error) and "'ghost_framework'" in str(error), error
        else:
            raise AssertionError("a backend whose framework is missing must raise")
    """)
    env_path = f"{tmp_path}:{':'.join(sys.path)}"
    result = subprocess.run([sys.executable, "-c", script], env={"PYTHONPATH": env_path}, check=False, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_bound_rejects_arrays_of_no_registered_framework():
    with pytest.raises(mivb.InvalidTypeError, match=r"registered backend .*received scores=\[\[1.0, 0.0\]"):
        mivb.bound("dv", [[1.0, 0.0], [0.0, 1.0]])


def test_bound_rejects_unknown_names_and_parameters():
    with pytest.raises(mivb.UnknownNameError, match="'infonce'"):
        mivb.bound("nce", np.eye(3))
    with pytest.raises(mivb.UnknownNameError, match=r"takes the parameters 'clip', received clipping=3"):
        mivb.bound("smile", np.eye(3), clipping=3)
    with pytest.raises(mivb.InvalidArgumentError, match=r"received clip=0"):
        mivb.bound("smile", np.eye(3), clip=0)
    with pytest.raises(mivb.InvalidArgumentError, match=r"one full \(N, N\) matrix"):
        mivb.bound("dv", np.eye(3), np.eye(3), np.eye(3))
    with pytest.raises(mivb.InvalidTypeError, match="one floating dtype"):
        mivb.bound("dv", np.zeros(3), np.zeros((3, 2), np.float32))


def test_a_plugin_backend_that_trains_is_the_default(tmp_path):
    # docs/architecture.md, "Recipe: add a backend", step by step. 1: the adapter module (here it
    # lends torch's pieces, under its own name and capabilities).
    (tmp_path / "plugged_adapter.py").write_text(textwrap.dedent("""
        from mivb_torch._ops import array_types, from_numpy, ops, to_numpy, value_and_grad
        from mivb_torch._trainer import Trainer
        name = "plugged"
        capabilities = frozenset({"autodiff", "trains"})
    """))
    # 2: its BackendSpec; 3: registered under the entry point group "mivb.backends".
    (tmp_path / "plugged_spec.py").write_text(
        "import mivb\nSPEC = mivb.BackendSpec('plugged', 'torch', 'pip install mivb-plugged', 'plugged_adapter')\n")
    dist = tmp_path / "mivb_plugged-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mivb-plugged\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mivb.backends]\nplugged = plugged_spec:SPEC\n")
    # With no built-in training backend installed, the plugin that trains is estimate's default.
    script = textwrap.dedent("""
        import mivb.backends
        mivb.backends.BUILTIN = tuple(s for s in mivb.backends.BUILTIN if s.name == "numpy")
        import mivb
        assert mivb.available_backends() == ["numpy", "plugged"], mivb.available_backends()
        x, z, _ = mivb.correlated_gaussians(600, 2, 0.8, seed=0)
        result = mivb.estimate(x, z, steps=30, batch_size=32, seed=0)
        assert result.backend == "plugged" and result.mi > 0.2, result
        try:
            mivb.estimate(x, z, steps=30, batch_size=32, seed=0, devices=2)
        except mivb.InvalidArgumentError as error:
            assert "received devices=2" in str(error), error
        else:
            raise AssertionError("a backend that does not shard must refuse devices=2")
    """)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}:{':'.join(sys.path)}"}
    result = subprocess.run([sys.executable, "-c", script], env=env, check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # 4: the conformance suite holds the plugin to the same numbers (a few checks here; its arrays are
    # torch tensors, which the built-in torch backend claims first).
    conformance = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "--backend=plugged", "-q", "-p", "no:cacheprovider",
         "-k", "value-infonce-full or gradient-smile-K5 or api-bad-scores"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300, check=False)
    assert conformance.returncode == 0 and " passed" in conformance.stdout, conformance.stdout + conformance.stderr
