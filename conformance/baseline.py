"""The baseline: violations a team has accepted for now, so that it can adopt the gate gradually.

A baseline file is YAML (or JSON, which YAML reads too): a list of entries, each naming a rule of
the catalogue and the reason it is accepted::

    - rule: VAL-9
      reason: malformed JSON gets 400 until ticket API-123 ships

A failure of a listed rule does not fail the run; it is reported as *accepted (baseline)*. A listed
rule that now passes is reported as removable, so the list only shrinks (the gate decides both:
``conformance.gate``). An unknown rule ID or a
malformed file is a usage error, raised as :class:`BaselineError` with a one-line message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance import requirements
from conformance.config import ConfigError


class BaselineError(ConfigError):
    """The baseline file cannot be used; the message is one line naming the file and the fix."""


@dataclass(frozen=True)
class Entry:
    rule: str
    reason: str


@dataclass(frozen=True)
class Baseline:
    """The accepted violations of one file, in file order."""

    path: Path
    entries: tuple[Entry, ...]

    @property
    def rules(self) -> frozenset[str]:
        return frozenset(e.rule for e in self.entries)

    def reason(self, rule_id: str) -> str | None:
        return next((e.reason for e in self.entries if e.rule == rule_id), None)


def load(path: Path) -> Baseline:
    """Read and check a baseline file. Raises :class:`BaselineError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"--baseline {path}: cannot read it: {getattr(error, 'strerror', None) or error}") from None
    return parse(text, path)


def parse(text: str, path: Path = Path("<baseline>")) -> Baseline:
    """Check the text of a baseline file; ``path`` only names it in messages."""
    where = f"--baseline {path}"
    try:
        document: Any = yaml.safe_load(text) if text.strip() else []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise BaselineError(f"{where}: not valid YAML or JSON{at}") from None
    if not isinstance(document, list):
        raise BaselineError(f"{where}: expected a list of {{rule: ID, reason: text}} entries, got {_kind(document)}")
    entries: list[Entry] = []
    for number, item in enumerate(document, start=1):
        entry = _entry(item, f"{where}: entry {number}")
        if any(e.rule == entry.rule for e in entries):
            raise BaselineError(f"{where}: entry {number}: rule {entry.rule} is listed twice")
        entries.append(entry)
    return Baseline(path, tuple(entries))


def _entry(item: Any, where: str) -> Entry:
    if not isinstance(item, Mapping):
        raise BaselineError(f"{where}: expected {{rule: ID, reason: text}}, got {_kind(item)}")
    extra = sorted(str(k) for k in item if k not in ("rule", "reason"))
    if extra:
        raise BaselineError(f"{where}: unknown key {extra[0]!r}; an entry has only rule and reason")
    rule, reason = item.get("rule"), item.get("reason")
    if not isinstance(rule, str) or not rule:
        raise BaselineError(f"{where}: 'rule' must be a rule ID such as VAL-9, got {json.dumps(rule)}")
    if rule not in requirements.BY_ID:
        raise BaselineError(f"{where}: unknown rule ID {rule!r}; IDs are those of CONTRACT.md (AUTH-1 ... RESP-3)")
    if not isinstance(reason, str) or not reason.strip():
        raise BaselineError(f"{where}: rule {rule} needs a 'reason' (why the violation is accepted)")
    return Entry(rule, reason.strip())


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__} ({json.dumps(value, default=str)[:40]})"
