"""``conformance.md``: the report as Markdown, rendered from the JSON document alone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: The order of the report: failures first, then warnings, then what was not judged.
ORDER = ("fail", "warning", "error", "accepted", "skip", "pass")
TITLES = {
    "fail": "Failures",
    "warning": "Warnings",
    "error": "Not judged",
    "accepted": "Accepted by the baseline",
}
LABELS = {
    "fail": "FAIL",
    "warning": "WARNING",
    "error": "NOT JUDGED",
    "accepted": "accepted (baseline)",
    "skip": "skipped",
    "pass": "pass",
}


def render(document: Mapping[str, Any]) -> str:
    verdict, run, target = document["verdict"], document["run"], document["target"]
    lines = [
        f"# Conformance report: {verdict['status'].upper()}",
        "",
        f"**{verdict['status'].upper()}**: {verdict['summary']} (exit status {verdict['exit_status']})",
        "",
        *[f"> {note}" for note in verdict["notes"]],
        *([""] if verdict["notes"] else []),
        "| | |",
        "|---|---|",
        f"| target | {_cell(target['label'])} |",
        f"| time | {run['started']} to {run['finished']} ({run['duration_seconds']} s) |",
        f"| suite | {document['suite']['name']} {document['suite']['version']} |",
        f"| profile | {profile(run)} |",
        f"| seed | {run['seed']} (replay with `--seed {run['seed']}`) |",
        f"| strict | {'yes: SHOULD violations fail' if run['strict'] else 'no'} |",
        f"| baseline | {_cell(run['baseline'] or 'none')} |",
        "| rules | " + ", ".join(f"{n} {LABELS[s]}" for s, n in document["counts"].items()) + " |",
        "",
    ]
    rules = ordered(document)
    for status, title in TITLES.items():
        chosen = [r for r in rules if r["status"] == status]
        if chosen:
            lines += [f"## {title} ({len(chosen)})", ""]
            for rule in chosen:
                lines += _problem(rule)
    lines += ["## Every rule", "", "| rule | level | outcome | rule text | note |", "|---|---|---|---|---|"]
    for rule in rules:
        note = rule["accepted_reason"] or (rule["message"].splitlines()[0] if rule["message"] else "")
        lines.append(
            f"| {rule['id']} | {rule['level']} | {LABELS.get(rule['status'], rule['status'])} | {_cell(rule['text'])} | {_cell(note)} |"
        )
    lines += ["", "## Freedoms: which side the target took", "", "| freedom | either | or | observed |", "|---|---|---|---|"]
    for freedom in document["freedoms"]:
        lines.append(f"| {freedom['id']} | {_cell(freedom['either'])} | {_cell(freedom['or'])} | {_observed(freedom)} |")
    if document["baseline"] is not None:
        lines += ["", f"## Baseline `{document['baseline']['file']}`", ""]
        for entry in document["baseline"]["entries"]:
            lines.append(f"- {entry['rule']}: {_entry_status(entry)} ({_cell(entry['reason'])})")
    lines += ["", f"_Format {document['format']}; the source of this report is `conformance.json`._", ""]
    return "\n".join(lines)


def ordered(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rules in report order: failures, warnings, errors, accepted, skipped, passed."""
    return sorted(document["rules"], key=lambda r: ORDER.index(r["status"]) if r["status"] in ORDER else len(ORDER))


def profile(run: Mapping[str, Any]) -> str:
    """The profile, and the example count when it was overridden."""
    return str(run["profile"]) + ("" if run["examples"] is None else f" ({run['examples']} examples)")


def _problem(rule: Mapping[str, Any]) -> list[str]:
    lines = [f"### {rule['id']} ({rule['level']}): {LABELS[rule['status']]}", "", f"> {rule['text']}", ""]
    if rule["accepted_reason"]:
        lines += [f"Accepted by the baseline: {rule['accepted_reason']}", ""]
    if rule["test"]:
        lines += [f"Test: `{rule['test']}`", ""]
    if rule["message"]:
        lines += [*_fenced(rule["message"], ""), ""]
    for number, exchange in enumerate(rule["evidence"], start=1):
        lines += [f"Evidence {number}:", "", *_fenced(exchange["curl"], "sh"), "", *_fenced(exchange["response"], "http"), ""]
    return lines


def _observed(freedom: Mapping[str, Any]) -> str:
    side = freedom["observed"]
    if side is None:
        return "not observed"
    if side == "both":
        return "both sides seen (inconsistent)"
    note = next((o["note"] for o in freedom["observations"] if o["note"]), "")
    return f"**{side}**" + (f": {_cell(note)}" if note else "")


def _entry_status(entry: Mapping[str, Any]) -> str:
    return {
        "accepted": "accepted (still violated)",
        "removable": f"**passes now: baseline entry {entry['rule']} can be removed**",
    }.get(entry["status"], "kept (not failed, not passed in this run)")


def _fenced(text: str, language: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{language}", text, fence]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
