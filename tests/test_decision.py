"""The gate's one decision, over every combination of what a run can hold: violations, warnings,
errors, a failed restore, an interrupt, the time bound, a dead target and a baseline."""

from __future__ import annotations

import itertools

import pytest

from conformance.gate import Facts, Restore, Stop, decide, kind_of
from conformance.results import ExitCode, Finding, Outcome, TestResult

PASS = TestResult("t::pass", ("AUTH-1",), Outcome.PASS, findings=(Finding("AUTH-1", Outcome.PASS),))
FAIL = TestResult("t::fail", ("VAL-1",), Outcome.FAIL, "[VAL-1] x", (Finding("VAL-1", Outcome.FAIL, "[VAL-1] x"),))
WARN = TestResult("t::warn", ("OWN-6",), Outcome.WARNING, "[OWN-6] x", (Finding("OWN-6", Outcome.WARNING, "[OWN-6] x"),))
ERROR = TestResult("t::error", ("SEM-1",), Outcome.ERROR, "not judged: x", (Finding("SEM-1", Outcome.ERROR, "not judged: x"),))
ENVELOPE = TestResult(
    "t::envelope",
    ("AUTH-1",),
    Outcome.FAIL,
    "[AUTH-1] x",
    (Finding("AUTH-1", Outcome.FAIL, "[AUTH-1] x"), Finding("RESP-2", Outcome.FAIL, "[RESP-2] y")),
)
OK = Restore("verified", "collection restored and verified")
FAILED = Restore("failed", "RESTORE FAILED for collection mcoll_1 ...: put them back by hand.")

STOPS = [Stop.NONE, Stop.INTERRUPTED, Stop.OUT_OF_TIME, Stop.TARGET_DOWN]


@pytest.mark.parametrize(
    ("tests", "restore", "stop", "accepted"),
    list(
        itertools.product(
            [[PASS], [PASS, WARN], [PASS, ERROR], [FAIL], [FAIL, ERROR, WARN]], [OK, FAILED], STOPS, [{}, {"VAL-1": "t"}]
        )
    ),
)
def test_every_combination(tests: list[TestResult], restore: Restore, stop: Stop, accepted: dict[str, str]) -> None:
    verdict = decide(Facts(tests, False, accepted, restore, stop, f"stopped: {stop.value}"))
    violated = any(t is FAIL for t in tests) and "VAL-1" not in accepted
    if violated:
        expected = ExitCode.VIOLATED  # a MUST violation is a FAIL whatever else happened
    elif restore is FAILED:
        expected = ExitCode.NOT_JUDGED
    elif stop is Stop.INTERRUPTED:
        expected = ExitCode.INTERRUPTED
    elif ERROR in tests or stop in (Stop.OUT_OF_TIME, Stop.TARGET_DOWN):
        expected = ExitCode.NOT_JUDGED
    else:
        expected = ExitCode.OK
    assert verdict.exit_status is expected
    assert verdict.word == {0: "pass", 1: "fail", 2: "interrupted", 3: "not judged"}[int(expected)]
    assert verdict.headline.startswith(verdict.word.upper() + ": ")
    if restore is FAILED:
        assert verdict.notes[0] == FAILED.message, "a failed restore is the second loud line of every verdict"
    if stop is not Stop.NONE:
        assert f"stopped: {stop.value}" in verdict.notes
    if violated:
        assert "VAL-1" in verdict.summary
    if WARN in tests:
        assert "OWN-6" in verdict.summary
    if FAIL in tests and "VAL-1" in accepted:
        assert verdict.rule("VAL-1").status == "accepted"
        assert "accepted by the baseline: VAL-1" in verdict.summary


def test_a_baseline_accepts_its_own_rule_and_nothing_else() -> None:
    """The envelope is accepted; AUTH-1, judged on its own check, still fails the run."""
    verdict = decide(Facts([ENVELOPE], accepted={"RESP-2": "framework bodies"}))
    assert verdict.exit_status is ExitCode.VIOLATED
    assert verdict.rule("RESP-2").status == "accepted"
    assert verdict.rule("AUTH-1").status == "fail"
    assert [t.kind for t in verdict.tests] == ["failure"]
    accepted_all = decide(Facts([ENVELOPE], accepted={"RESP-2": "a", "AUTH-1": "b"}))
    assert accepted_all.exit_status is ExitCode.OK
    assert [t.kind for t in accepted_all.tests] == ["accepted"]


def test_strict_runs_fail_on_should_violations() -> None:
    strict_warn = TestResult("t", ("OWN-6",), Outcome.FAIL, "[OWN-6] x", (Finding("OWN-6", Outcome.FAIL, "[OWN-6] x"),))
    assert decide(Facts([strict_warn], strict=True)).exit_status is ExitCode.VIOLATED
    assert decide(Facts([WARN])).exit_status is ExitCode.OK


def test_a_rule_no_check_judged_is_never_passed() -> None:
    never = TestResult("t", ("SEM-8",), Outcome.SKIP, findings=(Finding("SEM-8", Outcome.SKIP, "not judged by t"),))
    verdict = decide(Facts([PASS, never]))
    assert verdict.rule("SEM-8").status == "skip"
    assert verdict.rule("SEM-1").status == "skip"  # no test of it at all


def test_a_blocked_rule_counts_only_when_nothing_else_judged_it() -> None:
    blocked = TestResult(
        "t::b", ("VAL-1", "VAL-12"), Outcome.FAIL, "x",
        (Finding("VAL-1", Outcome.FAIL, "x"), Finding("VAL-12", Outcome.ERROR, "not judged: stopped", blocked=True)),
    )  # fmt: skip
    judged = TestResult("t::j", ("VAL-12",), Outcome.PASS, findings=(Finding("VAL-12", Outcome.PASS),))
    assert decide(Facts([blocked, judged])).rule("VAL-12").status == "pass"
    alone = decide(Facts([blocked], accepted={"VAL-1": "accepted"}))
    assert alone.rule("VAL-12").status == "error"
    assert alone.exit_status is ExitCode.NOT_JUDGED, "an accepted violation must not hide a rule it kept from being judged"


def test_tests_never_run_are_not_run_and_their_rules_not_judged() -> None:
    never = TestResult(
        "t::n", ("OWN-1",), Outcome.ERROR, "not run: x", (Finding("OWN-1", Outcome.ERROR, "not run: x"),), not_run=True
    )
    verdict = decide(Facts([PASS, never], stop=Stop.TARGET_DOWN, stop_message="the target stopped answering at 10:00"))
    assert verdict.exit_status is ExitCode.NOT_JUDGED
    assert [t.kind for t in verdict.tests] == ["pass", "not run"]
    assert verdict.rule("OWN-1").status == "error"
    assert "the target stopped answering at 10:00" in verdict.notes


@pytest.mark.parametrize(
    ("result", "kind"),
    [(PASS, "pass"), (FAIL, "failure"), (WARN, "warning"), (ERROR, "error"), (ENVELOPE, "failure")],
)
def test_kind_of_each_test(result: TestResult, kind: str) -> None:
    assert kind_of(result, {}) == kind


def test_baseline_entries_say_what_became_of_them() -> None:
    verdict = decide(Facts([FAIL, PASS], accepted={"VAL-1": "a", "AUTH-1": "b", "SEM-1": "c"}))
    assert dict(verdict.baseline) == {"VAL-1": "accepted", "AUTH-1": "removable", "SEM-1": "kept"}
