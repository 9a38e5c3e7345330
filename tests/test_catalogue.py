"""The requirement catalogue matches CONTRACT.md; every rule has a test and every test a known rule."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import conformance.suite
from conformance import requirements
from conformance.requirements import Level

from .conftest import ROOT

CONTRACT = ROOT.parent / "shared" / "CONTRACT.md"


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/CONTRACT.md is not beside this checkout")
def test_catalogue_quotes_contract_word_for_word() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    rows = re.findall(r"^\| ((?:AUTH|OWN|VAL|SEM|RESP)-\d+) \| (MUST|SHOULD|MAY) \| (.*) \|$", text, re.M)
    assert [(r.id, r.level.value, r.text) for r in requirements.REQUIREMENTS] == rows
    freedoms = re.findall(r"^\| (F\d+) \| (.*?) \| (.*?) \|$", text, re.M)
    assert [(f.id, f.either, f.or_) for f in requirements.FREEDOMS] == freedoms


def test_ids_are_unique_and_well_formed() -> None:
    ids = [r.id for r in requirements.REQUIREMENTS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"(AUTH|OWN|VAL|SEM|RESP)-\d+", i) for i in ids)
    with pytest.raises(KeyError, match="unknown requirement ID 'NOPE-1'"):
        requirements.get("NOPE-1")


def _suite_markers() -> dict[str, set[str]]:
    """Every conformance test (module:name) and the rule IDs its ``requirement`` markers name."""
    found: dict[str, set[str]] = {}
    for module_info in pkgutil.iter_modules(conformance.suite.__path__):
        if not module_info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"conformance.suite.{module_info.name}")
        for name, obj in vars(module).items():
            if not name.startswith("test_") and not name.startswith("Test"):
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                marks = getattr(obj, "pytestmark", [])
                found[f"{module_info.name}:{name}"] = {i for m in marks if m.name == "requirement" for i in m.args}
    return found


def test_every_test_names_a_known_rule() -> None:
    markers = _suite_markers()
    assert markers, "no conformance test found"
    unmarked = [name for name, ids in markers.items() if not ids]
    assert unmarked == [], f"tests without @pytest.mark.requirement: {unmarked}"
    unknown = {name: ids - set(requirements.BY_ID) for name, ids in markers.items() if ids - set(requirements.BY_ID)}
    assert unknown == {}


def test_every_must_and_should_rule_has_a_test() -> None:
    tested = set().union(*_suite_markers().values())
    untested = [r.id for r in requirements.REQUIREMENTS if r.level in (Level.MUST, Level.SHOULD) and r.id not in tested]
    assert untested == [], f"rules with no conformance test: {untested}"
