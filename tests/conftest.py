"""Fixtures shared by the tests of README and the docs pages (tests/test_readme.py, tests/test_docs.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

# A printed output stated in a block, `print(x)  # prints: Estimate(mi=2.97... nats, ...)`, is checked
# against what the block prints ("..." stands for any text: digits that differ between machines). An
# output shown without being checked is marked as an example: `# e.g. Estimate(...)`.
PRINTS = re.compile(r"#\s*prints:\s*(.+?)\s*$", re.MULTILINE)


def _check_printed(code: str, out: str, where: str) -> None:
    lines = [line.strip() for line in out.splitlines()]
    for expected in PRINTS.findall(code):
        pattern = re.compile(".*?".join(re.escape(part) for part in expected.split("...")))
        assert any(pattern.fullmatch(line) for line in lines), (
            f"{where}: the text says it prints {expected!r}; it printed:\n{out}")


@pytest.fixture
def check_printed() -> Callable[[str, str, str], None]:
    """``check_printed(code, out, where)``: each ``# prints:`` of ``code`` matches a line of ``out``."""
    return _check_printed
