"""The field declarations of the endpoint, read once from the hand-written OpenAPI document, and the
one table that says which contract rule each field constraint stands for.

``openapi/music-collections.yaml`` (the copy installed with the package when run from a wheel:
:func:`conformance.spec_path`) is the only source of every limit, prefix and schema: :func:`load`
reads it into a :class:`Declarations` (the PATCH body's fields as :class:`FieldSpec`: type,
nullability, ``minLength``/``maxLength`` in code points, ``pattern`` and the literal prefix it
requires; the collection's ``readOnly`` fields; the 200 schema; the error envelope; the error
``code`` and ``type`` of each status, from the page's examples). The module's names (``NAME``,
``BODY_FIELDS``, ``RESPONSE_SCHEMA``, ...) are those of the installed spec; a self-test loads a changed
copy with :func:`load` and shows that the stub, the strategies and the boundaries follow it.

:data:`RULES_BY_FIELD` is what the contract adds: the rule of CONTRACT.md that each constraint of a
field stands for (``name``'s ``minLength`` is VAL-1, its ``maxLength`` VAL-2, counted in code points
VAL-3, ...), the rule a server breaks by refusing a valid value, and which fields hold URLs (F5).
Validation (:meth:`FieldSpec.error`) yields errors that carry their rule, so the stub, the strategies,
the schemathesis expectations and the checks never work it out again.

Lengths are Unicode code points, as JSON Schema counts ``minLength``/``maxLength``; Python's
``len(str)`` counts the same.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from conformance import spec_path

JSON = Any  # a decoded JSON value

MEDIA_TYPE = "application/json"


class SpecError(ValueError):
    """The OpenAPI document holds something the suite cannot read; the message names where."""


class Constraint(enum.StrEnum):
    """What a body field's value can break, named as JSON Schema names it (``null``: a ``null`` where
    the field's ``type`` does not allow it), in the order validation checks them."""

    NULL = "null"
    TYPE = "type"
    MIN_LENGTH = "minLength"
    MAX_LENGTH = "maxLength"
    PATTERN = "pattern"


@dataclass(frozen=True)
class FieldRules:
    """The contract's rules for one body field.

    ``broken``: the rule a value breaking each constraint falls under (a server accepting it breaks
    that rule); a constraint not listed falls under VAL-10, "every validation failure of a field gets
    422". ``code_points``: the rule of ``maxLength`` counted in code points, judged with characters of
    more than one byte. ``accepted``: the rule a server breaks by refusing a valid value (a refused
    ``null`` is SEM-2's). ``url``: the value is a URL, which a server may refuse when it is not an
    absolute http(s) one (F5).
    """

    broken: Mapping[Constraint, str] = field(default_factory=lambda: {Constraint.TYPE: "VAL-5"})
    code_points: str | None = None
    accepted: str = "SEM-3"
    url: bool = False


#: Every validation failure of a field gets 422 VALIDATION_ERROR: the rule of a constraint the table
#: does not map.
FIELD_FAILURE_RULE = "VAL-10"
#: A refused explicit ``null`` of a nullable field.
NULL_REFUSED_RULE = "SEM-2"
#: A body that is not a JSON object.
NOT_AN_OBJECT_RULE = "VAL-8"

#: THE table: each field constraint of the spec and the rule of CONTRACT.md it stands for.
RULES_BY_FIELD: Mapping[str, FieldRules] = {
    "name": FieldRules(
        {
            Constraint.MIN_LENGTH: "VAL-1",
            Constraint.MAX_LENGTH: "VAL-2",
            Constraint.NULL: "VAL-4",
            Constraint.TYPE: "VAL-5",
        },
        code_points="VAL-3",
        accepted="VAL-3",
    ),
    "description": FieldRules({Constraint.TYPE: "VAL-5"}),
    "cover_track_id": FieldRules({Constraint.TYPE: "VAL-5", Constraint.PATTERN: "VAL-7"}),
    "cover_image_url": FieldRules(
        {Constraint.TYPE: "VAL-5", Constraint.MAX_LENGTH: "VAL-6"}, code_points="VAL-6", accepted="VAL-6", url=True
    ),
}

#: F12: a text field the spec gives no ``maxLength`` must take this many characters; a server may
#: refuse more. The contract's number, not the page's (the page is silent).
FREE_TEXT_LIMIT = 512

#: F16: a body up to this many bytes must be handled as any other; over it a server may answer 413.
BODY_SIZE_FLOOR = 64 * 1024


@dataclass(frozen=True)
class FieldError:
    """A validation failure: the offending field (``None`` for the body as a whole), why, the contract
    rule it falls under and the constraint broken (``None`` when it is not one of the spec's)."""

    field: str | None
    message: str
    rule_id: str = FIELD_FAILURE_RULE
    constraint: Constraint | None = None


_LITERAL_PREFIX = re.compile(r"\^((?:[^\\.^$*+?()\[\]{}|]|\\[^A-Za-z0-9])*)")


@dataclass(frozen=True)
class FieldSpec:
    """One body field of the PATCH request, as the spec declares it (strings, possibly nullable)."""

    name: str
    nullable: bool
    min_length: int | None = None
    max_length: int | None = None
    #: The spec's ``pattern`` (ECMA-262, searched, as JSON Schema does).
    pattern: str | None = None
    doc: str = ""
    rules: FieldRules = field(default_factory=FieldRules)

    @property
    def prefix(self) -> str | None:
        """The literal prefix the ``pattern`` requires (``^mtrack_``: ``mtrack_``); ``None`` for another pattern."""
        match = _LITERAL_PREFIX.fullmatch(self.pattern or "")
        return re.sub(r"\\(.)", r"\1", match[1]) if match and match[1] else None

    @property
    def is_url(self) -> bool:
        return self.rules.url

    def limit(self, constraint: Constraint) -> int:
        """The declared ``minLength`` or ``maxLength``; :class:`SpecError` when the spec declares none."""
        value = {Constraint.MIN_LENGTH: self.min_length, Constraint.MAX_LENGTH: self.max_length}.get(constraint)
        if value is None:
            raise SpecError(f"the spec declares no {constraint} for {self.name!r}")
        return value

    def rule_id(self, constraint: Constraint) -> str:
        """The contract's rule for a value that breaks ``constraint``."""
        return self.rules.broken.get(constraint, FIELD_FAILURE_RULE)

    def failure(self, value: JSON) -> Constraint | None:
        """The first constraint ``value`` breaks, in :class:`Constraint` order; ``None`` when none."""
        if value is None:
            return None if self.nullable else Constraint.NULL
        if not isinstance(value, str):
            return Constraint.TYPE
        if self.min_length is not None and len(value) < self.min_length:
            return Constraint.MIN_LENGTH
        if self.max_length is not None and len(value) > self.max_length:
            return Constraint.MAX_LENGTH
        if self.pattern is not None and re.search(self.pattern, value) is None:
            return Constraint.PATTERN
        return None

    def error(self, value: JSON) -> FieldError | None:
        """Why ``value`` is not acceptable for this field, with its rule, or ``None`` when it is."""
        constraint = self.failure(value)
        return None if constraint is None else self.error_of(constraint)

    def error_of(self, constraint: Constraint) -> FieldError:
        """The error a value breaking ``constraint`` gets (the reference stub's wording)."""
        messages = {
            Constraint.NULL: f"{self.name} must not be null",
            Constraint.TYPE: f"{self.name} must be a string{' or null' if self.nullable else ''}",
            Constraint.MIN_LENGTH: self._length_message(),
            Constraint.MAX_LENGTH: self._length_message(),
            Constraint.PATTERN: f"{self.name} must be an id starting with {self.prefix!r}"
            if self.prefix
            else f"{self.name} must match {self.pattern!r}",
        }
        return FieldError(self.name, messages[constraint], self.rule_id(constraint), constraint)

    def _length_message(self) -> str:
        if self.min_length is not None and self.max_length is not None:
            return f"{self.name} must be between {self.min_length} and {self.max_length} characters"
        if self.max_length is not None:
            return f"{self.name} must be at most {self.max_length} characters"
        return f"{self.name} must be at least {self.min_length} characters"

    def json_schema(self) -> dict[str, JSON]:
        """The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of this declaration, documentation aside."""
        schema: dict[str, JSON] = {"type": ["string", "null"] if self.nullable else "string"}
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        return schema


@dataclass(frozen=True)
class Declarations:
    """Everything the suite reads from one OpenAPI document."""

    #: The file read.
    source: Path
    #: The parsed document, ``$ref`` left as written (schemathesis reads it).
    document: Mapping[str, Any]
    #: The path template of the PATCH operation.
    path: str
    body_fields: tuple[FieldSpec, ...]
    #: Fields of the collection marked ``readOnly`` (SEM-5; sent in a body: freedom F3).
    read_only_fields: tuple[str, ...]
    #: The collection object of a 200 response (RESP-1), ``$ref`` resolved.
    response_schema: Mapping[str, JSON]
    #: The error envelope of every 401, 404 and 422 (RESP-2), ``$ref`` resolved.
    error_schema: Mapping[str, JSON]
    #: ``error.code`` and ``error.type`` by status, from the examples of the page.
    errors: Mapping[int, tuple[str, str]]
    #: The prefix the ``collection_id`` path parameter's pattern requires.
    collection_id_prefix: str

    @functools.cached_property
    def fields_by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.body_fields}

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.body_fields)

    @property
    def nullable_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.body_fields if f.nullable)

    @property
    def track_id_prefix(self) -> str:
        """The prefix of a track id: ``cover_track_id``'s (VAL-7)."""
        prefix = self.field("cover_track_id").prefix
        if prefix is None:
            raise SpecError("cover_track_id's pattern is not a literal prefix (^...)")
        return prefix

    def field(self, name: str) -> FieldSpec:
        try:
            return self.fields_by_name[name]
        except KeyError:
            raise SpecError(f"{self.source}: the PATCH body declares no field {name!r}") from None

    def request_schema(self) -> dict[str, JSON]:
        """The request body's JSON Schema as the declarations read it (unknown fields allowed: F2)."""
        return {"type": "object", "properties": {f.name: f.json_schema() for f in self.body_fields}}

    def body_errors(self, body: JSON, specs: Sequence[FieldSpec] | None = None) -> list[FieldError]:
        """Every field error of ``body``, in field order; empty when the body is valid. ``specs``
        replaces the declarations of the fields it names (a stub fault's off-by-one).

        Unknown and read-only fields are not judged here: those are freedoms (F2, F3).
        """
        if not isinstance(body, Mapping):
            return [FieldError(None, "request body must be a JSON object", NOT_AN_OBJECT_RULE)]
        replaced = {s.name: s for s in specs or ()}
        errors = []
        for declared in self.body_fields:
            spec = replaced.get(declared.name, declared)
            if spec.name in body and (error := spec.error(body[spec.name])) is not None:
                errors.append(error)
        return errors


# ---- reading the document -----------------------------------------------------------------------

#: The keywords of a body field's schema the suite understands; any other is a :class:`SpecError`.
_FIELD_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern", "description", "title", "example", "examples"})
_BODY_KEYWORDS = frozenset({"type", "properties", "description", "title"})


def load(path: Path) -> Declarations:
    """The declarations of the OpenAPI document at ``path``; :class:`SpecError` when it holds something
    the suite would read wrong (a keyword its validation does not understand, a body field that is
    not a string, error examples that disagree)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    if not isinstance(document, dict):
        raise SpecError(f"{path}: not an OpenAPI document")
    return _read(path, document)


def _read(source: Path, document: dict[str, Any]) -> Declarations:
    def at(node: Any, *keys: str | int) -> Any:
        for key in keys:
            if not isinstance(node, Mapping) or key not in node:
                raise SpecError(f"{source}: no {'/'.join(map(str, keys))!r} where the suite reads it")
            node = resolve(node[key])
        return node

    def resolve(node: Any) -> Any:
        if isinstance(node, Mapping) and "$ref" in node:
            target: Any = document
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target[part]
            return resolve(target)
        if isinstance(node, Mapping):
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    patched = [p for p, item in at(document, "paths").items() if isinstance(item, Mapping) and "patch" in item]
    if len(patched) != 1:
        raise SpecError(f"{source}: expected one path with a PATCH operation, found {patched}")
    path = patched[0]
    item = at(document, "paths", path)
    patch = at(item, "patch")
    responses = at(patch, "responses")
    parameters = {p["name"]: p for p in [*item.get("parameters", []), *patch.get("parameters", [])]}
    collection_prefix = FieldSpec("collection_id", False, pattern=at(parameters, "collection_id", "schema", "pattern")).prefix
    if collection_prefix is None:
        raise SpecError(f"{source}: the collection_id parameter's pattern is not a literal prefix (^...)")
    response_schema = at(responses, "200", "content", MEDIA_TYPE, "schema")
    error_statuses = sorted(int(s) for s in responses if str(s).startswith("4"))
    error_schemas = [at(responses, str(status), "content", MEDIA_TYPE, "schema") for status in error_statuses]
    if not error_schemas or any(schema != error_schemas[0] for schema in error_schemas):
        raise SpecError(f"{source}: the PATCH's 4xx responses {error_statuses} must share one error envelope")
    return Declarations(
        source=source,
        document=document,
        path=path,
        body_fields=_body_fields(source, at(patch, "requestBody", "content", MEDIA_TYPE, "schema")),
        read_only_fields=tuple(name for name, schema in at(response_schema, "properties").items() if schema.get("readOnly")),
        response_schema=response_schema,
        error_schema=error_schemas[0],
        errors={
            status: _error_code(source, status, at(responses, str(status), "content", MEDIA_TYPE)) for status in error_statuses
        },
        collection_id_prefix=collection_prefix,
    )


def _body_fields(source: Path, schema: Mapping[str, Any]) -> tuple[FieldSpec, ...]:
    unknown = sorted(set(schema) - _BODY_KEYWORDS)
    if unknown or schema.get("type") != "object":
        raise SpecError(f"{source}: the PATCH body must be an object of optional fields; the suite does not read {unknown}")
    specs = []
    for name, declared in schema.get("properties", {}).items():
        where = f"{source}: body field {name!r}"
        unknown = sorted(set(declared) - _FIELD_KEYWORDS)
        if unknown:
            raise SpecError(f"{where}: the suite's validation does not understand {unknown}")
        kind = declared.get("type")
        types = [kind] if isinstance(kind, str) else list(kind or [])
        if not types or set(types) - {"string", "null"} or "string" not in types:
            raise SpecError(f"{where}: type {kind!r}; the suite validates strings, possibly nullable")
        specs.append(
            FieldSpec(
                name,
                nullable="null" in types,
                min_length=declared.get("minLength"),
                max_length=declared.get("maxLength"),
                pattern=declared.get("pattern"),
                doc=declared.get("description", ""),
                rules=RULES_BY_FIELD.get(name, FieldRules()),
            )
        )
    return tuple(specs)


def _error_code(source: Path, status: int, media: Mapping[str, Any]) -> tuple[str, str]:
    """The ``error.code`` and ``error.type`` the page shows for ``status``: every example must agree."""
    examples = [e.get("value") for e in media.get("examples", {}).values()]
    found = {(e["error"].get("code"), e["error"].get("type")) for e in examples if isinstance(e, dict) and "error" in e}
    if len(found) != 1:
        raise SpecError(f"{source}: the {status} examples give {sorted(map(str, found))} as error code and type; want one")
    return found.pop()


# ---- the installed spec's declarations ------------------------------------------------------------

DECLARATIONS = load(spec_path())

PATH = DECLARATIONS.path
BODY_FIELDS: tuple[FieldSpec, ...] = DECLARATIONS.body_fields
FIELDS_BY_NAME: dict[str, FieldSpec] = DECLARATIONS.fields_by_name
FIELD_NAMES: tuple[str, ...] = DECLARATIONS.field_names
NULLABLE_FIELDS: tuple[str, ...] = DECLARATIONS.nullable_fields
NAME = DECLARATIONS.field("name")
DESCRIPTION = DECLARATIONS.field("description")
COVER_TRACK_ID = DECLARATIONS.field("cover_track_id")
COVER_IMAGE_URL = DECLARATIONS.field("cover_image_url")
READ_ONLY_FIELDS: tuple[str, ...] = DECLARATIONS.read_only_fields
COLLECTION_ID_PREFIX = DECLARATIONS.collection_id_prefix
TRACK_ID_PREFIX = DECLARATIONS.track_id_prefix
RESPONSE_SCHEMA: Mapping[str, JSON] = DECLARATIONS.response_schema
ERROR_SCHEMA: Mapping[str, JSON] = DECLARATIONS.error_schema
ERRORS: Mapping[int, tuple[str, str]] = DECLARATIONS.errors


def request_schema() -> dict[str, JSON]:
    """The request body JSON Schema of the installed spec, as the declarations read it."""
    return DECLARATIONS.request_schema()


def body_errors(body: JSON, specs: Sequence[FieldSpec] | None = None) -> list[FieldError]:
    """:meth:`Declarations.body_errors` of the installed spec."""
    return DECLARATIONS.body_errors(body, specs)


# ---- characters and timestamps ------------------------------------------------------------------

#: Characters a server may reject as "control characters" (freedom F10): Unicode category Cc (C0, DEL,
#: C1; NUL among them) and the bidirectional controls (``Bidi_Control``: marks, embeddings,
#: overrides, isolates), which the page does not tell apart. Lone surrogates are F10 too.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}\\ud800-\\udfff]")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character a conformant server may reject under freedom F10."""
    return _CONTROL.search(text) is not None


_RFC3339 = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
)


def is_rfc3339(value: JSON) -> bool:
    """Whether ``value`` is an RFC 3339 date-time (any offset, optional fraction: freedom F8)."""
    return isinstance(value, str) and _RFC3339.fullmatch(value) is not None


def timestamp(value: JSON) -> datetime:
    """An RFC 3339 timestamp as an aware datetime (``Z`` or an offset, any fraction)."""
    assert isinstance(value, str)
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    leap = text[17:19] == "60"  # RFC 3339 allows a leap second; Python's datetime does not
    moment = datetime.fromisoformat(text[:17] + "59" + text[19:] if leap else text)
    return moment + timedelta(seconds=1) if leap else moment
