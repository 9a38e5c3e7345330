"""The mutation self-test: the suite fails every fault, naming its rule, and passes every conformant variant.

The runs (one per fault, variant and the plain stub) happen once, in parallel, in the session-scoped
``verdicts`` fixture; each entry then has its own test, and ``test_score`` prints the score line
(``caught N/N faults, 0 false alarms on M conformant variants``) and what the runs cost.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conformance import requirements
from conformance.requirements import Level
from conformance.stub import create
from conformance.stub.faults import CATALOGUE, FAULTS, VARIANTS

from . import mutation_support as mutation

MUST_RULES = sorted(r.id for r in requirements.REQUIREMENTS if r.level is Level.MUST)
SHOULD_RULES = sorted(r.id for r in requirements.REQUIREMENTS if r.level is Level.SHOULD)


@pytest.fixture(scope="session")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, mutation.Verdict]:
    started = time.perf_counter()
    found = mutation.run_all(mutation.entries(), tmp_path_factory.mktemp("mutation"))
    found["__wall__"] = mutation.Verdict(mutation.Entry("__wall__", "wall"), 0, time.perf_counter() - started)
    return found


def _runs(verdicts: dict[str, mutation.Verdict]) -> dict[str, mutation.Verdict]:
    return {name: verdict for name, verdict in verdicts.items() if name != "__wall__"}


# ---- the catalogue itself (no runs) -------------------------------------------------------------


def test_there_are_enough_faults_and_variants() -> None:
    assert len(FAULTS) >= 30, sorted(FAULTS)
    assert len(VARIANTS) >= 15, sorted(VARIANTS)
    assert set(CATALOGUE) == set(FAULTS) | set(VARIANTS)


def test_every_must_rule_has_a_fault() -> None:
    covered = {rule for cls in FAULTS.values() for rule in cls.breaks}
    assert not set(MUST_RULES) - covered, f"MUST rules without a fault: {sorted(set(MUST_RULES) - covered)}"


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_names_known_must_rules_in_its_docstring(name: str) -> None:
    cls = FAULTS[name]
    assert cls.breaks, f"{name}: no rule in breaks"
    for rule in cls.breaks:
        assert rule in MUST_RULES, f"{name}: {rule} is not a MUST rule of the catalogue"
        assert rule in (cls.__doc__ or ""), f"{name}: the docstring does not name {rule}"


def test_every_freedom_is_taken_the_other_way_and_should_rules_are_broken() -> None:
    taken = {cls.freedom for cls in VARIANTS.values()}
    assert not set(requirements.FREEDOMS_BY_ID) - taken, f"freedoms without a variant: {set(requirements.FREEDOMS_BY_ID) - taken}"
    assert "SHOULD" in taken
    warned = {rule for cls in VARIANTS.values() for rule in cls.warns}
    allowed = {*SHOULD_RULES, "VAL-7"}  # VAL-7: 4xx MUST, 422 SHOULD
    assert warned <= allowed, f"variants may only break SHOULD rules: {sorted(warned - allowed)}"
    assert set(SHOULD_RULES) <= warned, f"SHOULD rules no variant breaks: {sorted(set(SHOULD_RULES) - warned)}"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_names_its_freedom_in_its_docstring(name: str) -> None:
    cls = VARIANTS[name]
    assert cls.freedom in {*requirements.FREEDOMS_BY_ID, "SHOULD"}, f"{name}: unknown freedom {cls.freedom!r}"
    for word in (cls.freedom, *cls.warns):
        assert word in (cls.__doc__ or ""), f"{name}: the docstring does not name {word}"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_create_serves_the_named_entry(name: str) -> None:
    app = create(name)
    assert type(app) is CATALOGUE[name]
    assert app.name == name


# ---- the runs ----------------------------------------------------------------------------------


def test_plain_stub_passes_without_warnings(verdicts: dict[str, mutation.Verdict]) -> None:
    verdict = verdicts[mutation.REFERENCE]
    assert verdict.passed, verdict.explain()
    assert not verdict.with_outcome("warning"), "the reference stub keeps every SHOULD rule:\n" + verdict.explain()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_conformant_variant_passes(name: str, verdicts: dict[str, mutation.Verdict]) -> None:
    verdict = verdicts[name]
    assert verdict.ok, verdict.explain()


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_is_caught_naming_its_rule(name: str, verdicts: dict[str, mutation.Verdict]) -> None:
    verdict = verdicts[name]
    assert verdict.caught, verdict.explain()


def test_score(verdicts: dict[str, mutation.Verdict], capsys: pytest.CaptureFixture[str]) -> None:
    runs = _runs(verdicts)
    line = mutation.score(runs, verdicts["__wall__"].seconds)
    should = [v.explain() for v in runs.values() if v.entry.kind == "variant" and v.entry.expects]
    problems = [v.explain() for v in runs.values() if not v.ok]
    with capsys.disabled():
        print(f"\n{line}\n{mutation.cost_table(runs)}")
        print("SHOULD-only variants and their warnings:\n" + "\n".join(should))
    assert not problems, f"{line}\n\n" + "\n\n".join(problems)


def test_reading_a_junit_file_finds_failed_rules(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite><testcase classname="c" name="t">'
        '<properties><property name="requirement" value="SEM-3"/><property name="outcome" value="fail"/>'
        '<property name="violated" value="VAL-3"/>'
        '<property name="message" value="[VAL-3] too long&#10;  rule (MUST): ..."/></properties>'
        '<failure message="x">trace</failure></testcase>'
        '<testcase classname="c" name="u"><properties><property name="requirement" value="SEM-1"/>'
        '<property name="outcome" value="pass"/></properties></testcase></testsuite></testsuites>'
    )
    cases = mutation.read_junit(junit)
    fault = mutation.Entry("x", "fault", ("VAL-3",))
    assert mutation.Verdict(fault, 1, 0.0, cases, word="fail").caught
    assert not mutation.Verdict(fault, 1, 0.0, cases, word="not judged").caught  # the report must say FAIL too
    assert not mutation.Verdict(mutation.Entry("x", "fault", ("SEM-1",)), 1, 0.0, cases, word="fail").caught
    assert not mutation.Verdict(fault, 3, 0.0, cases, word="fail").caught  # not judged is not caught
    assert not mutation.Verdict(mutation.Entry("v", "variant"), 0, 0.0, cases, word="pass").ok  # a failed test is a false alarm
