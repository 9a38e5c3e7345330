"""Schemathesis over the spec, without false alarms: what to generate, what to expect, which rule broke.

Three kinds of data, all for the configured collection (path parameters pinned, no header generated:
the suite's client adds the key, so it never appears in a case or a falsifying example):

- **strict positive** data comes from a *generation* schema derived from the field declarations
  (:mod:`conformance.fields`, :func:`generation_body_schema`) that takes no freedom of the contract:
  no unknown or read-only fields (F2, F3), ``cover_track_id`` only from the configured tracks or
  ``null`` (F4), ``cover_image_url`` only as plain ``https://`` URLs (F5), no control characters, NUL
  or lone surrogates (F10), a ``name`` with a character no server takes for white space (F11), a
  ``description`` no longer than F12 lets a server refuse. Every such body must get 2xx.
- **spec positive** data is schemathesis' positive data of the canonical spec, which is open exactly
  where the page is silent. A body that takes a freedom may get 2xx or the rejection that freedom
  allows (:func:`expect_valid`); one that takes none must get 2xx.
- **negative** data is schemathesis' negative data of the canonical spec. Each body is encoded as it
  will be sent and judged again by the field declarations (:func:`expect_invalid`); a body some conformant
  server could accept is dropped, and the statuses a conformant server may answer are worked out
  per body.

Responses are judged by schemathesis checks and by the :class:`Expectation` of the body; a failure
becomes a :class:`~conformance.checks.Violation` naming the contract's rule (:func:`judge`).
:data:`CHECKS_OFF` says which schemathesis checks do not run, and why.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from conformance import checks, fields, malformed
from conformance.client import Exchange, encode_json
from conformance.config import Settings
from conformance.fields import JSON, NULL_REFUSED_RULE, FieldSpec

# schemathesis, requests and yaml are imported where they are used, not here: collecting the suite,
# or running tests without schemathesis, never pays for them.
if TYPE_CHECKING:
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis import Case as _Case
    from schemathesis.core.failures import Failure

    #: A generated case of the PATCH operation.
    Case = _Case[Any]
else:

    def __getattr__(name: str) -> Any:
        """``Case`` (PEP 562), resolved on first use so that importing this module imports no schemathesis."""
        if name == "Case":
            from schemathesis import Case as _Case

            globals()["Case"] = _Case[Any]
            return globals()["Case"]
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


PATH = fields.PATH
METHOD = "PATCH"
MEDIA_TYPE = fields.MEDIA_TYPE

#: Longest text a field without a declared maximum is generated with: a server may reject more (F12).
TEXT_LIMIT = fields.FREE_TEXT_LIMIT
#: Fields whose values are URLs: generated as plain ``https://`` URLs only (F5).
URL_FIELDS: tuple[str, ...] = tuple(spec.name for spec in fields.BODY_FIELDS if spec.is_url)
#: One character of generated text: no C0/C1 control character, so no NUL either (F10). Lone
#: surrogates are kept out by the ``utf-8`` codec of the generation config.
SAFE_CHARACTER = f"[^{fields.CONTROL_CHARACTERS}]"
#: A character no server takes for white space (``str.isspace``, Unicode ``Z*``, ECMAScript ``\s``,
#: zero-width characters, the BOM): a ``name`` holds one (F11).
VISIBLE_CHARACTER = r"[^\x00-\x20\x7f-\xa0\u1680\u180e\u2000-\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]"
#: Plain ``https://`` URLs: a lower-case host under ``example.com``, up to 30 path segments that never
#: start with a dot; at most 971 characters (the generation schema's ``maxLength`` still applies).
URL_PATTERN = r"^https://[a-z][a-z0-9]{0,20}\.example\.com(/[A-Za-z0-9][A-Za-z0-9._~-]{0,29}){0,30}$"

#: F16: a body over this many bytes may be refused with 413.
BODY_LIMIT = fields.BODY_SIZE_FLOOR
#: Every 2xx and every 4xx status.
ANY_2XX: frozenset[int] = frozenset(range(200, 300))
ANY_4XX: frozenset[int] = frozenset(range(400, 500))

# ---- schemas and strategies -------------------------------------------------------------------


def generation_field_schema(spec: FieldSpec, tracks: Sequence[str] = ()) -> dict[str, JSON] | None:
    """The JSON Schema of the values of ``spec`` every conformant server must accept; ``None`` when
    there is none to send (an id field with no configured id, not nullable)."""
    if spec.prefix is not None:  # an id: only ids the target is known to hold (F4)
        ids = [t for t in tracks if t.startswith(spec.prefix)]
        values: list[JSON] = [None, *ids] if spec.nullable else ids
        return {"enum": values} if values else None
    schema = spec.json_schema()
    if spec.is_url:
        schema["pattern"] = URL_PATTERN
    elif spec.min_length:
        schema["pattern"] = f"^{SAFE_CHARACTER}*{VISIBLE_CHARACTER}{SAFE_CHARACTER}*$"
    else:
        schema["pattern"] = f"^{SAFE_CHARACTER}*$"
    schema["maxLength"] = TEXT_LIMIT if spec.max_length is None else spec.max_length
    return schema


def generation_body_schema(tracks: Sequence[str] = ()) -> dict[str, JSON]:
    """The PATCH body schema of strict positive data: the four fields, each optional, nothing else."""
    properties = {}
    for spec in fields.BODY_FIELDS:
        schema = generation_field_schema(spec, tracks)
        if schema is not None:
            properties[spec.name] = schema
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _spec() -> dict[str, Any]:
    """The spec as read once by :mod:`conformance.fields` (a copy: schemathesis may annotate it)."""
    return copy.deepcopy(dict(fields.DECLARATIONS.document))


def generation_document(tracks: Sequence[str] = ()) -> dict[str, Any]:
    """The spec with the PATCH body replaced by :func:`generation_body_schema` (and its examples
    dropped: strict positive data is only what that schema allows). Responses are unchanged."""
    document = _spec()
    content = document["paths"][PATH][METHOD.lower()]["requestBody"]["content"][MEDIA_TYPE]
    content["schema"] = generation_body_schema(tracks)
    content.pop("examples", None)
    content.pop("example", None)
    return document


def schemathesis_config(*, allow_x00: bool = True) -> schemathesis.Config:
    """Always passed explicitly, so that no ``schemathesis.toml`` of the working directory applies.
    Strict data is generated without NUL (F10); spec and negative data may hold it."""
    import schemathesis

    return schemathesis.Config.from_dict(
        {
            "generation": {"with-security-parameters": False, "allow-x00": allow_x00, "codec": "utf-8"},
            "checks": {
                # Tightened: the default also accepts 401 and 404, so a wrong key or id would pass.
                "positive_data_acceptance": {"expected-statuses": ["2xx"]},
                # Only the gross error (2xx, 3xx) here; the statuses each body allows are worked
                # out by expect_invalid (VAL-7 allows any 4xx, F4 a 404, F13 a 400).
                "negative_data_rejection": {"expected-statuses": ["4xx"]},
            },
        }
    )


#: Which data to draw: ``strict`` (the generation document, positive), ``spec`` (the canonical spec,
#: positive) or ``negative`` (the canonical spec, negative).
KINDS = ("strict", "spec", "negative")


def operation(kind: str, tracks: tuple[str, ...] = ()) -> Any:
    """The PATCH operation to draw ``kind`` data from: spec and negative data come from one, the
    canonical spec's (built once), strict data from the generation document's of ``tracks``."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} must be one of {KINDS}")
    return _operation(tracks) if kind == "strict" else _operation(None)


@functools.lru_cache(maxsize=8)
def _operation(tracks: tuple[str, ...] | None) -> Any:
    """The operation of the generation document of ``tracks``, or of the canonical spec (``None``)."""
    import schemathesis

    document = _spec() if tracks is None else generation_document(tracks)
    schema = schemathesis.openapi.from_dict(document, config=schemathesis_config(allow_x00=tracks is None))
    return schema[PATH][METHOD]


def cases(settings: Settings, kind: str) -> st.SearchStrategy[Case]:
    """Cases of ``kind`` (see :data:`KINDS`) for the configured collection: path parameters pinned,
    no header generated."""
    from schemathesis import GenerationMode

    mode = GenerationMode.NEGATIVE if kind == "negative" else GenerationMode.POSITIVE
    pins = {"organization_id": settings.org_id, "collection_id": settings.collection_id}
    strategy: st.SearchStrategy[Case] = operation(kind, settings.track_ids).as_strategy(
        generation_mode=mode, path_parameters=pins
    )
    return strategy


def only_body_varies(case: Case) -> bool:
    """Whether the case is negative (if at all) in its body only: the path is as pinned."""
    meta = case.meta
    if meta is None:
        return False
    return all(component.mode.is_positive for location, component in meta.components.items() if location.name != "BODY")


# ---- encoding ---------------------------------------------------------------------------------


def encode(body: Any) -> bytes:
    """The request body as sent: bytes as they are; a value as UTF-8 JSON (lone surrogates, which
    UTF-8 cannot carry, as ``\\uXXXX`` escapes), as a client library would send it."""
    return body if isinstance(body, bytes) else encode_json(body)


def decode(content: bytes) -> tuple[JSON, bool]:
    """The JSON value of ``content``, and whether a strict parser may call it malformed (F13): lone
    surrogates, numbers beyond a double, nesting deeper than 64. ``ValueError`` when it is not a JSON
    text of RFC 8259 (``NaN`` and ``Infinity`` included: VAL-8); :class:`LookupError` when a
    conformant server may accept it or not (F17: zero bytes, bytes that are not UTF-8, duplicate
    keys; RFC 8259 §8.1: a leading byte order mark): ``conformance.malformed.classify``."""
    kind = malformed.classify(content)
    if kind == "free":
        raise LookupError("F17: zero bytes, bytes that are not UTF-8 or a byte order mark may be accepted")
    if kind == "malformed":
        raise ValueError("not a JSON text (RFC 8259)")

    def constant(name: str) -> float:
        raise ValueError(f"{name} is not JSON")  # unreachable: the grammar has no NaN; kept as a guard

    def pairs(items: list[tuple[str, JSON]]) -> dict[str, JSON]:
        if len({k for k, _ in items}) != len(items):
            raise LookupError("F17: duplicate keys (refused, or the last one wins)")
        return dict(items)

    value = json.loads(content.decode("utf-8"), parse_constant=constant, object_pairs_hook=pairs)
    return value, _strict_parser_may_reject(value)


def _strict_parser_may_reject(value: JSON, depth: int = 0) -> bool:
    if depth > 64:
        return True
    if isinstance(value, str):
        return _has_surrogate(value)
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return abs(value) > 1e300
    items = list(value.items()) if isinstance(value, dict) else [("", v) for v in value]
    return any(_has_surrogate(k) or _strict_parser_may_reject(v, depth + 1) for k, v in items)


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


# ---- expectations -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Expectation:
    """What a conformant server may answer to one request body, and the rule a wrong answer breaks."""

    #: ``strict``, ``spec`` or ``negative`` (see :data:`KINDS`).
    kind: str
    #: The bytes sent, as ``application/json``.
    content: bytes
    #: Every status a conformant server may answer.
    allowed: frozenset[int]
    #: What the body is, for failure messages.
    why: str
    #: The rule broken by a status below 400 that is not allowed (the body was accepted).
    accepted_rule: str = "VAL-10"
    #: The rule broken by a 3xx or 4xx that is not allowed.
    rejected_rule: str = "VAL-10"
    #: The freedoms of the contract the body takes.
    freedoms: tuple[str, ...] = ()
    #: The decoded body (``None`` when it is not a JSON object).
    body: Mapping[str, JSON] | None = dataclasses.field(default=None, compare=False)

    def rule_for(self, status: int) -> str | None:
        """The rule ``status`` breaks; ``None`` when it is allowed. A 5xx is RESP-3's."""
        if status in self.allowed:
            return None
        if status >= 500:
            return "RESP-3"
        if status < 300 or (status < 400 and self.kind == "negative"):
            return self.accepted_rule
        return self.rejected_rule

    def describe_allowed(self) -> str:
        parts = []
        if self.allowed >= ANY_2XX:
            parts.append("2xx")
        if self.allowed >= ANY_4XX:
            parts.append("a 4xx status")
        else:
            parts += [str(s) for s in sorted(self.allowed) if s >= 300]
        return " or ".join(parts)


def freedoms_taken(body: Mapping[str, JSON], tracks: Collection[str] = ()) -> tuple[str, ...]:
    """The freedoms of the contract a valid ``body`` takes, each of which lets a server reject it:
    F2 unknown fields, F3 read-only fields, F4 an ``mtrack_`` id that is not a configured track,
    F5 a URL that is not a plain ``https://`` one, F10 control characters or lone surrogates
    (anywhere), F11 a ``name`` of only white space, F12 a ``description`` over 512 characters."""
    taken = set()
    for name, value in body.items():
        spec = fields.FIELDS_BY_NAME.get(name)
        if spec is None:
            taken.add("F3" if name in fields.READ_ONLY_FIELDS else "F2")
        if fields.has_control(name) or _has_surrogate(name):
            taken.add("F10")
        if spec is None or not isinstance(value, str):
            if spec is None and _strings_with(value, lambda s: fields.has_control(s) or _has_surrogate(s)):
                taken.add("F10")
            continue
        if fields.has_control(value) or _has_surrogate(value):
            taken.add("F10")
        if spec.prefix is not None and value not in tracks:
            taken.add("F4")
        if spec.is_url and not re.fullmatch(URL_PATTERN, value):
            taken.add("F5")
        if spec.min_length and not re.search(VISIBLE_CHARACTER, value):
            taken.add("F11")
        if spec.max_length is None and len(value) > TEXT_LIMIT:
            taken.add("F12")
    return tuple(sorted(taken, key=lambda f: int(f[1:])))


def _strings_with(value: JSON, predicate: Callable[[str], bool]) -> bool:
    if isinstance(value, str):
        return predicate(value)
    if isinstance(value, dict):
        return any(predicate(k) or _strings_with(v, predicate) for k, v in value.items())
    if isinstance(value, list):
        return any(_strings_with(v, predicate) for v in value)
    return False


def acceptance_rule_id(body: Mapping[str, JSON], blamed: str | None = None) -> str:
    """The rule broken when the valid ``body`` is rejected: the blamed field's (``details.field``)
    if it was sent, else the first sent field's, fields with a rule of their own first (the table's
    ``accepted``: ``name`` VAL-3, a URL VAL-6); a ``null`` is SEM-2's, another value SEM-3's (the
    table's default); the empty body is SEM-4's."""
    sent = [spec for spec in fields.BODY_FIELDS if spec.name in body]
    if not sent:
        return "SEM-4"
    default = fields.FieldRules().accepted
    order = [s for s in sent if s.name == blamed] + [s for s in sent if s.rules.accepted != default] + sent
    spec = order[0]
    return NULL_REFUSED_RULE if body[spec.name] is None else spec.rules.accepted


def expect_valid(content: bytes, kind: str, tracks: Collection[str] = ()) -> Expectation:
    """The expectation for a body that breaks no rule: 2xx when it takes no freedom; else 2xx or
    422 (and 404 for an unknown track: F4; 400 when a strict parser may call it malformed: F13;
    only 413 for a body over 64 KiB: F16).
    ``ValueError`` when the body breaks a rule (the generator is wrong, not the target)."""
    body, doubtful = decode(content)
    if not isinstance(body, dict) or fields.body_errors(body):
        raise ValueError(f"not a valid body: {content[:200]!r}")
    freedoms = freedoms_taken(body, tracks) + (("F16",) if len(content) > BODY_LIMIT else ())
    if kind == "strict" and freedoms:
        raise ValueError(f"strict positive data takes freedoms {freedoms}: {content[:200]!r}")
    rejected = acceptance_rule_id(body)
    if not freedoms and not doubtful:
        return Expectation(kind, content, ANY_2XX, "a valid body that takes no freedom", rejected_rule=rejected, body=body)
    allowed = set(ANY_2XX)
    if doubtful or set(freedoms) - {"F16"}:
        allowed.add(422)
    if "F4" in freedoms:
        allowed.add(404)
    if doubtful:
        allowed.add(400)
    if "F16" in freedoms:
        allowed.add(413)
    why = f"a valid body that takes freedom {', '.join(freedoms) or 'F13'} (may be rejected with {' or '.join(str(s) for s in sorted(allowed - ANY_2XX))})"
    return Expectation(kind, content, frozenset(allowed), why, rejected_rule="VAL-10", freedoms=freedoms, body=body)


def expect_invalid(content: bytes, tracks: Collection[str] = ()) -> Expectation | None:
    """The expectation for ``content`` from negative data; ``None`` when some conformant server
    could accept it (it is not negative data after all).

    - not JSON (``conformance.malformed``), or not an object: any 4xx, accepted breaks VAL-8 (F13 allows
      400 for malformed JSON); ``None`` for what F17 leaves free (zero bytes, bytes that are not UTF-8,
      duplicate keys) and a leading byte order mark;
    - a field breaks a constraint: 422, accepted breaks the rule the table gives that constraint
      (:mod:`conformance.fields`: VAL-1, 2, 4, 5, 6, 7), another 4xx VAL-10; except that a non-``mtrack_`` id may get any 4xx (VAL-7), an ``mtrack_`` id that
      is not a configured track a 404 (F4), a body a strict parser may call malformed a 400 (F13),
      and a body over 64 KiB a 413 (F16).
    """
    try:
        value, doubtful = decode(content)
    except LookupError:
        return None
    except ValueError:
        return Expectation("negative", content, ANY_4XX, "the body is not JSON", accepted_rule="VAL-8")
    if not isinstance(value, dict):
        why = f"the body is JSON but not an object ({type(value).__name__})"
        return Expectation("negative", content, ANY_4XX, why, accepted_rule="VAL-8")
    errors = fields.body_errors(value)
    if not errors:
        return None
    ids = [e.rule_id for e in errors if e.field is not None]
    allowed = {422}
    if "VAL-7" in ids:  # not a track id: any 4xx, SHOULD be 422
        allowed |= ANY_4XX
    if any(
        isinstance(value.get(s.name), str) and value[s.name].startswith(s.prefix) and value[s.name] not in tracks
        for s in fields.BODY_FIELDS
        if s.prefix is not None
    ):
        allowed.add(404)
    if doubtful:
        allowed.add(400)
    if len(content) > BODY_LIMIT:
        allowed.add(413)
    why = "; ".join(f"{e.field}: {e.message}{_sent_length(value[e.field])}" for e in errors if e.field is not None)
    return Expectation("negative", content, frozenset(allowed), why, accepted_rule=ids[0], body=value)


def _sent_length(value: JSON) -> str:
    return f" (sent {len(value)} characters)" if isinstance(value, str) else f" (sent {json.dumps(value)[:40]})"


def blamed_field(exchange: Exchange) -> str | None:
    """``error.details.field`` of an error response (VAL-11), when there is one."""
    try:
        name = exchange.json()["error"]["details"]["field"]
    except (ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) else None


# ---- schemathesis checks and their failures as rule IDs ---------------------------------------

CheckFunction = Callable[..., Any]


class _Checks(Mapping[str, tuple[CheckFunction, ...]]):
    """Schemathesis check functions by kind of data, named here and imported on first use."""

    def __init__(self, names: Mapping[str, tuple[str, ...]]) -> None:
        self._names = names

    @functools.cached_property
    def _functions(self) -> dict[str, tuple[CheckFunction, ...]]:
        from schemathesis import checks as core
        from schemathesis.specs.openapi import checks as openapi

        def function(name: str) -> CheckFunction:
            found: CheckFunction = getattr(openapi, name, None) or getattr(core, name)
            return found

        return {kind: tuple(function(name) for name in names) for kind, names in self._names.items()}

    def __getitem__(self, kind: str) -> tuple[CheckFunction, ...]:
        return self._functions[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


#: The schemathesis checks that run, by kind of data.
CHECKS_ON: Mapping[str, tuple[CheckFunction, ...]] = _Checks(
    {
        "strict": ("not_a_server_error", "positive_data_acceptance", "content_type_conformance", "response_schema_conformance"),
        # Spec data may take a freedom and be rejected: its status is judged by its Expectation only.
        "spec": ("not_a_server_error", "content_type_conformance", "response_schema_conformance"),
        "negative": ("not_a_server_error", "negative_data_rejection", "content_type_conformance", "response_schema_conformance"),
    }
)
#: The checks of schemathesis 4.32 that do not run, and why.
CHECKS_OFF: dict[str, str] = {
    "status_code_conformance": "undocumented statuses are allowed by freedoms (400 for malformed JSON: F13, "
    "415: F9, 405/501: F14); the statuses that matter are judged per body by its Expectation",
    "response_headers_conformance": "the spec documents no response header",
    "missing_required_header": "acts on coverage-phase cases only; the key is the AUTH tests' business",
    "unsupported_method": "coverage phase only; other methods may get 405, 404 or 501 (F14)",
    "allow_header_conformance": "coverage phase only; F14 does not require 405 or an Allow header",
    "use_after_free": "needs stateful history and a DELETE; the endpoint deletes nothing",
    "ensure_resource_availability": "needs stateful history of a create; the endpoint creates nothing",
    "ignored_auth": "re-sends requests outside the suite's client (unrecorded); AUTH-1/AUTH-2 have their own tests",
    "object_level_authorization": "needs two principals configured in schemathesis; OWN-2..OWN-4 have their own tests",
}


def check_name(function: CheckFunction) -> str:
    return str(function.__name__)


def as_response(exchange: Exchange) -> schemathesis.Response:
    """A recorded (redacted) exchange as the response schemathesis checks read."""
    import requests
    import schemathesis

    request = requests.Request(
        exchange.method, exchange.url, headers=dict(exchange.request_headers), data=exchange.request_body
    ).prepare()
    headers: dict[str, list[str]] = {}
    for name, value in exchange.response_headers:
        headers.setdefault(name.lower(), []).append(value)
    return schemathesis.Response(
        status_code=exchange.status,
        headers=headers,
        content=exchange.response_body,
        request=request,
        elapsed=exchange.elapsed_ms / 1000,
        verify=True,
    )


def failures(case: Case, exchange: Exchange, functions: Sequence[CheckFunction]) -> list[tuple[str, Failure]]:
    """The failures of each check in ``functions`` on ``exchange``, in that order."""
    from schemathesis.core.failures import Failure, FailureGroup

    response = as_response(exchange)
    found: list[tuple[str, Failure]] = []
    for function in functions:
        try:
            case.validate_response(response, checks=[function])
        except FailureGroup as group:
            found += [(check_name(function), f) for f in group.exceptions if isinstance(f, Failure)]
    return found


def rule_of(name: str, exchange: Exchange, expectation: Expectation) -> str:
    """The rule a failure of schemathesis check ``name`` breaks: ``not_a_server_error`` RESP-3; the
    media type and schema of a 2xx RESP-1, of any other status RESP-2; ``positive_data_acceptance``
    the expectation's ``rejected_rule``; ``negative_data_rejection`` its ``accepted_rule``;
    ``status_code_conformance`` RESP-3 for a 5xx, else the rule of the status."""
    if name == "not_a_server_error":
        return "RESP-3"
    if name in ("content_type_conformance", "response_schema_conformance", "response_headers_conformance"):
        return "RESP-1" if 200 <= exchange.status < 300 else "RESP-2"
    if name == "positive_data_acceptance":
        return expectation.rejected_rule
    if name == "negative_data_rejection":
        return expectation.accepted_rule
    if name == "status_code_conformance":
        return expectation.rule_for(exchange.status) or "RESP-2"
    raise ValueError(f"no rule is mapped for schemathesis check {name!r}")


def judge(case: Case, exchange: Exchange, expectation: Expectation) -> None:
    """Record and raise the first violation: a failed schemathesis check of ``expectation.kind``, in
    the order of :data:`CHECKS_ON`, then a status the expectation does not allow. What held is
    recorded as a pass of its rule (``conformance.evidence``)."""
    if expectation.kind != "negative" and expectation.body is not None and not expectation.freedoms:
        expectation = dataclasses.replace(expectation, rejected_rule=acceptance_rule_id(expectation.body, blamed_field(exchange)))
    expected_status = f"{expectation.describe_allowed()}: {expectation.why}"
    for name, failure in failures(case, exchange, CHECKS_ON[expectation.kind]):
        rule_id = rule_of(name, exchange, expectation)
        expected = {
            "RESP-1": "the spec's media type and schema for a 2xx",
            "RESP-2": f"the spec's media type and schema for a {exchange.status}",
            "RESP-3": f"no 5xx; {expected_status}",
        }.get(rule_id, expected_status)
        detail = (failure.message or "").strip()
        received = f"{exchange.describe()}\n(schemathesis {name}: {failure.title}{': ' + detail if detail else ''})"
        checks.fail(checks.violation(rule_id, f"{failure.title} (schemathesis {name})", expected, received, exchange))
    checks.holds("RESP-3")
    checks.holds("RESP-1" if 200 <= exchange.status < 300 else "RESP-2")
    broken = expectation.rule_for(exchange.status)
    title = "an invalid body is not rejected as the rule asks" if expectation.kind == "negative" else "a valid body is refused"
    judged = expectation.accepted_rule if expectation.kind == "negative" else expectation.rejected_rule
    checks.require(broken or judged, broken is None, title, expected_status, exchange.describe(), exchange)
