"""Outcomes of tests and of rules. The report reads these; nothing here reads the report.

Outcomes are distinct words: ``pass``, ``fail`` (a MUST rule, or a SHOULD rule in a strict run, is
violated), ``warning`` (a SHOULD rule is violated), ``skip`` (the rule needs a value that was not
configured), ``error`` (the suite or the network broke; the target was not judged). A rule's outcome
is its worst test's.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field

from conformance import requirements

#: Marks the message of a failure that did not replay identically (see ``conformance.verdict``).
UNSTABLE_NOTE = "the failure did not replay identically"


class Outcome(enum.Enum):
    PASS = "pass"
    SKIP = "skip"
    WARNING = "warning"
    ERROR = "error"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return list(Outcome).index(self)


class ExitCode(enum.IntEnum):
    """The run's exit statuses (documented in the README)."""

    OK = 0  # every MUST rule holds (and every SHOULD rule, with --strict)
    VIOLATED = 1  # a MUST rule (or, with --strict, a SHOULD rule) is violated
    INTERRUPTED = 2  # interrupted (Ctrl-C, SIGTERM); the collection was still restored
    NOT_JUDGED = 3  # the target could not be judged: unreachable, transport errors, failed restore
    USAGE = 4  # misconfiguration: a missing or malformed option


@dataclass(frozen=True)
class Evidence:
    """One exchange, already redacted: the request as a ``curl`` command and the response as read."""

    curl: str
    response: str


@dataclass(frozen=True)
class FreedomObservation:
    """Which side of a freedom (F1-F14) a test saw the target take: ``either`` or ``or`` (CONTRACT.md)."""

    freedom_id: str
    side: str
    note: str = ""
    nodeid: str = ""


@dataclass
class TestResult:
    """One test's outcome, the rules it names, and the evidence of a failure or warning (redacted)."""

    nodeid: str
    rule_ids: tuple[str, ...]
    outcome: Outcome
    message: str = ""
    failed_rule: str | None = None
    evidence: tuple[Evidence, ...] = ()
    duration: float = 0.0


@dataclass
class RuleResult:
    """A rule's verdict over every test that names it."""

    requirement: requirements.Requirement
    outcome: Outcome = Outcome.SKIP
    tests: list[TestResult] = field(default_factory=list)

    @property
    def first_problem(self) -> TestResult | None:
        problems = [
            t for t in self.tests if rule_outcome(self.requirement.id, t) in (Outcome.FAIL, Outcome.WARNING, Outcome.ERROR)
        ]
        # a failure that replays is the better evidence than one hypothesis could not reproduce
        replayable = [t for t in problems if UNSTABLE_NOTE not in t.message]
        best = replayable or problems
        return best[0] if best else None


def rule_outcome(rule_id: str, test: TestResult) -> Outcome:
    """What ``test`` says of ``rule_id``: a violation of another rule the test names passes this one."""
    if test.outcome in (Outcome.FAIL, Outcome.WARNING) and test.failed_rule not in (None, rule_id):
        return Outcome.PASS
    return test.outcome


def by_rule(tests: list[TestResult]) -> list[RuleResult]:
    """Every rule of the catalogue with its worst judged outcome; skipped when no test judged it."""
    rules = {r.id: RuleResult(r) for r in requirements.REQUIREMENTS}
    for test in tests:
        for rule_id in set(test.rule_ids) | ({test.failed_rule} if test.failed_rule else set()):
            if rule_id in rules:
                rules[rule_id].tests.append(test)
    for result in rules.values():
        judged = [o for o in (rule_outcome(result.requirement.id, t) for t in result.tests) if o is not Outcome.SKIP]
        result.outcome = max(judged, key=lambda o: o.rank) if judged else Outcome.SKIP
    return list(rules.values())


def exit_code(tests: list[TestResult], accepted: Collection[str] = frozenset()) -> ExitCode:
    """A violation is a verdict even when other tests could not judge; otherwise errors mean 'not judged'.

    A failure of a rule in ``accepted`` (the baseline) does not fail the run.
    """
    outcomes = {t.outcome for t in tests if not (t.outcome is Outcome.FAIL and t.failed_rule in accepted)}
    if Outcome.FAIL in outcomes:
        return ExitCode.VIOLATED
    if Outcome.ERROR in outcomes:
        return ExitCode.NOT_JUDGED
    return ExitCode.OK
