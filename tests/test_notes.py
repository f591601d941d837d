"""Notes are one short sentence each, ending with a code whose long explanation is in one catalogue
(mivb/notes.py), behind ``Estimate.explain`` and on the docs' page of notes (docs/notes.md).

``python tests/test_notes.py`` writes docs/notes.md from the catalogue.
"""

from __future__ import annotations

import ast
import math
import pickle
import re
import warnings
from pathlib import Path

import pytest

import mivb
from mivb.notes import NOTES, code_of, note

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "notes.md"
MAX_WORDS = 22  # a short sentence: a number or a name counts as one word


def _words(template: str) -> int:
    """The words of a filled template: a number or a name counts as one, the phrases some fields take as theirs."""
    phrases = {"within": "beyond its noise, so a term is biased low", "folds": "0.1, 0.2, 0.3", "where": "within 1 of",
               "kind": "upper bound", "repeated": "a batch came twice"}
    return len(re.sub(r"\{(\w+)[^}]*\}", lambda field: phrases.get(field.group(1), "N"), template).split())


@pytest.mark.parametrize("code", sorted(NOTES))
def test_each_note_is_one_short_sentence_with_a_longer_explanation(code):
    text = NOTES[code]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code)
    assert _words(text.short) <= MAX_WORDS, (code, text.short)
    assert not text.short.endswith(".") and ". " not in text.short, (code, text.short)  # note() ends it
    assert len(text.long.split()) > _words(text.short) + 10, code  # the explanation says more than the note


def _calls_of_note() -> dict[str, set[str]]:
    """The codes each of mivb's modules passes to ``note(...)``, read from the sources."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "mivb").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("note", "note_text")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.setdefault(node.args[0].value, set()).add(str(path.relative_to(ROOT / "mivb")))
    return found


def test_every_code_the_library_notes_is_in_the_catalogue_and_every_entry_is_used():
    used = _calls_of_note()
    assert set(used) == set(NOTES), (set(used) ^ set(NOTES))


def test_a_note_ends_with_its_code_and_every_field_is_filled():
    text = note("ceiling", bound="infonce", mi=4.6, ceiling=4.852)
    assert text == "infonce reads 4.60 nats, near its ceiling 4.85: the MI may be much higher [ceiling]."
    assert code_of(text) == "ceiling" and code_of(f"fold 1: {text}") == "ceiling"
    assert code_of("a sentence without a code") is None and code_of("ends [not-a-code].") is None
    with pytest.raises(KeyError):
        note("ceiling", bound="infonce")


@pytest.fixture(scope="module")
def capped():
    """InfoNCE on batches of 16 where the MI is 15 nats: near its ceiling log 16 = 2.77."""
    x, z, truth = mivb.correlated_gaussians(3000, 8, 0.99, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = mivb.estimate(x, z, bound="infonce", steps=300, batch_size=16, seed=0, linear_fallback=False,
                               progress=False)
    return result, caught, truth


def test_an_estimate_warns_once_with_its_short_notes(capped):
    result, caught, truth = capped
    assert truth > 15 and result.ceiling == pytest.approx(math.log(16))
    codes = [code_of(text) for text in result.notes]
    assert "ceiling" in codes and None not in codes, result.notes
    assert all(len(text.split()) <= MAX_WORDS + 2 for text in result.notes), result.notes
    [warning] = [w for w in caught if issubclass(w.category, mivb.NoteWarning)]
    assert str(warning.message).splitlines() == [*result.notes, "(result.explain() says more)"]
    assert warning.filename == __file__  # the caller's line, not mivb's


def test_explain_gives_the_long_text_of_each_note_and_of_any_code(capped):
    result, _, _ = capped
    explained = result.explain()
    for code in dict.fromkeys(map(code_of, result.notes)):
        assert f"[{code}] {NOTES[code].title}\n{NOTES[code].long}" in explained
    assert result.explain("overfits") == f"[overfits] {NOTES['overfits'].title}\n{NOTES['overfits'].long}"
    assert repr(result.explain("overfits")) == str(result.explain("overfits"))  # prints as text at the prompt
    with pytest.raises(mivb.UnknownNameError, match=r"expected one of .*'ceiling'.*received code='ceilling'"):
        result.explain("ceilling")
    clean = mivb.Estimate(mi=1.0, stderr=0.1, history=result.history, bound="infonce", backend="torch",
                          config=result.config, test_values=result.test_values)
    assert clean.explain() == "no notes: nothing to explain"


def test_notes_survive_pickling_and_stay_strings(capped):
    result, _, _ = capped
    again = pickle.loads(pickle.dumps(result))
    assert again.notes == result.notes and all(type(text) is str for text in again.notes)
    assert again.explain() == result.explain()


def page() -> str:
    """docs/notes.md, from the catalogue."""
    lines = ["# Notes on a result", "",
             "Every note on a result (`result.notes`, also raised as one warning per estimate) is one short",
             "sentence ending with a code in brackets. `result.explain()` prints the long explanation of",
             "each of its notes, `result.explain(\"ceiling\")` one code's, and `mivb explain ceiling` the",
             "same at the command line. This page lists every code; it is",
             "written from the catalogue in `mivb/notes.py` (`python tests/test_notes.py`), and a test",
             "checks that it matches.", "",
             "A note that makes the number untrustworthy also sets `result.unreliable`; see",
             "[How sure is the number](trust.md).", ""]
    for code, text in NOTES.items():
        example = text.short.replace("{", "<").replace("}", ">")
        example = re.sub(r"<(\w+)[^>]*>", r"<\1>", example)
        lines += [f"## `{code}`: {text.title}", "", f"`{example} [{code}].`", "", text.long, ""]
    return "\n".join(lines)


def test_the_docs_page_of_notes_is_the_catalogue():
    assert PAGE.read_text() == page(), "docs/notes.md is out of date: python tests/test_notes.py rewrites it"


if __name__ == "__main__":
    PAGE.write_text(page())
