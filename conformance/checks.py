"""Checks of responses against the contract, and the failure they raise.

A :class:`Violation` explains itself: the rule's ID, level and text, a title, what was expected
and what was received, and the exchange as a ``curl`` command with the key shown as ``***``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import jsonschema

from conformance import evidence, fields, requirements
from conformance.client import Exchange
from conformance.fields import JSON

_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(fields.is_rfc3339)
_COLLECTION = jsonschema.Draft202012Validator(fields.RESPONSE_SCHEMA, format_checker=_FORMATS)
_ENVELOPE = jsonschema.Draft202012Validator(fields.ERROR_SCHEMA, format_checker=_FORMATS)


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
    """A violation, not yet recorded: give it to :func:`fail` (or raise it from a hypothesis example)."""
    return Violation(rule_id, title, expected=expected, received=received, exchanges=exchanges)


def holds(rule_id: str) -> None:
    """Record that a check of ``rule_id`` passed in the current test."""
    ledger = evidence.current()
    if ledger is not None:
        ledger.passed(rule_id)


def fail(found: Violation, *, soft: bool = False) -> None:
    """Record ``found``; raise it unless ``soft`` (then the test goes on, and fails at its end)."""
    ledger = evidence.current()
    if ledger is None:
        raise found
    ledger.violated(found, soft=soft)
    if not soft:
        raise found


def require(
    rule_id: str,
    condition: bool,
    title: str,
    expected: str,
    received: str,
    *exchanges: Exchange,
    level: requirements.Level | None = None,
    soft: bool = False,
) -> bool:
    """Record a check of ``rule_id``: a pass when ``condition`` holds, else the violation (raised unless ``soft``)."""
    if condition:
        holds(rule_id)
        return True
    fail(Violation(rule_id, title, expected=expected, received=received, exchanges=exchanges, level=level), soft=soft)
    return False


def _statuses(allowed: Collection[int]) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start}-{allowed.stop - 1}"
    return " or ".join(str(s) for s in sorted(allowed))


#: Statuses whose body must be the error envelope (RESP-2).
ENVELOPE_STATUSES = frozenset({401, 404, 422})


def expect_status(
    rule_id: str,
    exchange: Exchange,
    allowed: Collection[int],
    title: str,
    *,
    envelope_checked: bool = True,
    soft: bool = False,
    level: requirements.Level | None = None,
) -> bool:
    """The status is one of ``allowed`` (a set, or a ``range`` such as ``range(400, 500)``).

    A 401, 404 or 422 must also carry the error envelope (RESP-2): that check is soft, so that an
    envelope missing from any error path is caught without hiding the test's own checks;
    ``envelope_checked=False`` for answers RESP-2 does not judge (another method: F14; an id an
    HTTP layer cannot route: F15).
    """
    if envelope_checked and exchange.status in ENVELOPE_STATUSES:
        envelope("RESP-2", exchange)
    if exchange.status >= 500 and exchange.status not in allowed:  # whatever the test asked, a 5xx is RESP-3's
        require("RESP-3", False, f"{title}: no request gets a 5xx", f"HTTP {_statuses(allowed)}", exchange.describe(), exchange)
    return require(
        rule_id, exchange.status in allowed, title, f"HTTP {_statuses(allowed)}", exchange.describe(), exchange,
        level=level, soft=soft,
    )  # fmt: skip


def json_body(rule_id: str, exchange: Exchange, title: str, *, soft: bool = False) -> JSON:
    """The body as ``application/json``, decoded; a violation of ``rule_id`` otherwise (after a soft
    one: ``None``)."""
    return _decoded(rule_id, exchange, title, soft=soft)[1]


def _decoded(rule_id: str, exchange: Exchange, title: str, *, soft: bool) -> tuple[bool, JSON]:
    """Whether the body is ``application/json`` that decodes, and the value."""
    if exchange.media_type != "application/json":  # RESP-1, RESP-2: application/json (parameters aside)
        fail(violation(rule_id, title, "Content-Type: application/json", exchange.describe(), exchange), soft=soft)
        return False, None
    try:
        return True, exchange.json()
    except ValueError as error:
        fail(violation(rule_id, title, "a JSON body", f"{exchange.describe()}\n({error})", exchange), soft=soft)
        return False, None


#: What :func:`_schema_errors` found, by schema and document: an answer several tests share (one
#: request, see ``conformance.batch``) and a read that shows what the last one showed are validated
#: once (about a third of a quick run's validations).
_FOUND: dict[tuple[int, str], list[str]] = {}
_FOUND_MOST, _FOUND_LONGEST = 4096, 4096  # documents kept, and the longest kept (in characters)


def _schema_errors(validator: jsonschema.Draft202012Validator, document: JSON) -> list[str]:
    try:  # the document as JSON tells apart what the schema tells apart (1 and 1.0 and true, key order)
        key = (id(validator), json.dumps(document, allow_nan=True))  # the validators live as long as the module
    except (TypeError, ValueError):
        return _validate(validator, document)
    found = _FOUND.get(key)
    if found is None:
        found = _validate(validator, document)
        if len(_FOUND) < _FOUND_MOST and len(key[1]) <= _FOUND_LONGEST:
            _FOUND[key] = found
    return list(found)


def _validate(validator: jsonschema.Draft202012Validator, document: JSON) -> list[str]:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def collection(rule_id: str, exchange: Exchange, collection_id: str) -> dict[str, JSON]:
    """A 200 (else a violation of ``rule_id``) whose body is the collection object of RESP-1 for
    ``collection_id``; returns it.

    A body that is not JSON, not an object, or lacks a field is a hard violation of RESP-1 (nothing
    after it can be judged); wrong types, formats or an id other than the path's are recorded as
    RESP-1 and the test goes on with the fields it reads.
    """
    expect_status(rule_id, exchange, {200}, "the request should succeed")
    document = json_body("RESP-1", exchange, "a 200 body is JSON")
    missing = sorted(set(fields.RESPONSE_SCHEMA["required"]) - set(document)) if isinstance(document, dict) else ["(an object)"]
    problems = _schema_errors(_COLLECTION, document)
    if not problems and document["id"] != collection_id:
        if document["id"] == _sent(exchange).get("id"):  # the request's read-only id was applied: SEM-5's
            require(
                "SEM-5", False, "the id sent in the body was applied", f"id {collection_id!r} (read-only)",
                f"id {document['id']!r}", exchange, soft=True,
            )  # fmt: skip
            return dict(document)
        problems.append(f"id: {document['id']!r} is not the path id {collection_id!r}")
    require(
        "RESP-1",
        not problems,
        "the 200 body is not the collection object",
        "every field of the collection, with the page's types (RFC 3339 timestamps)",
        "; ".join(problems[:5]) + "\n" + exchange.describe(),
        exchange,
        soft=not missing,
    )
    return dict(document)


def _sent(exchange: Exchange) -> dict[str, Any]:
    """The JSON object the request sent (empty when it sent none)."""
    try:
        body = json.loads(exchange.request_body or b"")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def envelope(rule_id: str, exchange: Exchange, *, soft: bool = True) -> dict[str, Any] | None:
    """The error envelope of RESP-2, with ``error.status`` equal to the HTTP status; returns ``error``
    (``None`` when it is not the envelope). Soft by default: see :func:`expect_status`."""
    decoded, document = _decoded(rule_id, exchange, f"a {exchange.status} body is JSON", soft=soft)
    if not decoded:
        return None
    problems = _schema_errors(_ENVELOPE, document)
    if not problems and document["error"]["status"] != exchange.status:
        problems.append(f"error.status: {document['error']['status']!r} is not the HTTP status {exchange.status}")
    ok = require(
        rule_id,
        not problems,
        f"the {exchange.status} body is not the error envelope",
        "success: false and error{code, message, system_message, type, status, details, trace_id, timestamp}",
        "; ".join(problems[:5]) + "\n" + exchange.describe(),
        exchange,
        soft=soft,
    )
    return dict(document["error"]) if ok else None


def error_code(rule_id: str, exchange: Exchange, status: int, title: str) -> dict[str, Any]:
    """Status ``status`` with the page's ``error.code`` and ``error.type`` for it; returns ``error``.

    The envelope is judged under RESP-2 on its own; the code and type are ``rule_id``'s, read from
    the body whatever else it holds."""
    expect_status(rule_id, exchange, {status}, title)
    code, kind = fields.ERRORS[status]
    try:
        error = exchange.json()["error"]
        got = (error.get("code"), error.get("type"))
    except (ValueError, KeyError, TypeError, AttributeError):
        error, got = {}, (None, None)
        received = exchange.describe()
    else:
        received = f"error.code {got[0]!r}, error.type {got[1]!r}"
    require(rule_id, got == (code, kind), title, f"error.code {code}, error.type {kind}", received, exchange)
    return dict(error)


def fields_equal(
    rule_id: str,
    title: str,
    expected: Mapping[str, JSON],
    actual: Mapping[str, JSON],
    *exchanges: Exchange,
    soft: bool = False,
) -> bool:
    """Every field of ``expected`` has exactly that value in ``actual`` (nothing expected: no evidence, nothing recorded)."""
    if not expected:
        return True
    diffs = {k: (v, actual.get(k, "<absent>")) for k, v in expected.items() if actual.get(k, "<absent>") != v}
    return require(
        rule_id,
        not diffs,
        title,
        "; ".join(f"{k} = {show(v)}" for k, (v, _) in diffs.items()),
        "; ".join(f"{k} = {show(got)}" for k, (_, got) in diffs.items()),
        *exchanges,
        soft=soft,
    )


def _pairs(expected: Mapping[str, JSON], actual: Mapping[str, JSON] | None = None) -> str:
    """``name = value; ...`` of ``expected``'s names, with ``actual``'s values when given."""
    source = expected if actual is None else actual
    return "; ".join(f"{k} = {show(source.get(k, '<absent>'))}" for k in expected)


def show(value: JSON, limit: int = 120) -> str:
    """A value as a failure message shows it: ``repr``, long strings cut with their length."""
    text = repr(value)
    if isinstance(value, str) and len(value) > 20:
        text = f"{text[:limit]}{'...' if len(text) > limit else ''} ({len(value)} code points)"
    return text


def applied(
    body: Mapping[str, JSON],
    before: Mapping[str, JSON],
    returned: Mapping[str, JSON],
    stored: Mapping[str, JSON],
    *exchanges: Exchange,
    sent_rule: str = "SEM-3",
    soft: bool = True,
) -> None:
    """After a 200 to a PATCH of ``body``: the four fields of the 200 body (``returned``) and of a later
    read (``stored``), against the state ``before``, each difference named by the rule it breaks.

    - a sent value neither returned nor stored breaks ``sent_rule`` (SEM-3: stored exactly; SEM-2
      for a ``null``); one returned but not stored, or stored but not returned, breaks SEM-6 (the 200
      body is the state after the update, and it persists): a server that stores nothing is SEM-6's;
    - an omitted field changed in storage breaks SEM-1;
    - any other difference between the 200 body and the read breaks SEM-6.
    """
    names = [n for n in fields.FIELD_NAMES if n in before or n in body]
    sent = {n: body[n] for n in names if n in body}
    lost = {n: v for n, v in sent.items() if returned.get(n) != v and stored.get(n) != v}
    nulls = {n: v for n, v in lost.items() if v is None}
    values = {n: v for n, v in lost.items() if v is not None}
    if any(v is None for v in sent.values()):
        require(
            "SEM-2", not nulls, "an explicit null clears the field", _pairs(nulls), _pairs(nulls, stored), *exchanges, soft=soft
        )
    if any(v is not None for v in sent.values()):
        title = "the sent values are stored and returned exactly"
        require(sent_rule, not values, title, _pairs(values), _pairs(values, stored), *exchanges, soft=soft)
    omitted = {n: before.get(n) for n in names if n not in body}
    fields_equal("SEM-1", "the omitted fields are left untouched", omitted, stored, *exchanges, soft=soft)
    shown = {n: stored.get(n) for n in names}
    fields_equal("SEM-6", "the 200 body is the state a later read returns", shown, returned, *exchanges, soft=soft)
