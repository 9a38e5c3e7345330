"""Checks of responses against the contract, and the failure they raise.

A :class:`Violation` explains itself: the rule's ID, level and text, a title, what was expected
and what was received, and the exchange as a ``curl`` command with the key shown as ``***``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import jsonschema

from conformance import requirements, rules
from conformance.client import Exchange
from conformance.rules import JSON

_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(rules.is_rfc3339)
_COLLECTION = jsonschema.Draft202012Validator(rules.RESPONSE_SCHEMA, format_checker=_FORMATS)
_ENVELOPE = jsonschema.Draft202012Validator(rules.ERROR_SCHEMA, format_checker=_FORMATS)


class Violation(AssertionError):
    """A rule of the contract does not hold. Its level decides whether it fails the gate."""

    def __init__(
        self,
        rule_id: str,
        title: str,
        *,
        expected: str,
        received: str,
        exchanges: Sequence[Exchange] = (),
        level: requirements.Level | None = None,
    ) -> None:
        self.requirement = requirements.get(rule_id)
        #: A rule may hold a SHOULD inside a MUST (VAL-7: 4xx MUST, 422 SHOULD); ``level`` says which part broke.
        self.level = level or self.requirement.level
        self.title = title
        self.expected = expected
        self.received = received
        self.exchanges = tuple(exchanges)
        super().__init__(self.render())

    @property
    def rule_id(self) -> str:
        return self.requirement.id

    def render(self) -> str:
        req = self.requirement
        part = "" if self.level is req.level else f", its {self.level.value} part"
        lines = [
            f"[{req.id}] {self.title}",
            f"  rule ({req.level.value}{part}): {req.text}",
            f"  expected: {self.expected}",
            "  received: " + self.received.replace("\n", "\n            "),
        ]
        for exchange in self.exchanges[-3:]:
            lines.append(f"  reproduce: {exchange.curl()}")
        return "\n".join(lines)


def violation(rule_id: str, title: str, expected: str, received: str, *exchanges: Exchange) -> Violation:
    return Violation(rule_id, title, expected=expected, received=received, exchanges=exchanges)


def _statuses(allowed: Collection[int]) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start}-{allowed.stop - 1}"
    return " or ".join(str(s) for s in sorted(allowed))


#: Statuses whose body must be the error envelope (RESP-2).
ENVELOPE_STATUSES = frozenset({401, 404, 422})


def expect_status(
    rule_id: str, exchange: Exchange, allowed: Collection[int], title: str, *, envelope_checked: bool = True
) -> None:
    """The status is one of ``allowed`` (a set, or a ``range`` such as ``range(400, 500)``).

    A 401, 404 or 422 that is expected must also carry the error envelope (RESP-2), so that an
    envelope missing from any error path is caught; ``envelope_checked=False`` for requests that may
    never reach the endpoint's handler (odd paths a router answers).
    """
    if exchange.status not in allowed:
        raise violation(rule_id, title, f"HTTP {_statuses(allowed)}", exchange.describe(), exchange)
    if envelope_checked and exchange.status in ENVELOPE_STATUSES:
        envelope("RESP-2", exchange)


def json_body(rule_id: str, exchange: Exchange, title: str) -> JSON:
    """The body as ``application/json``, decoded; a violation of ``rule_id`` otherwise."""
    if exchange.media_type != "application/json":  # RESP-1, RESP-2: application/json (parameters aside)
        raise violation(rule_id, title, "Content-Type: application/json", exchange.describe(), exchange)
    try:
        return exchange.json()
    except ValueError as error:
        raise violation(rule_id, title, "a JSON body", f"{exchange.describe()}\n({error})", exchange) from None


def _schema_errors(validator: jsonschema.Draft202012Validator, document: JSON) -> list[str]:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def collection(rule_id: str, exchange: Exchange, collection_id: str) -> dict[str, JSON]:
    """A 200 (else a violation of ``rule_id``) whose body is the collection object of RESP-1 for
    ``collection_id`` (else a violation of RESP-1, whatever rule the caller tests); returns it."""
    expect_status(rule_id, exchange, {200}, "the request should succeed")
    document = json_body("RESP-1", exchange, "a 200 body is JSON")
    problems = _schema_errors(_COLLECTION, document)
    if not problems and document["id"] != collection_id:
        problems.append(f"id: {document['id']!r} is not the path id {collection_id!r}")
    if problems:
        raise violation(
            "RESP-1",
            "the 200 body is not the collection object",
            "every field of the collection, with the page's types (RFC 3339 timestamps)",
            "; ".join(problems[:5]) + "\n" + exchange.describe(),
            exchange,
        )
    return dict(document)


def envelope(rule_id: str, exchange: Exchange) -> dict[str, Any]:
    """The error envelope of RESP-2, with ``error.status`` equal to the HTTP status; returns ``error``."""
    document = json_body(rule_id, exchange, f"a {exchange.status} body is JSON")
    problems = _schema_errors(_ENVELOPE, document)
    if not problems and document["error"]["status"] != exchange.status:
        problems.append(f"error.status: {document['error']['status']!r} is not the HTTP status {exchange.status}")
    if problems:
        raise violation(
            rule_id,
            f"the {exchange.status} body is not the error envelope",
            "success: false and error{code, message, system_message, type, status, details, trace_id, timestamp}",
            "; ".join(problems[:5]) + "\n" + exchange.describe(),
            exchange,
        )
    return dict(document["error"])


def error_code(rule_id: str, exchange: Exchange, status: int, title: str) -> dict[str, Any]:
    """Status ``status`` with the page's ``error.code`` and ``error.type`` for it; returns ``error``."""
    expect_status(rule_id, exchange, {status}, title)
    code, kind = rules.ERRORS[status]
    try:
        error = exchange.json()["error"]
        got = (error.get("code"), error.get("type"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise violation(rule_id, title, f"error.code {code}, error.type {kind}", exchange.describe(), exchange) from None
    if got != (code, kind):
        raise violation(
            rule_id, title, f"error.code {code}, error.type {kind}", f"error.code {got[0]!r}, error.type {got[1]!r}", exchange
        )
    return dict(error)


def fields_equal(
    rule_id: str, title: str, expected: Mapping[str, JSON], actual: Mapping[str, JSON], *exchanges: Exchange
) -> None:
    """Every field of ``expected`` has exactly that value in ``actual``."""
    diffs = {k: (v, actual.get(k, "<absent>")) for k, v in expected.items() if actual.get(k, "<absent>") != v}
    if diffs:
        raise violation(
            rule_id,
            title,
            "; ".join(f"{k} = {_show(v)}" for k, (v, _) in diffs.items()),
            "; ".join(f"{k} = {_show(got)}" for k, (_, got) in diffs.items()),
            *exchanges,
        )


def _show(value: JSON, limit: int = 120) -> str:
    text = repr(value)
    if isinstance(value, str) and len(value) > 20:
        text = f"{text[:limit]}{'...' if len(text) > limit else ''} ({len(value)} code points)"
    return text
