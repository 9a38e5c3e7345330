"""The conformance report: ``conformance.json`` (the source), rendered as Markdown and as HTML.

The JSON document is built from the run's results (``conformance.results``) and is the only input
of the renderers (``report_md``, ``report_html``), so ``conformance report FILE.json`` re-renders
exactly what the run wrote. Dependencies point one way: the report reads results; nothing reads the
report. Every string is redacted once more before anything is written (the exchanges already are).

The format is versioned (:data:`FORMAT`) and documented in the README, section "Reports".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance import __version__, report_html, report_md, requirements
from conformance import baseline as baselines
from conformance.config import Settings
from conformance.redaction import Redactor
from conformance.results import ExitCode, FreedomObservation, Outcome, RuleResult, TestResult, by_rule

FORMAT = "conformance-report/1"
JSON_NAME, MD_NAME, HTML_NAME = "conformance.json", "conformance.md", "conformance.html"

#: The verdict word of each exit status.
VERDICTS: dict[int, str] = {
    ExitCode.OK: "pass",
    ExitCode.VIOLATED: "fail",
    ExitCode.INTERRUPTED: "interrupted",
    ExitCode.NOT_JUDGED: "not judged",
    ExitCode.USAGE: "usage error",
}

ORDER = report_md.ORDER
NO_TEST = "no test of this run judged this rule (none selected, or none written yet)"


class ReportError(Exception):
    """A report file cannot be read as this format; the message is one line."""


@dataclass(frozen=True)
class RunFacts:
    """What the report needs to know of one run."""

    settings: Settings
    tests: Sequence[TestResult]
    exit_status: int
    started: datetime
    finished: datetime
    freedoms: Sequence[FreedomObservation] = ()
    baseline: baselines.Baseline | None = None
    notes: Sequence[str] = ()


def build(facts: RunFacts) -> dict[str, Any]:
    """The JSON document of a run (see the README for every field)."""
    settings = facts.settings
    rules = by_rule(list(facts.tests))
    accepted = facts.baseline.rules if facts.baseline is not None else frozenset()
    entries = [_rule(rule, facts.baseline, accepted) for rule in rules]
    counts = {status: sum(1 for e in entries if e["status"] == status) for status in ORDER}
    document: dict[str, Any] = {
        "format": FORMAT,
        "suite": {"name": "music-collection-conformance", "version": __version__},
        "target": {
            "url": settings.base_url,
            "label": settings.target_label,
            "stub": settings.stub,
            "stub_fault": settings.stub_fault,
        },
        "run": {
            "started": facts.started.isoformat(timespec="seconds"),
            "finished": facts.finished.isoformat(timespec="seconds"),
            "duration_seconds": round((facts.finished - facts.started).total_seconds(), 3),
            "profile": settings.profile,
            "examples": settings.examples,
            "seed": settings.seed,
            "strict": settings.strict,
            "baseline": None if facts.baseline is None else str(facts.baseline.path),
            "tests": len(facts.tests),
        },
        "verdict": _verdict(facts.exit_status, entries, list(facts.notes)),
        "counts": counts,
        "rules": entries,
        "freedoms": _freedoms(facts.freedoms),
        "baseline": _baseline(facts.baseline, rules),
    }
    redacted: dict[str, Any] = _redacted(document, Redactor(settings.secrets()))
    return redacted


def _rule(rule: RuleResult, baseline: baselines.Baseline | None, accepted: frozenset[str]) -> dict[str, Any]:
    req = rule.requirement
    outcome = rule.outcome
    status = "accepted" if outcome is Outcome.FAIL and req.id in accepted else outcome.value
    problem = rule.first_problem
    message, test, evidence = "", None, []
    if problem is not None:
        message, test, evidence = problem.message, problem.nodeid, [vars(e) for e in problem.evidence]
    elif outcome is Outcome.SKIP:
        skipped = next((t for t in rule.tests if t.message), None)
        message, test = (skipped.message, skipped.nodeid) if skipped else (NO_TEST, None)
    return {
        "id": req.id,
        "section": requirements.SECTIONS.get(req.section, req.section),
        "level": req.level.value,
        "text": req.text,
        "outcome": outcome.value,
        "status": status,
        "accepted_reason": baseline.reason(req.id) if baseline is not None and status == "accepted" else None,
        "message": message.strip(),
        "test": test,
        "evidence": evidence,
        "tests": [{"test": t.nodeid, "outcome": t.outcome.value, "seconds": round(t.duration, 3)} for t in rule.tests],
    }


def _verdict(exit_status: int, entries: list[dict[str, Any]], notes: list[str]) -> dict[str, Any]:
    status = VERDICTS.get(exit_status, "error")
    ids = {s: [e["id"] for e in entries if e["status"] == s] for s in ORDER}
    if status == "fail":
        summary = f"{len(ids['fail'])} rule(s) violated: {', '.join(ids['fail'])}"
    elif status == "pass":
        summary = "every judged MUST rule holds"
        if ids["warning"]:
            summary += f"; {len(ids['warning'])} SHOULD rule(s) warn: {', '.join(ids['warning'])}"
    elif status == "interrupted":
        summary = "the run was interrupted; rules not reached are skipped"
    elif status == "not judged":
        summary = "the target could not be judged"
    else:
        summary = f"the run ended with status {exit_status}"
    if ids["accepted"]:
        summary += f"; {len(ids['accepted'])} violation(s) accepted by the baseline: {', '.join(ids['accepted'])}"
    return {"status": status, "exit_status": exit_status, "summary": summary, "notes": [n for n in notes if n]}


def _freedoms(observations: Sequence[FreedomObservation]) -> list[dict[str, Any]]:
    result = []
    for freedom in requirements.FREEDOMS:
        seen = [o for o in observations if o.freedom_id == freedom.id]
        sides = {o.side for o in seen}
        observed = None if not sides else sides.pop() if len(sides) == 1 else "both"
        result.append(
            {
                "id": freedom.id,
                "either": freedom.either,
                "or": freedom.or_,
                "observed": observed,
                "observations": [{"side": o.side, "note": o.note, "test": o.nodeid} for o in seen],
            }
        )
    return result


def _baseline(baseline: baselines.Baseline | None, rules: list[RuleResult]) -> dict[str, Any] | None:
    if baseline is None:
        return None
    statuses = baseline.statuses(rules)
    return {
        "file": str(baseline.path),
        "entries": [{"rule": e.rule, "reason": e.reason, "status": statuses[e.rule]} for e in baseline.entries],
    }


def _redacted(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, list):
        return [_redacted(v, redactor) for v in value]
    if isinstance(value, Mapping):
        return {k: _redacted(v, redactor) for k, v in value.items()}
    return value


# ---- files ------------------------------------------------------------------------------------


def render(document: Mapping[str, Any], directory: Path) -> list[Path]:
    """Write ``conformance.md`` and ``conformance.html`` of ``document`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    md, html = directory / MD_NAME, directory / HTML_NAME
    md.write_text(report_md.render(document), encoding="utf-8")
    html.write_text(report_html.render(document), encoding="utf-8")
    return [md, html]


def write(document: Mapping[str, Any], directory: Path) -> list[Path]:
    """Write the JSON source, then its Markdown and HTML renderings; returns the three paths."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / JSON_NAME
    source.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [source, *render(document, directory)]


def load(path: Path) -> dict[str, Any]:
    """Read a ``conformance.json``; :class:`ReportError` when it is not this format."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ReportError(f"{path}: cannot read it: {error.strerror or error}") from None
    except ValueError as error:
        raise ReportError(f"{path}: not JSON ({error})") from None
    found = document.get("format") if isinstance(document, dict) else None
    if found != FORMAT:
        raise ReportError(f"{path}: not a conformance report of format {FORMAT!r} (format: {found!r})")
    return dict(document)
