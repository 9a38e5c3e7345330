"""Evidence per rule: every check a test makes is recorded against the rule it checks.

A test holds a :class:`Ledger` while it runs (the plugin opens one per conformance test). Each check
of :mod:`conformance.checks` records its outcome there: a *pass* of its rule, or the
:class:`~conformance.checks.Violation` it found. A check whose failure leaves the next ones
meaningful is *soft*: it records the violation and the test goes on (an envelope that is not the
page's does not hide the status, code and state checks of the test's own rule). A *hard* check
records and raises. Soft violations still fail the test: they are raised together at the end of the
test (or of a hypothesis example, so that hypothesis shrinks them), as one :class:`Violations`.

A rule's outcome then comes only from the checks of that rule (``conformance.outcomes``): a rule none
of whose checks ran is not judged, never passed.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the checks module imports this one
    from conformance.checks import Violation


class CannotJudge(Exception):
    """The test cannot judge the target, for a reason its message gives in one line (the target is
    unreachable, an earlier violation corrupted the collection, ...): an *error*, shown without a
    traceback, never a violation."""


@dataclass(frozen=True)
class Check:
    """One check of one rule: passed, or the violation it found."""

    rule_id: str
    violation: Violation | None = None

    @property
    def passed(self) -> bool:
        return self.violation is None


class Violations(AssertionError):
    """Several violations found by one test (or one example), the most relevant first.

    Its text is the leading violation's, then one line for each other rule broken.
    """

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        lead, *others = self.violations
        text = lead.render()
        if others:
            text += "\n  also violated:" + "".join(f"\n    [{v.rule_id}] {v.title}" for v in others)
        super().__init__(text)


@dataclass
class Ledger:
    """The checks of one test, in order; ``pending`` holds soft violations not raised yet."""

    #: The rules the test names (its ``requirement`` marker): they lead when violations are ordered.
    own_rules: tuple[str, ...] = ()
    checks: list[Check] = field(default_factory=list)
    pending: list[Violation] = field(default_factory=list)

    def passed(self, rule_id: str) -> None:
        self.checks.append(Check(rule_id))

    def violated(self, violation: Violation, *, soft: bool) -> None:
        self.checks.append(Check(violation.rule_id, violation))
        if soft:
            self.pending.append(violation)

    def flush(self) -> None:
        """Raise the soft violations recorded since the last flush, if any (most relevant first)."""
        pending, self.pending = self.pending, []
        if pending:
            raise Violations(leading(pending, self.own_rules))

    def rules_checked(self) -> set[str]:
        return {check.rule_id for check in self.checks}


def leading(violations: Sequence[Violation], own_rules: Sequence[str] = ()) -> list[Violation]:
    """``violations`` with the most relevant first: a rule the test names before a rule it meets on
    the way (an envelope, a response shape), a MUST before a SHOULD, then in the order found."""
    from conformance.requirements import Level

    def relevance(item: tuple[int, Violation]) -> tuple[int, int, int]:
        index, violation = item
        own = own_rules.index(violation.rule_id) if violation.rule_id in own_rules else len(own_rules)
        return (own, 0 if violation.level is Level.MUST else 1, index)

    unique: dict[int, Violation] = {id(v): v for v in violations}
    return [v for _, v in sorted(enumerate(unique.values()), key=relevance)]


_CURRENT: contextvars.ContextVar[Ledger | None] = contextvars.ContextVar("conformance_ledger", default=None)


def current() -> Ledger | None:
    """The ledger of the test running now; ``None`` outside a conformance test (checks then only raise)."""
    return _CURRENT.get()


@contextlib.contextmanager
def recording(ledger: Ledger) -> Iterator[Ledger]:
    """Make ``ledger`` the current one within the block."""
    token = _CURRENT.set(ledger)
    try:
        yield ledger
    finally:
        _CURRENT.reset(token)


def activate(ledger: Ledger | None) -> None:
    """Make ``ledger`` current from now on (the plugin opens one per test phase)."""
    _CURRENT.set(ledger)


def flush() -> None:
    """Raise the current test's pending soft violations (at the end of a hypothesis example)."""
    ledger = current()
    if ledger is not None:
        ledger.flush()
