"""What one test says, rule by rule: each rule judged only on its own checks; violations fail (or
warn), broken answers fail the test's first rule, the rest is not judged."""

from __future__ import annotations

import pytest

from conformance.checks import Violation
from conformance.client import BrokenResponse, TargetError
from conformance.evidence import Check, Ledger, Violations
from conformance.outcomes import judge_test
from conformance.requirements import Level
from conformance.results import Outcome, Phase

MUST = Violation("VAL-1", "empty name accepted", expected="HTTP 422", received="HTTP 200")
SHOULD = Violation("VAL-9", "malformed JSON got 400", expected="HTTP 422", received="HTTP 400")
SHOULD_PART = Violation("VAL-7", "not a track id got 400", expected="HTTP 422", received="HTTP 400", level=Level.SHOULD)
ENVELOPE = Violation("RESP-2", "the 401 body is not the error envelope", expected="the envelope", received='{"detail": "x"}')
CODE = Violation("AUTH-1", "a request without X-API-Key is rejected", expected="AUTHENTICATION_REQUIRED", received="None")
BROKEN = BrokenResponse("PATCH http://t/x: RemoteProtocolError", "curl -X PATCH http://t/x")

CALL_OK = [Phase("setup", "passed"), Phase("call", "passed"), Phase("teardown", "passed")]


def _failed(error: BaseException) -> list[Phase]:
    return [Phase("setup", "passed"), Phase("call", "failed", error), Phase("teardown", "passed")]


def _outcomes(result: object) -> dict[str, Outcome]:
    return {f.rule_id: f.outcome for f in result.findings}  # type: ignore[attr-defined]


def test_a_rule_passes_only_on_its_own_checks() -> None:
    result = judge_test("t", ("AUTH-1", "RESP-2"), CALL_OK, [Check("AUTH-1")], strict=False)
    assert result.outcome is Outcome.PASS
    assert _outcomes(result)["AUTH-1"] is Outcome.PASS
    assert _outcomes(result)["RESP-2"] is Outcome.SKIP, "a rule the test never checked is not passed"
    assert "not judged" in result.finding("RESP-2").message  # type: ignore[union-attr]


def test_an_envelope_violation_does_not_hide_the_tests_own_rule() -> None:
    """Soft RESP-2, then AUTH-1's own code check failed: both rules fail, AUTH-1 leads."""
    checks = [Check("RESP-2", ENVELOPE), Check("AUTH-1", CODE)]
    result = judge_test("t", ("AUTH-1",), _failed(CODE), checks, strict=False)
    assert _outcomes(result) == {"AUTH-1": Outcome.FAIL, "RESP-2": Outcome.FAIL}
    assert result.message.startswith("[AUTH-1]")
    assert "also violated: [RESP-2]" in result.message


def test_soft_violations_raised_at_the_end_of_the_test_count_once() -> None:
    ledger = Ledger(("AUTH-1",))
    ledger.violated(ENVELOPE, soft=True)
    ledger.passed("AUTH-1")
    with pytest.raises(Violations) as raised:
        ledger.flush()
    result = judge_test("t", ("AUTH-1",), _failed(raised.value), ledger.checks, strict=False)
    assert _outcomes(result) == {"AUTH-1": Outcome.PASS, "RESP-2": Outcome.FAIL}
    assert result.message.count("[RESP-2]") == 1


@pytest.mark.parametrize(
    ("error", "strict", "outcome", "rule"),
    [
        (MUST, False, Outcome.FAIL, "VAL-1"),
        (SHOULD, False, Outcome.WARNING, "VAL-9"),
        (SHOULD, True, Outcome.FAIL, "VAL-9"),
        (SHOULD_PART, False, Outcome.WARNING, "VAL-7"),
        (ExceptionGroup("flaky", [MUST]), False, Outcome.FAIL, "VAL-1"),
        (ExceptionGroup("outer", [ExceptionGroup("inner", [SHOULD])]), False, Outcome.WARNING, "VAL-9"),
    ],
)
def test_violations_are_verdicts_at_their_level(error: BaseException, strict: bool, outcome: Outcome, rule: str) -> None:
    result = judge_test("t", (rule,), _failed(error), [], strict=strict)
    assert _outcomes(result)[rule] is outcome
    assert result.outcome is outcome


def test_a_failure_that_did_not_replay_says_so() -> None:
    result = judge_test("t", ("VAL-1",), _failed(ExceptionGroup("flaky", [MUST])), [], strict=False)
    assert "did not replay identically" in result.message


def test_a_violation_in_setup_is_a_verdict() -> None:
    phases = [Phase("setup", "failed", MUST), Phase("teardown", "passed")]
    assert _outcomes(judge_test("t", ("SEM-1",), phases, [], strict=False))["VAL-1"] is Outcome.FAIL


def test_a_broken_answer_violates_the_tests_first_rule() -> None:
    result = judge_test("t", ("RESP-3", "OWN-1"), _failed(BROKEN), [], strict=False)
    assert _outcomes(result)["RESP-3"] is Outcome.FAIL
    assert "curl -X PATCH" in result.message


@pytest.mark.parametrize("error", [TargetError("connection refused"), RuntimeError("a bug of the suite")])
def test_anything_else_is_not_judged(error: BaseException) -> None:
    result = judge_test("t", ("VAL-1", "VAL-12"), _failed(error), [Check("VAL-1")], strict=False)
    assert result.outcome is Outcome.ERROR
    assert _outcomes(result) == {"VAL-1": Outcome.PASS, "VAL-12": Outcome.ERROR}
    assert "not judged" in result.finding("VAL-12").message  # type: ignore[union-attr]


def test_a_rule_a_violation_stopped_the_test_before_is_blocked_not_passed() -> None:
    """An accepted invalid body (VAL-1) stops the test before its VAL-12 check: VAL-12 is not judged
    by this test, which counts only when no other test judged it."""
    result = judge_test("t", ("VAL-1", "VAL-12"), _failed(MUST), [Check("VAL-1", MUST)], strict=False)
    assert _outcomes(result) == {"VAL-1": Outcome.FAIL, "VAL-12": Outcome.ERROR}
    assert result.finding("VAL-12").blocked  # type: ignore[union-attr]
    assert result.outcome is Outcome.FAIL


def test_a_skipped_test_skips_its_rules_with_the_reason() -> None:
    phases = [Phase("setup", "skipped", skip_reason="needs a foreign tenant"), Phase("teardown", "passed")]
    result = judge_test("t", ("OWN-2",), phases, [], strict=False)
    assert result.outcome is Outcome.SKIP
    assert result.finding("OWN-2").message == "needs a foreign tenant"  # type: ignore[union-attr]


def test_messages_are_redacted() -> None:
    leak = Violation("AUTH-2", "echoed", expected="401", received="the key sk_secret_0123 came back")
    result = judge_test("t", ("AUTH-2",), _failed(leak), [], strict=False, redact=lambda t: t.replace("sk_secret_0123", "***"))
    assert "sk_secret_0123" not in result.message
    assert "sk_secret_0123" not in result.finding("AUTH-2").message  # type: ignore[union-attr]
