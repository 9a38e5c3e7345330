"""The gate: the one decision of a run, computed once, by a pure function of its facts.

:func:`decide` turns the facts of a run (every test's findings, the baseline, the restore, why the
run stopped) into a :class:`Verdict`: the exit status, the verdict word, the summary and the notes,
each rule's status and each test's kind. The plugin, the ``conformance`` command, the terminal
summary, JUnit and the three reports only read it.

The order of precedence: a MUST violation (a SHOULD one too in a strict run) the baseline does not
accept is a FAIL, exit 1, whatever else happened; else a failed restore is exit 3; else an interrupt
is exit 2; else anything not judged (a test that broke or never ran, a dead target, the time bound)
is exit 3; else the run passes, exit 0.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from conformance import requirements
from conformance.results import ExitCode, Outcome, RuleResult, TestResult, by_rule


class Stop(enum.Enum):
    """Why a run ended before every selected test ran (``NONE``: it did not)."""

    NONE = "none"
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM
    OUT_OF_TIME = "out of time"  # --max-time
    TARGET_DOWN = "target down"  # the target stopped answering
    UNJUDGEABLE = "could not start"  # the preflight found the target unreachable or the collection unusable
    EARLY = "stopped early"  # -x, --maxfail, or a plugin that stops once it has its answer
    USAGE = "usage error"  # the configuration could not be used


@dataclass(frozen=True)
class Restore:
    """What became of the configured collection at the end of the run."""

    #: ``verified`` (written back and read back), ``unchanged`` (nothing to do), ``failed``, or
    #: ``not attempted`` (the collection was never read).
    status: str
    message: str


@dataclass(frozen=True)
class Facts:
    """Everything the decision depends on."""

    tests: Sequence[TestResult]
    strict: bool = False
    #: The baseline: accepted rule IDs and why.
    accepted: Mapping[str, str] = field(default_factory=dict)
    restore: Restore | None = None
    stop: Stop = Stop.NONE
    #: One line on the stop (which signal, which URL stopped answering and when, ...).
    stop_message: str = ""
    #: Other lines the run has to say (a killed run's values put back first, ...).
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class RuleStatus:
    """A rule's outcome, and its status in the reports: the outcome, or ``accepted`` (baseline)."""

    result: RuleResult
    status: str
    accepted_reason: str | None = None

    @property
    def id(self) -> str:
        return self.result.requirement.id


#: How a test shows in JUnit and on the terminal.
KINDS = ("pass", "warning", "failure", "error", "accepted", "skipped", "not run")


@dataclass(frozen=True)
class TestStatus:
    """A test, and how it shows (one of :data:`KINDS`)."""

    __test__ = False  # not a pytest test class

    result: TestResult
    kind: str


@dataclass(frozen=True)
class Verdict:
    exit_status: ExitCode
    #: ``pass``, ``fail``, ``interrupted``, ``not judged`` or ``usage error``.
    word: str
    summary: str
    notes: tuple[str, ...]
    rules: tuple[RuleStatus, ...]
    tests: tuple[TestStatus, ...]
    #: Each baseline entry's fate: ``accepted`` (still violated), ``removable`` (passes now), ``kept``.
    baseline: Mapping[str, str]

    @property
    def headline(self) -> str:
        return f"{self.word.upper()}: {self.summary}"

    @property
    def counts(self) -> dict[str, int]:
        return {status: sum(1 for r in self.rules if r.status == status) for status in STATUS_ORDER}

    def rule(self, rule_id: str) -> RuleStatus:
        return next(r for r in self.rules if r.id == rule_id)


#: Rule statuses, in report order: failures first.
STATUS_ORDER = ("fail", "warning", "error", "accepted", "skip", "pass")

WORDS: dict[ExitCode, str] = {
    ExitCode.OK: "pass",
    ExitCode.VIOLATED: "fail",
    ExitCode.INTERRUPTED: "interrupted",
    ExitCode.NOT_JUDGED: "not judged",
    ExitCode.USAGE: "usage error",
}


def kind_of(result: TestResult, accepted: Mapping[str, str]) -> str:
    """How one test shows: a violation the baseline does not accept is a ``failure``; a test that
    could not judge an ``error`` (``not run`` when it never started); violations all accepted are
    ``accepted`` (an expected failure); then ``warning``, ``skipped``, ``pass``."""
    outcomes = {f.rule_id: f.outcome for f in result.findings}
    if any(o is Outcome.FAIL and rule not in accepted for rule, o in outcomes.items()):
        return "failure"
    if result.not_run:
        return "not run"
    if result.outcome is Outcome.ERROR:
        return "error"
    if Outcome.FAIL in outcomes.values():
        return "accepted"
    if result.outcome is Outcome.WARNING:
        return "warning"
    if result.outcome is Outcome.SKIP:
        return "skipped"
    return "pass"


def decide(facts: Facts) -> Verdict:
    """The verdict of a run (see the module's docstring for the order of precedence)."""
    rules = by_rule(facts.tests)
    statuses = tuple(_status(rule, facts.accepted) for rule in rules)
    ids = {s: [r.id for r in statuses if r.status == s] for s in STATUS_ORDER}
    restore_failed = facts.restore is not None and facts.restore.status == "failed"
    ran = [t for t in facts.tests if not t.not_run]
    if facts.stop is Stop.USAGE:
        code, summary = ExitCode.USAGE, facts.stop_message or "the configuration could not be used"
    elif ids["fail"]:
        code, summary = ExitCode.VIOLATED, f"{len(ids['fail'])} rule(s) violated: {', '.join(ids['fail'])}"
    elif restore_failed or (
        facts.stop is not Stop.INTERRUPTED
        and (ids["error"] or facts.stop in (Stop.OUT_OF_TIME, Stop.TARGET_DOWN, Stop.UNJUDGEABLE))
    ):
        code = ExitCode.NOT_JUDGED
        reasons = [
            {
                Stop.OUT_OF_TIME: "--max-time was exceeded",
                Stop.TARGET_DOWN: "the target stopped answering",
                Stop.UNJUDGEABLE: facts.stop_message.removeprefix("conformance: "),
                Stop.INTERRUPTED: "the run was interrupted",
            }.get(facts.stop, "")
        ]
        if restore_failed:
            reasons.append("the collection could not be restored (see below)")
        if ids["error"]:
            reasons.append(f"{len(ids['error'])} rule(s) not judged: {', '.join(ids['error'])}")
        summary = "the target could not be judged: " + "; ".join(r for r in reasons if r)
    elif facts.stop is Stop.INTERRUPTED:
        code = ExitCode.INTERRUPTED
        summary = f"the run was interrupted after {len(ran)} of {len(facts.tests)} tests; what was not reached is not judged"
    else:
        code, summary = ExitCode.OK, "every judged MUST rule holds"
    if code is not ExitCode.USAGE and ids["warning"]:
        summary += f"; {len(ids['warning'])} SHOULD rule(s) warn: {', '.join(ids['warning'])}"
    if ids["accepted"]:
        summary += f"; {len(ids['accepted'])} violation(s) accepted by the baseline: {', '.join(ids['accepted'])}"
    return Verdict(
        exit_status=code,
        word=WORDS[code],
        summary=summary,
        notes=tuple(_notes(facts, restore_failed)),
        rules=statuses,
        tests=tuple(TestStatus(t, kind_of(t, facts.accepted)) for t in facts.tests),
        baseline=_baseline(facts.accepted, rules),
    )


def _status(rule: RuleResult, accepted: Mapping[str, str]) -> RuleStatus:
    if rule.outcome is Outcome.FAIL and rule.requirement.id in accepted:
        return RuleStatus(rule, "accepted", accepted[rule.requirement.id])
    return RuleStatus(rule, rule.outcome.value)


def _notes(facts: Facts, restore_failed: bool) -> list[str]:
    notes = []
    if restore_failed and facts.restore is not None:
        notes.append(facts.restore.message)  # loud: it leads, and says where the original values are
    if facts.stop not in (Stop.NONE, Stop.USAGE) and facts.stop_message:
        notes.append(facts.stop_message)
    not_run = sum(1 for t in facts.tests if t.not_run)
    if not_run:
        notes.append(f"{not_run} test(s) not run ({facts.stop.value}): their rules are not judged by them")
    if facts.restore is not None and not restore_failed and facts.restore.message:
        notes.append(facts.restore.message)
    notes += facts.notes
    return notes


def _baseline(accepted: Mapping[str, str], rules: Sequence[RuleResult]) -> dict[str, str]:
    outcomes = {r.requirement.id: r.outcome for r in rules}
    return {
        rule_id: {Outcome.FAIL: "accepted", Outcome.PASS: "removable"}.get(outcomes.get(rule_id, Outcome.SKIP), "kept")
        for rule_id in accepted
    }


def level_of(rule_id: str) -> str:
    return requirements.BY_ID[rule_id].level.value
