"""The facts of a run: what each test found, rule by rule. The gate and the reports read these.

Outcomes are distinct words: ``pass``, ``fail`` (a MUST rule, or a SHOULD rule in a strict run, is
violated), ``warning`` (a SHOULD rule is violated), ``skip`` (the rule needs a value that was not
configured, or no test of it was selected), ``error`` (*not judged*: the suite or the network broke,
the test stopped before it checked the rule, or it was never run).

A test holds one :class:`Finding` per rule it judged: a rule's outcome comes only from findings of
that rule (:func:`by_rule`), never from a test's overall outcome.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance import requirements

#: Marks the message of a failure that did not replay identically (see ``conformance.outcomes``).
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


def worst(outcomes: Iterable[Outcome]) -> Outcome | None:
    return max(outcomes, key=lambda o: o.rank, default=None)


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
    """Which side of a freedom (F1-F18) a test saw the target take: ``either`` or ``or`` (CONTRACT.md)."""

    freedom_id: str
    side: str
    note: str = ""
    nodeid: str = ""


@dataclass(frozen=True)
class Finding:
    """What one test says of one rule: its outcome, the explanation of a problem, and its evidence."""

    rule_id: str
    outcome: Outcome
    message: str = ""
    evidence: tuple[Evidence, ...] = ()
    #: Not judged because a violation of another rule stopped the test first (for an accepted request,
    #: say, the rules of rejected ones do not apply): it counts only when nothing else judged the rule.
    blocked: bool = False


@dataclass(frozen=True)
class TestResult:
    """One test: its overall outcome (the worst of its findings, or *error* when it broke), the rules
    it names, and a finding per rule it judged."""

    __test__ = False  # not a pytest test class

    nodeid: str
    rule_ids: tuple[str, ...]
    outcome: Outcome
    message: str = ""
    findings: tuple[Finding, ...] = ()
    duration: float = 0.0
    freedoms: tuple[FreedomObservation, ...] = ()
    #: The test was never run (the run stopped before it: time bound, dead target, interrupt).
    not_run: bool = False

    def finding(self, rule_id: str) -> Finding | None:
        return next((f for f in self.findings if f.rule_id == rule_id), None)

    @property
    def violated(self) -> tuple[str, ...]:
        """The rules this test found violated (fail or warning), most relevant first."""
        return tuple(f.rule_id for f in self.findings if f.outcome in (Outcome.FAIL, Outcome.WARNING))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (pytest-xdist carries it from a worker to the controller)."""
        return {
            "nodeid": self.nodeid,
            "rule_ids": list(self.rule_ids),
            "outcome": self.outcome.value,
            "message": self.message,
            "findings": [
                {
                    "rule_id": f.rule_id,
                    "outcome": f.outcome.value,
                    "message": f.message,
                    "evidence": [vars(e) for e in f.evidence],
                    "blocked": f.blocked,
                }
                for f in self.findings
            ],
            "duration": self.duration,
            "freedoms": [vars(o) for o in self.freedoms],
            "not_run": self.not_run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestResult:
        return cls(
            nodeid=data["nodeid"],
            rule_ids=tuple(data["rule_ids"]),
            outcome=Outcome(data["outcome"]),
            message=data["message"],
            findings=tuple(
                Finding(
                    f["rule_id"], Outcome(f["outcome"]), f["message"], tuple(Evidence(**e) for e in f["evidence"]), f["blocked"]
                )
                for f in data["findings"]
            ),
            duration=data["duration"],
            freedoms=tuple(FreedomObservation(**o) for o in data["freedoms"]),
            not_run=data["not_run"],
        )


@dataclass(frozen=True)
class Phase:
    """How one phase of a test (setup, call, teardown) ended: ``passed``, ``failed`` or ``skipped``, and with what."""

    when: str
    status: str
    error: BaseException | None = None
    skip_reason: str = ""


@dataclass(frozen=True)
class Planned:
    """A test the run selected: its node id and the rules it names."""

    nodeid: str
    rule_ids: tuple[str, ...]


@dataclass
class RuleResult:
    """A rule's outcome over every finding of it, and the tests that judged it."""

    requirement: requirements.Requirement
    outcome: Outcome = Outcome.SKIP
    findings: list[tuple[TestResult, Finding]] = field(default_factory=list)
    #: Why the rule has no finding at all (skipped, not run), when it has none.
    reason: str = ""

    @property
    def first_problem(self) -> tuple[TestResult, Finding] | None:
        """The finding that explains the outcome best: a failure that replays before one that did not."""
        problems = [(t, f) for t, f in self.findings if f.outcome is self.outcome and f.outcome is not Outcome.PASS]
        problems = [(t, f) for t, f in problems if not f.blocked] or problems
        replayable = [(t, f) for t, f in problems if UNSTABLE_NOTE not in f.message]
        best = replayable or problems
        return best[0] if best else None


NO_TEST = "no test of this run judged this rule (none selected, or none written yet)"


def not_run(planned: Sequence[Planned], tests: Sequence[TestResult], why: str) -> list[TestResult]:
    """A result for each planned test that has none: *error* (not judged) for each rule it names."""
    ran = {t.nodeid for t in tests}
    message = f"not run: {why}"
    return [
        TestResult(
            p.nodeid,
            p.rule_ids,
            Outcome.ERROR,
            message,
            tuple(Finding(r, Outcome.ERROR, message) for r in p.rule_ids),
            not_run=True,
        )
        for p in planned
        if p.nodeid not in ran
    ]


def by_rule(tests: Sequence[TestResult]) -> list[RuleResult]:
    """Every rule of the catalogue with the worst outcome of its own findings (skips aside); *skip*,
    with the reason, when it has no other finding."""
    rules = {r.id: RuleResult(r) for r in requirements.REQUIREMENTS}
    for test in tests:
        for finding in test.findings:
            if finding.rule_id in rules:
                rules[finding.rule_id].findings.append((test, finding))
    for result in rules.values():
        judged = [f.outcome for _, f in result.findings if f.outcome is not Outcome.SKIP and not f.blocked]
        blocked = [f for _, f in result.findings if f.blocked]
        result.outcome = worst(judged) or (Outcome.ERROR if blocked else Outcome.SKIP)
        if not judged:
            result.reason = blocked[0].message if blocked else next((f.message for _, f in result.findings if f.message), NO_TEST)
    return list(rules.values())
