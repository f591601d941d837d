"""benchmarks/screening.py's --quick mode runs end to end: every method's row, with numbers that make sense."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_quick_mode_screens_and_compares(tmp_path):
    stem = tmp_path / "screening_quick"  # an absolute stem: the results land here, not in benchmarks/results
    result = subprocess.run([sys.executable, "screening.py", "--quick", "--workers", "1", "--stem", str(stem)],
                            check=False, cwd=BENCHMARKS, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| method | seeds | MAE (nats) | Spearman | FDR at q = 0.1" in result.stdout
    rows = {row["method"]: row for row in json.loads(stem.with_suffix(".json").read_text())["rows"]}
    assert list(rows) == ["mivb.screen, 1 worker", "sklearn mutual_info_regression", "ksg shuffle, 99 perms"]
    for row in rows.values():
        assert row["seeds"] == 2 and row["seconds"] > 0
        assert 0 < row["mae"] < 0.1 and row["spearman"] > 0.5  # 500 rows: every method ranks the strong first
        assert 0 <= row["fdr"] <= 1 and row["discoveries"] >= 5  # the strong columns at least
    assert rows["mivb.screen, 1 worker"]["families"] == "ksg 24"  # one column against a one-column target
    assert rows["sklearn mutual_info_regression"]["tested_by"] == "ksg shuffle, 99 perms"
