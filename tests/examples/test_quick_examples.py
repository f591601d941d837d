"""Every example's --quick mode runs end to end and passes its own qualitative check."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


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


def test_gan_variants_runs_every_knob(tmp_path):
    """benchmarks/gan_variants.py, whose runs the GAN example's docstring reports, still runs with each of its knobs."""
    import numpy as np

    script = EXAMPLES.parent / "benchmarks" / "gan_variants.py"
    out = tmp_path / "samples.npz"
    runs = (["--codes", "5", "--channel-start", "0.05", "--ramp", "40", "--channel", "0.5", "--r1", "1",
             "--init-scale", "10"],
            ["--continuous", "2", "--channel", "0.5", "--warmup", "20", "--beta", "3", "--beta-end", "0.5"])
    for flags in runs:
        result = subprocess.run([sys.executable, str(script), "--steps", "80", *flags, "--out", str(out)], check=False,
                                env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        printed = result.stdout.strip()
        assert re.search(r"\| @10: \d+/25 \d+%  @20: .* @80: \d+/25 \d+% \| \d+ s$", printed), result.stdout
        samples = np.load(out)
        assert sorted(samples.files, key=int) == ["10", "20", "40", "60", "80"]
        assert samples["80"].shape == (2500, 2) and np.isfinite(samples["80"]).all()
