"""The verdict of one test phase: violations fail (or warn), broken answers fail, the rest is not judged."""

from __future__ import annotations

import pytest

from conformance.checks import Violation
from conformance.client import BrokenResponse, TargetError
from conformance.requirements import Level
from conformance.results import Outcome
from conformance.verdict import find, judge

MUST = Violation("VAL-1", "empty name accepted", expected="HTTP 422", received="HTTP 200")
SHOULD = Violation("VAL-9", "malformed JSON got 400", expected="HTTP 422", received="HTTP 400")
SHOULD_PART = Violation("VAL-7", "not a track id got 400", expected="HTTP 422", received="HTTP 400", level=Level.SHOULD)
BROKEN = BrokenResponse("PATCH http://t/x: RemoteProtocolError", "curl -X PATCH http://t/x")


def test_passing_and_skipped_phases() -> None:
    assert judge("call", "passed", None, ("VAL-1",), strict=False) == judge("call", "passed", None, ("SEM-1",), strict=True)
    assert judge("setup", "passed", None, ("VAL-1",), strict=False) is None
    skipped = judge("setup", "skipped", None, ("OWN-2",), strict=False, skip_reason="needs a foreign tenant")
    assert skipped is not None
    assert (skipped.outcome, skipped.message) == (Outcome.SKIP, "needs a foreign tenant")


@pytest.mark.parametrize(("error", "strict", "outcome", "rule"), [
    (MUST, False, Outcome.FAIL, "VAL-1"),
    (SHOULD, False, Outcome.WARNING, "VAL-9"),
    (SHOULD, True, Outcome.FAIL, "VAL-9"),
    (SHOULD_PART, False, Outcome.WARNING, "VAL-7"),
    (BROKEN, False, Outcome.FAIL, "RESP-1"),
])  # fmt: skip
def test_violations_and_broken_answers_are_verdicts(error: BaseException, strict: bool, outcome: Outcome, rule: str) -> None:
    judgement = judge("call", "failed", error, ("RESP-1", "SEM-6"), strict=strict)
    assert judgement is not None
    assert (judgement.outcome, judgement.failed_rule) == (outcome, rule)
    assert f"[{rule}]" in judgement.message


def test_a_violation_raised_by_a_fixture_is_still_a_verdict() -> None:
    judgement = judge("setup", "failed", MUST, ("SEM-1",), strict=False)
    assert judgement is not None
    assert (judgement.outcome, judgement.failed_rule) == (Outcome.FAIL, "VAL-1")
    assert judgement.display is not None


def test_a_violation_inside_an_exception_group_is_found_and_flagged_unstable() -> None:
    group = BaseExceptionGroup("flaky", [ValueError("x"), ExceptionGroup("inner", [MUST])])
    assert find(group) is MUST
    judgement = judge("call", "failed", group, ("SEM-6",), strict=False)
    assert judgement is not None
    assert judgement.outcome is Outcome.FAIL
    assert "did not replay identically" in judgement.message


@pytest.mark.parametrize("error", [TargetError("connection refused"), RuntimeError("suite bug"), None])
def test_anything_else_is_not_judged(error: BaseException | None) -> None:
    judgement = judge("call", "failed", error, ("AUTH-1",), strict=False)
    assert judgement is not None
    assert judgement.outcome is Outcome.ERROR
    assert judgement.failed_rule is None
    assert judgement.display is not None
    assert "not judged" in judgement.display
