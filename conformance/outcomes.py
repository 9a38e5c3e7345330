"""What one conformance test says about the target, rule by rule: a pure function, no pytest state.

Its inputs are the checks the test recorded (:mod:`conformance.evidence`) and how each phase ended
(setup, call, teardown). A :class:`~conformance.checks.Violation` is a verdict in whatever phase it was
raised, and also when hypothesis wraps it in an exception group because the failure did not replay
identically; a broken answer (:class:`~conformance.client.BrokenResponse`) violates the test's first
rule. Anything else that breaks is an *error*: the suite or the network failed, and the rules the test
had not yet checked are not judged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from conformance import requirements
from conformance.checks import Violation
from conformance.client import BrokenResponse
from conformance.evidence import Check, Violations, leading
from conformance.requirements import Level
from conformance.results import UNSTABLE_NOTE, Evidence, Finding, FreedomObservation, Outcome, Phase, TestResult, worst

_UNSTABLE = f"\n  note: {UNSTABLE_NOTE} (intermittent or state-dependent)"


def violations_in(error: BaseException | None, *, grouped: bool = False) -> Iterator[tuple[Violation, bool]]:
    """Every violation behind ``error`` (itself, a :class:`Violations`, or inside exception groups),
    each with whether it came out of a group (hypothesis could not replay it identically)."""
    if isinstance(error, Violation):
        yield error, grouped
    elif isinstance(error, Violations):
        for violation in error.violations:
            yield violation, grouped
    elif isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from violations_in(inner, grouped=True)


def broken_in(error: BaseException | None) -> BrokenResponse | None:
    """The broken answer behind ``error``, if any."""
    if isinstance(error, BrokenResponse):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = broken_in(inner)
            if found is not None:
                return found
    return None


def _flushed(error: BaseException | None, violation: Violation) -> bool:
    """Whether ``violation`` came out of a :class:`Violations`: soft ones, raised once the checks were done."""
    if isinstance(error, Violations):
        return any(v is violation for v in error.violations)
    if isinstance(error, BaseExceptionGroup):
        return any(_flushed(inner, violation) for inner in error.exceptions)
    return False


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def judge_test(
    nodeid: str,
    rule_ids: tuple[str, ...],
    phases: Sequence[Phase],
    checks: Sequence[Check],
    *,
    strict: bool,
    redact: Callable[[str], str] = str,
    duration: float = 0.0,
    freedoms: Sequence[FreedomObservation] = (),
) -> TestResult:
    """The test's result: a :class:`~conformance.results.Finding` for each rule it judged, and its
    overall outcome (the worst finding; *error* when it broke before judging every rule it names)."""
    raised: list[Violation] = []
    flushed: set[int] = set()  # raised together at the end, after every check: they stopped nothing
    unstable: set[int] = set()
    errors: list[str] = []
    skipped = ""
    for phase in phases:
        if phase.status == "skipped" and phase.when in ("setup", "call"):
            skipped = phase.skip_reason or "skipped"
        if phase.status != "failed":
            continue
        found = list(violations_in(phase.error))
        for violation, grouped in found:
            raised.append(violation)
            if _flushed(phase.error, violation):
                flushed.add(id(violation))
            if grouped:
                unstable.add(id(violation))
        broken = broken_in(phase.error)
        if broken is not None and rule_ids:
            rule = requirements.BY_ID[rule_ids[0]]
            raised.append(
                Violation(rule.id, "the target broke its answer", expected="a complete HTTP response", received=broken.render())
            )
        elif not found:
            where = "" if phase.when == "call" else f" (in {phase.when})"
            errors.append(_error_text(phase.error) + where if phase.error is not None else f"unknown error{where}")
    recorded = [c.violation for c in checks if c.violation is not None]
    known = {id(v) for v in recorded}
    every = recorded + [v for v in raised if id(v) not in known]
    passed = {c.rule_id for c in checks if c.violation is None}
    order = list(dict.fromkeys([*rule_ids, *(c.rule_id for c in checks), *(v.rule_id for v in every)]))
    hard = [v for v in raised if id(v) not in flushed]
    stopped_by = next((v for v in hard if v.rule_id not in passed), hard[0] if hard else None)

    def message_of(violation: Violation) -> str:
        text = violation.render()
        return redact(text + _UNSTABLE if id(violation) in unstable else text)

    def evidence_of(violation: Violation) -> tuple[Evidence, ...]:
        return tuple(Evidence(redact(e.curl()), redact(e.describe())) for e in violation.exchanges[-3:])

    findings: list[Finding] = []
    for rule_id in order:
        mine = [v for v in every if v.rule_id == rule_id]
        if mine:
            # the violation the test ended on (hypothesis' shrunk example) explains it best
            lead = next((v for v in reversed(raised) if v.rule_id == rule_id), mine[0])
            must = any(v.level is Level.MUST for v in mine) or strict
            findings.append(Finding(rule_id, Outcome.FAIL if must else Outcome.WARNING, message_of(lead), evidence_of(lead)))
        elif rule_id in passed:
            findings.append(Finding(rule_id, Outcome.PASS))
        elif skipped:
            findings.append(Finding(rule_id, Outcome.SKIP, redact(skipped)))
        elif errors:
            findings.append(Finding(rule_id, Outcome.ERROR, redact(f"not judged: {errors[0]}")))
        elif stopped_by is not None:
            why = f"not judged: the test stopped at a violation of {stopped_by.rule_id} before it checked {rule_id}"
            findings.append(Finding(rule_id, Outcome.ERROR, why, blocked=True))
        else:
            why = f"not judged by {nodeid}: none of its checks of {rule_id} applied to this target"
            findings.append(Finding(rule_id, Outcome.SKIP, why))
    # a test that judged nothing (every rule it names skipped, or none applied) is skipped
    # (a rule another violation kept this test from judging says nothing of the test itself)
    outcome = worst(f.outcome for f in findings if f.outcome is not Outcome.SKIP and not f.blocked) or Outcome.SKIP
    if errors and outcome is not Outcome.FAIL:
        outcome = Outcome.ERROR
    if every:
        one_each: dict[str, Violation] = {}
        for violation in leading(every, rule_ids):
            one_each.setdefault(violation.rule_id, violation)
        first_of_each = list(one_each.values())
        lead = next((v for v in reversed(raised) if v.rule_id == first_of_each[0].rule_id), first_of_each[0])
        others = [f"  also violated: [{v.rule_id}] {v.title}" for v in first_of_each[1:]]
        message = "\n".join([message_of(lead), *others])
    else:
        message = redact(f"not judged: {errors[0]}") if errors else redact(skipped) if skipped else ""
    return TestResult(nodeid, rule_ids, outcome, message, tuple(findings), duration, tuple(freedoms))
