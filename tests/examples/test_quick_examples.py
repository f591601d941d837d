"""Every example's --quick mode runs end to end and passes its own qualitative check."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_") )


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_mode_passes(script, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, script, "--quick", "--out", str(tmp_path)], check=False, cwd=EXAMPLES,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "quick check passed" in result.stdout
    if script == "gan_25_gaussians.py":  # its last line is read by scripts: medians over the seeds run
        last = result.stdout.strip().splitlines()[-1]
        number = r"\d+(?:\.\d+)?"
        assert re.fullmatch(rf"modes: plain {number}/25, with MI {number}/25; high-quality {number}%", last), last
