"""The run on the terminal: the header before the first test, and the summary rendered from the verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.config import Settings
from conformance.results import TestResult

if TYPE_CHECKING:
    from conformance.run import Run

Style = dict[str, bool]
LOUD: Style = {"red": True, "bold": True}


def header(settings: Settings) -> list[str]:
    examples = "" if settings.examples is None else f" ({settings.examples} examples)"
    return [
        f"conformance target: {settings.target_label}",
        f"conformance profile: {settings.profile}{examples}; seed: {settings.seed} (re-run with --seed {settings.seed}); "
        f"strict: {settings.strict}",
    ]


def shape(report: pytest.TestReport, result: TestResult, kind: str, error: BaseException | None) -> None:
    """Show the test as the gate will count it: a warning passes, an accepted violation is an
    expected failure, a test that could not judge is an error; a violation reads as its explanation."""
    from conformance.evidence import CannotJudge

    report.conformance_kind = kind  # type: ignore[attr-defined]  # read by pytest_report_teststatus
    if kind == "warning":
        report.outcome, report.longrepr = "passed", None
        report.sections.append(("conformance warning", result.message))
    elif kind == "accepted":
        report.outcome = "skipped"
        report.wasxfail = f"accepted (baseline): {result.message.splitlines()[0]}"
    elif kind == "failure" or (kind == "error" and isinstance(error, CannotJudge)):
        report.outcome, report.longrepr = (
            "failed",
            f"[{', '.join(result.rule_ids)}] {result.message}" if kind == "error" else result.message,
        )


def _first_line(text: str, limit: int = 150) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0][:limit] if stripped else ""


def lines(run: Run) -> list[tuple[str, Style]]:
    """The conformance section of the terminal summary: each rule that did not pass, the baseline,
    the verdict (one loud line, then its notes), where the reports are, and what the run sent."""
    verdict = run.verdict
    assert verdict is not None
    out: list[tuple[str, Style]] = []
    order = ("fail", "warning", "error", "accepted", "skip")
    if verdict.word == "usage error":  # nothing was judged: the one line that says what to fix, and the restore
        restore = run.the_restore()
        return [(verdict.headline, LOUD), *([(restore.message, {})] if restore is not None and restore.message else [])]
    not_run = []
    for rule in sorted((r for r in verdict.rules if r.status in order), key=lambda r: order.index(r.status)):
        problem = rule.result.first_problem
        why = problem[1].message if problem else rule.result.reason
        if rule.status == "error" and why.startswith("not run:"):
            not_run.append(rule.id)  # one line for all of them, below
            continue
        label = {"error": "NOTJUDGED", "accepted": "ACCEPTED"}.get(rule.status, rule.status.upper())
        out.append((f"{label:9} {rule.id:8} {rule.result.requirement.level.value:6} {_first_line(why)}", {}))
    if not_run:
        out.append((f"NOTJUDGED {len(not_run)} rule(s) whose tests did not run: {', '.join(not_run)}", {}))
    for rule_id, fate in verdict.baseline.items():
        if fate == "removable":
            path = run.baseline.path if run.baseline is not None else "the baseline"
            out.append((f"baseline entry {rule_id} can be removed: the rule passes now ({path})", {"yellow": True}))
    client: Any = run.target.client if run.target is not None else None
    if client is not None and client.recorder.rate_limited:
        out.append((f"rate limited: {client.recorder.rate_limited} answers HTTP 429 waited out and retried (not judged)", {}))
    from conformance.safety import PROCESS

    out += [(line, {"yellow": True}) for line in PROCESS.notes]
    style: Style = {"green": True, "bold": True} if verdict.word == "pass" else LOUD
    out.append((verdict.headline, style))
    restore = run.the_restore()
    for note in verdict.notes:
        loud = restore is not None and note == restore.message and restore.status == "failed"
        out.append((note, LOUD if loud else {}))
    if run.report_error:
        out.append((run.report_error, LOUD))
    if run.report_paths:
        out.append((f"reports: {', '.join(run.report_paths)}", {}))
    requests, chain = run.traffic()  # read by scripts/benchmark.py
    out.append((f"requests: {requests} sent to the target; longest sequential chain: {chain}", {}))
    counts = ", ".join(f"{n} {s}" for s, n in verdict.counts.items())
    out.append((f"rules: {counts} (of {len(verdict.rules)}); target: {run.settings.target_label}", {}))
    return out
