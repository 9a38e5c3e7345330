"""``conformance.html``: the report as one self-contained page (inline CSS, no script, no external asset).

Rendered from the JSON document alone. The page opens on the verdict, a compact run summary, and
then the failures, so that the first failure is visible without scrolling; warnings, errors and
accepted violations follow, then the table of every rule, the freedoms and the baseline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

from conformance.report_md import LABELS, TITLES, ordered, profile

#: The colour of a failure card's left edge; used nowhere else (the browser self-test looks for it).
FAIL_EDGE = "#c0181f"

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:12px 20px 40px}
h1{font-size:20px;margin:0;padding:10px 20px;color:#fff}
h1.pass{background:#1e7b34}h1.fail{background:#7a1016}h1.error{background:#4a2a6e}
h2{font-size:16px;margin:18px 0 8px}
h3{font-size:15px;margin:0 0 4px}
.meta{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0;padding:6px 0;color:#444;font-size:13px}
.meta b{color:#1b1b1b;font-weight:600}
.notes{margin:4px 0;padding:6px 10px;background:#fff4d6;border:1px solid #e5c46b;font-size:13px}
.card{background:#fff;border:1px solid #dcdfe4;border-left:8px solid #888;margin:0 0 10px;padding:8px 12px}
.card.fail{border-left-color:FAIL_EDGE}
.card.warning{border-left-color:#c98a00}.card.error{border-left-color:#6b3fa0}.card.accepted{border-left-color:#3b6ea5}
.rid{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:700;white-space:nowrap}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#eef0f3;padding:0 2px}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:700;color:#fff;background:#777}
.badge.fail{background:#a51d24}.badge.warning{background:#a66f00}.badge.error{background:#5b3590}
.badge.accepted{background:#3b6ea5}.badge.pass{background:#2b7a3d}.badge.skip{background:#777}
.text{margin:2px 0 6px;color:#333}
pre{margin:4px 0;padding:6px 8px;background:#f3f4f6;border:1px solid #e2e4e8;white-space:pre-wrap;word-break:break-all;
font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;max-height:220px;overflow:auto}
details summary{cursor:pointer;color:#333;font-size:13px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #dcdfe4;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef0f3}
.muted{color:#666}
footer{margin-top:20px;color:#666;font-size:12px}
"""


def render(document: Mapping[str, Any]) -> str:
    verdict, run, target = document["verdict"], document["run"], document["target"]
    tone = {"pass": "pass", "fail": "fail"}.get(verdict["status"], "error")
    rules = ordered(document)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Conformance {escape(verdict['status'].upper())}: {escape(target['label'])}</title>",
        f"<style>{_CSS.replace('FAIL_EDGE', FAIL_EDGE)}</style></head><body>",
        f'<h1 class="{tone}" id="verdict">{escape(verdict["status"].upper())}: {escape(verdict["summary"])}</h1>',
        "<main>",
        '<p class="meta">',
        _meta("target", target["label"]),
        _meta("time", f"{run['started']} ({run['duration_seconds']} s)"),
        _meta("suite", f"{document['suite']['name']} {document['suite']['version']}"),
        _meta("seed", str(run["seed"])),
        _meta("profile", profile(run)),
        _meta("strict", "yes" if run["strict"] else "no"),
        _meta("baseline", run["baseline"] or "none"),
        _meta("exit status", str(verdict["exit_status"])),
        _meta("rules", ", ".join(f"{n} {LABELS[s]}" for s, n in document["counts"].items() if n)),
        "</p>",
        *[f'<p class="notes">{escape(note)}</p>' for note in verdict["notes"]],
    ]
    for status, title in TITLES.items():
        chosen = [r for r in rules if r["status"] == status]
        if chosen:
            parts.append(f'<section id="{status}"><h2>{escape(title)} ({len(chosen)})</h2>')
            parts += [_card(rule) for rule in chosen]
            parts.append("</section>")
    parts += _table(rules)
    parts += _freedoms(document["freedoms"])
    parts += _baseline(document["baseline"])
    parts += [
        f"<footer>Format {escape(document['format'])}; the source of this page is conformance.json.</footer>",
        "</main></body></html>",
        "",
    ]
    return "\n".join(parts)


def _code(text: str) -> str:
    """Escaped text with the contract's `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _meta(name: str, value: str) -> str:
    return f"<span>{escape(name)}: <b>{escape(value)}</b></span>"


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(LABELS.get(status, status))}</span>'


def _card(rule: Mapping[str, Any]) -> str:
    parts = [
        f'<article class="card {escape(rule["status"])}" id="rule-{escape(rule["id"])}">',
        f'<h3>{_badge(rule["status"])} <span class="rid">{escape(rule["id"])}</span> '
        f'<span class="muted">{escape(rule["level"])} · {escape(rule["section"])}</span></h3>',
        f'<p class="text">{_code(rule["text"])}</p>',
    ]
    if rule["accepted_reason"]:
        parts.append(f"<p>Accepted by the baseline: {escape(rule['accepted_reason'])}</p>")
    if rule["message"]:
        parts.append(f'<pre class="message">{escape(rule["message"])}</pre>')
    if rule["evidence"]:
        parts.append(f"<details><summary>evidence: {len(rule['evidence'])} exchange(s), redacted</summary>")
        for exchange in rule["evidence"]:
            parts.append(f'<pre class="curl">{escape(exchange["curl"])}</pre><pre>{escape(exchange["response"])}</pre>')
        parts.append("</details>")
    if rule["test"]:
        parts.append(f'<p class="muted">test: {escape(rule["test"])}</p>')
    parts.append("</article>")
    return "\n".join(parts)


def _table(rules: list[dict[str, Any]]) -> list[str]:
    rows = [
        '<section id="rules"><h2>Every rule</h2><table>',
        "<tr><th>rule</th><th>level</th><th>outcome</th><th>rule text</th><th>note</th></tr>",
    ]
    for rule in rules:
        note = rule["accepted_reason"] or (rule["message"].splitlines()[0] if rule["message"] else "")
        rows.append(
            f'<tr><td class="rid">{escape(rule["id"])}</td><td>{escape(rule["level"])}</td>'
            f"<td>{_badge(rule['status'])}</td><td>{_code(rule['text'])}</td>"
            f'<td class="muted">{escape(note)}</td></tr>'
        )
    rows.append("</table></section>")
    return rows


def _freedoms(freedoms: list[dict[str, Any]]) -> list[str]:
    rows = [
        '<section id="freedoms"><h2>Freedoms: which side the target took</h2><table>',
        "<tr><th>freedom</th><th>either</th><th>or</th><th>observed</th></tr>",
    ]
    for freedom in freedoms:
        side = freedom["observed"]
        note = next((o["note"] for o in freedom["observations"] if o["note"]), "")
        shown = (
            '<span class="muted">not observed</span>'
            if side is None
            else "both sides seen (inconsistent)"
            if side == "both"
            else f"<b>{escape(side)}</b>" + (f": {escape(note)}" if note else "")
        )
        rows.append(
            f'<tr><td class="rid">{escape(freedom["id"])}</td><td>{escape(freedom["either"])}</td>'
            f"<td>{escape(freedom['or'])}</td><td>{shown}</td></tr>"
        )
    rows.append("</table></section>")
    return rows


def _baseline(baseline: Mapping[str, Any] | None) -> list[str]:
    if baseline is None:
        return []
    rows = [f'<section id="baseline"><h2>Baseline {escape(baseline["file"])}</h2><ul>']
    for entry in baseline["entries"]:
        status = {
            "accepted": "accepted (still violated)",
            "removable": f"passes now: baseline entry {entry['rule']} can be removed",
        }.get(entry["status"], "kept (not failed, not passed in this run)")
        rows.append(f'<li><span class="rid">{escape(entry["rule"])}</span>: {escape(status)} ({escape(entry["reason"])})</li>')
    rows.append("</ul></section>")
    return rows
