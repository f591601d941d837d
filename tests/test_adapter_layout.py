"""Every built-in backend is laid out alike, so that adding one is a checklist (docs/architecture.md,
"How a backend plugs in"): the same modules in each adapter, the same test files in its tests."""

from pathlib import Path

import pytest

from mivb.backends import BUILTIN

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = [spec.name for spec in BUILTIN if spec.adapter == f"mivb_{spec.name}"]  # numpy's lives in mivb/
ADAPTER_FILES = ["__init__.py", "_ops.py", "_critics.py", "_estimator.py", "_trainer.py", "_distributed.py", "py.typed"]
TEST_FILES = ["test_adapter.py", "test_distributed.py", "test_init_parity.py", "test_module_critic.py",
              "test_precision.py"]


def files_in(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir() if path.is_file()}


def test_the_built_in_adapters_are_found():
    assert ADAPTERS == ["torch", "jax", "tensorflow"]


@pytest.mark.parametrize("backend", ADAPTERS)
def test_each_adapter_has_the_same_files(backend):
    assert set(ADAPTER_FILES) - files_in(ROOT / "adapters" / f"mivb_{backend}") == set()


@pytest.mark.parametrize("backend", ADAPTERS)
def test_each_adapter_has_the_same_test_files(backend):
    assert set(TEST_FILES) - files_in(ROOT / "tests" / f"{backend}_adapter") == set()


def test_the_checklist_names_every_file():
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    checklist = architecture[architecture.index("### Checklist: a built-in backend"):]
    assert [name for name in ADAPTER_FILES + TEST_FILES if f"`{name}`" not in checklist] == []
