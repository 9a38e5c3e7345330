"""Baseline files: YAML or JSON lists of {rule, reason}; anything else is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import baseline


def test_yaml_and_json_give_the_same_entries() -> None:
    yaml_text = "# accepted for now\n- rule: VAL-9\n  reason: '400 until API-123'\n- {rule: OWN-6, reason: later}\n"
    json_text = '[{"rule": "VAL-9", "reason": "400 until API-123"}, {"rule": "OWN-6", "reason": "later"}]'
    assert baseline.parse(yaml_text).entries == baseline.parse(json_text).entries
    loaded = baseline.parse(yaml_text)
    assert loaded.rules == frozenset({"VAL-9", "OWN-6"})
    assert loaded.reason("VAL-9") == "400 until API-123"
    assert loaded.reason("AUTH-1") is None


def test_an_empty_file_accepts_nothing() -> None:
    assert baseline.parse("").entries == ()
    assert baseline.parse("[]").entries == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {rule: VAL-99, reason: x}", "entry 1: unknown rule ID 'VAL-99'"),
        ("- {rule: VAL-9, reason: ''}", "entry 1: rule VAL-9 needs a 'reason'"),
        ("- {rule: VAL-9, reason: a}\n- {rule: VAL-9, reason: b}", "entry 2: rule VAL-9 is listed twice"),
        ("- {rule: VAL-9, reason: a, until: 2027}", "entry 1: unknown key 'until'"),
        ("- VAL-9", "entry 1: expected {rule: ID, reason: text}, got a str"),
        ("{rule: VAL-9}", "expected a list"),
        ("- {rule: [VAL-9", "not valid YAML or JSON at line"),
    ],
)
def test_malformed_files_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(baseline.BaselineError) as error:
        baseline.parse(text, Path("b.yaml"))
    assert message in str(error.value)
    assert str(error.value).startswith("--baseline b.yaml: ")
    assert "\n" not in str(error.value)


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(baseline.BaselineError, match="cannot read it"):
        baseline.load(tmp_path / "absent.yaml")
