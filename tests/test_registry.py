"""The backend registry: names, install hints, and backends added by other packages."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mivb


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
    result = subprocess.run([sys.executable, "-c", script], env={"PYTHONPATH": env_path}, capture_output=True,
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
