"""README's code blocks marked ``<!-- runs -->`` run as written: a claim in README is a test."""

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"<!-- runs -->\n```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_runnable_blocks():
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(code, capsys, check_printed):
    import mivb

    before = dict(mivb.BOUNDS)
    try:
        exec(compile(code, "README.md", "exec"), {})
        check_printed(code, capsys.readouterr().out, "README.md")  # its "# prints: ..." comments
    finally:  # a block may register a bound: leave the registry as it was
        mivb.BOUNDS.clear()
        mivb.BOUNDS.update(before)
