"""The conformance report: ``conformance.json`` (the source), rendered as Markdown and as HTML.

The JSON document renders the run's one verdict (``conformance.gate``) and is the only input of the
renderers (``report_md``, ``report_html``), so ``conformance report FILE.json`` re-renders exactly
what the run wrote. Dependencies point one way: the report reads the verdict; nothing reads the
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
from conformance.gate import STATUS_ORDER, RuleStatus, Verdict
from conformance.redaction import Redactor
from conformance.results import NO_TEST, FreedomObservation

FORMAT = "conformance-report/1"
JSON_NAME, MD_NAME, HTML_NAME = "conformance.json", "conformance.md", "conformance.html"
ORDER = STATUS_ORDER
__all__ = ["FORMAT", "NO_TEST", "ReportError", "RunInfo", "build", "load", "render", "write"]


class ReportError(Exception):
    """A report file cannot be read as this format; the message is one line."""


@dataclass(frozen=True)
class RunInfo:
    """What the report says of the run besides its verdict."""

    settings: Settings
    started: datetime
    finished: datetime
    baseline: baselines.Baseline | None = None
    #: Freedoms observed outside a test (the tests' own come with their results).
    freedoms: Sequence[FreedomObservation] = ()


def build(info: RunInfo, verdict: Verdict) -> dict[str, Any]:
    """The JSON document of a run (see the README for every field): a rendering of ``verdict``."""
    settings = info.settings
    observations = [*info.freedoms, *(o for t in verdict.tests for o in t.result.freedoms)]
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
            "started": info.started.isoformat(timespec="seconds"),
            "finished": info.finished.isoformat(timespec="seconds"),
            "duration_seconds": round((info.finished - info.started).total_seconds(), 3),
            "profile": settings.profile,
            "examples": settings.examples,
            "seed": settings.seed,
            "strict": settings.strict,
            "baseline": None if info.baseline is None else str(info.baseline.path),
            "tests": len(verdict.tests),
        },
        "verdict": {
            "status": verdict.word,
            "exit_status": int(verdict.exit_status),
            "summary": verdict.summary,
            "notes": list(verdict.notes),
        },
        "counts": verdict.counts,
        "rules": [_rule(rule) for rule in verdict.rules],
        "freedoms": _freedoms(observations),
        "baseline": _baseline(info.baseline, verdict),
    }
    redacted: dict[str, Any] = _redacted(document, Redactor(settings.secrets()))
    return redacted


def _rule(rule: RuleStatus) -> dict[str, Any]:
    result = rule.result
    req = result.requirement
    problem = result.first_problem
    if problem is not None:
        test, finding = problem
        message, nodeid, evidence = finding.message, test.nodeid, [vars(e) for e in finding.evidence]
    else:
        message, nodeid, evidence = result.reason, None, []
        if result.outcome.value == "skip":
            nodeid = next((t.nodeid for t, f in result.findings if f.message), None)
    return {
        "id": req.id,
        "section": requirements.SECTIONS.get(req.section, req.section),
        "level": req.level.value,
        "text": req.text,
        "outcome": result.outcome.value,
        "status": rule.status,
        "accepted_reason": rule.accepted_reason,
        "message": message.strip(),
        "test": nodeid,
        "evidence": evidence,
        "tests": [{"test": t.nodeid, "outcome": f.outcome.value, "seconds": round(t.duration, 3)} for t, f in result.findings],
    }


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


def _baseline(baseline: baselines.Baseline | None, verdict: Verdict) -> dict[str, Any] | None:
    if baseline is None:
        return None
    return {
        "file": str(baseline.path),
        "entries": [
            {"rule": e.rule, "reason": e.reason, "status": verdict.baseline.get(e.rule, "kept")} for e in baseline.entries
        ],
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
