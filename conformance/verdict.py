"""What one phase of one conformance test says about the target: a pure function, no pytest state.

A violation (:class:`~conformance.checks.Violation`) or a broken answer
(:class:`~conformance.client.BrokenResponse`) is a verdict on the target in whatever phase it is
raised (the test body, or a fixture that sets up known values), and also when hypothesis wraps it in
an exception group because the failure did not replay identically. Anything else that breaks is an
*error*: the suite or the network failed, and the target was not judged.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance import requirements
from conformance.checks import Violation
from conformance.client import BrokenResponse
from conformance.requirements import Level
from conformance.results import UNSTABLE_NOTE, Outcome

_UNSTABLE = f"\n  note: {UNSTABLE_NOTE} (intermittent or state-dependent)"


@dataclass(frozen=True)
class Judgement:
    """The outcome, the rule a failure names, its message, and (when set) the text to show instead
    of pytest's traceback."""

    outcome: Outcome
    failed_rule: str | None = None
    message: str = ""
    display: str | None = None


def find(error: BaseException | None) -> Violation | BrokenResponse | None:
    """The violation or broken answer behind ``error``: itself, or the first inside exception groups."""
    if isinstance(error, Violation | BrokenResponse):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = find(inner)
            if found is not None:
                return found
    return None


def judge(
    when: str, status: str, error: BaseException | None, rule_ids: tuple[str, ...], *, strict: bool, skip_reason: str = ""
) -> Judgement | None:
    """Judge one phase (``setup``, ``call``, ``teardown``) that ended ``passed``, ``failed`` or ``skipped``.

    ``None`` when the phase adds nothing (a passing setup or teardown).
    """
    if status == "passed":
        return Judgement(Outcome.PASS) if when == "call" else None
    if status == "skipped":
        return Judgement(Outcome.SKIP, message=skip_reason) if when in ("setup", "call") else None
    found = find(error)
    if found is None:
        where = "" if when == "call" else f" (in {when})"
        text = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
        return Judgement(Outcome.ERROR, message=text, display=f"[{', '.join(rule_ids)}] not judged{where}: {text}")
    if isinstance(found, Violation):
        rule_id, level, message = found.rule_id, found.level, str(found)
    else:  # the target broke its answer to this test's request: the test's (first) rule is violated
        rule_id = rule_ids[0]
        level, message = requirements.BY_ID[rule_id].level, f"[{rule_id}] {found.render()}"
    if found is not error:
        message += _UNSTABLE
    outcome = Outcome.WARNING if level is Level.SHOULD and not strict else Outcome.FAIL
    display = message if (found is not error or when != "call" or isinstance(found, BrokenResponse)) else None
    return Judgement(outcome, rule_id, message, display)
