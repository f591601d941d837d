"""Every example's --quick mode runs end to end and passes its own qualitative check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_") )


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_mode_passes(script, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, script, "--quick", "--out", str(tmp_path)], cwd=EXAMPLES, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "quick check passed" in result.stdout
