"""The one declaration of the request and response fields of the endpoint.

Everything else derives from this module: the stub's validator, the hypothesis strategies, the
response checks, and (in a self-test) the comparison with ``openapi/``. Lengths are Unicode code
points, as JSON Schema counts ``minLength``/``maxLength``; Python's ``len(str)`` counts the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON = Any  # a decoded JSON value


@dataclass(frozen=True)
class FieldRule:
    """One body field of the PATCH request, as the API page documents it."""

    name: str
    nullable: bool
    min_length: int | None = None
    max_length: int | None = None
    prefix: str | None = None
    doc: str = ""

    def error(self, value: JSON) -> str | None:
        """Why ``value`` is not acceptable for this field, or ``None`` when it is."""
        if value is None:
            return None if self.nullable else f"{self.name} must not be null"
        if not isinstance(value, str):
            return f"{self.name} must be a string{' or null' if self.nullable else ''}"
        if self.min_length is not None and len(value) < self.min_length:
            return self._length_message()
        if self.max_length is not None and len(value) > self.max_length:
            return self._length_message()
        if self.prefix is not None and not value.startswith(self.prefix):
            return f"{self.name} must be an id starting with {self.prefix!r}"
        return None

    def _length_message(self) -> str:
        if self.min_length is not None and self.max_length is not None:
            return f"{self.name} must be between {self.min_length} and {self.max_length} characters"
        if self.max_length is not None:
            return f"{self.name} must be at most {self.max_length} characters"
        return f"{self.name} must be at least {self.min_length} characters"

    def json_schema(self) -> dict[str, JSON]:
        """The JSON Schema (2020-12, as OpenAPI 3.1 uses it) this declaration stands for."""
        schema: dict[str, JSON] = {"type": ["string", "null"] if self.nullable else "string"}
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.prefix is not None:
            schema["pattern"] = "^" + re.escape(self.prefix)
        return schema


NAME = FieldRule("name", nullable=False, min_length=1, max_length=512, doc="A new name. Must be 1–512 characters.")
DESCRIPTION = FieldRule("description", nullable=True, doc="A new description. Send `null` to clear it.")
COVER_TRACK_ID = FieldRule(
    "cover_track_id", nullable=True, prefix="mtrack_", doc="A new cover track id (`mtrack_`). Send `null` to clear it."
)
COVER_IMAGE_URL = FieldRule(
    "cover_image_url",
    nullable=True,
    max_length=1024,
    doc="A new cover image URL (max 1024 chars). Send `null` to clear it.",
)

BODY_FIELDS: tuple[FieldRule, ...] = (NAME, DESCRIPTION, COVER_TRACK_ID, COVER_IMAGE_URL)
FIELDS_BY_NAME: dict[str, FieldRule] = {f.name: f for f in BODY_FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS_BY_NAME)
NULLABLE_FIELDS: tuple[str, ...] = tuple(f.name for f in BODY_FIELDS if f.nullable)

#: Fields of the collection the endpoint never changes (SEM-5); sent in a body they are ignored or
#: rejected (freedom F3).
READ_ONLY_FIELDS: tuple[str, ...] = ("id", "track_count", "created_at", "updated_at")

#: Path parameters and the id prefix each documents.
COLLECTION_ID_PREFIX = "mcoll_"
TRACK_ID_PREFIX = "mtrack_"

#: The collection object of a 200 response: every field required (RESP-1).
RESPONSE_SCHEMA: dict[str, JSON] = {
    "type": "object",
    "required": ["id", "name", "description", "cover_track_id", "cover_image_url", "track_count", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "string", "pattern": "^" + COLLECTION_ID_PREFIX},
        "name": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "cover_track_id": {"type": ["string", "null"]},
        "cover_image_url": {"type": ["string", "null"]},
        "track_count": {"type": "integer", "minimum": 0},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

#: The error envelope of every 401, 404 and 422 (RESP-2).
ERROR_SCHEMA: dict[str, JSON] = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"const": False},
        "error": {
            "type": "object",
            "required": ["code", "message", "system_message", "type", "status", "details", "trace_id", "timestamp"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "system_message": {"type": "string"},
                "type": {"type": "string"},
                "status": {"type": "integer"},
                "details": {"type": "object"},
                "trace_id": {"type": "string"},
                "timestamp": {"type": "string", "format": "date-time"},
            },
        },
    },
}

#: The error codes and types the page documents, by status.
ERRORS: dict[int, tuple[str, str]] = {
    401: ("AUTHENTICATION_REQUIRED", "authentication_error"),
    404: ("RESOURCE_NOT_FOUND", "client_error"),
    422: ("VALIDATION_ERROR", "validation_error"),
}


@dataclass(frozen=True)
class FieldError:
    """A validation failure: the offending field (``None`` for the body as a whole) and why."""

    field: str | None
    message: str


def request_schema() -> dict[str, JSON]:
    """The request body JSON Schema derived from :data:`BODY_FIELDS` (unknown fields allowed: F2)."""
    return {"type": "object", "properties": {f.name: f.json_schema() for f in BODY_FIELDS}}


def body_errors(body: JSON) -> list[FieldError]:
    """Every documented rule ``body`` breaks, in field order; empty when the body is valid.

    Unknown and read-only fields are not judged here: those are freedoms (F2, F3).
    """
    if not isinstance(body, Mapping):
        return [FieldError(None, "request body must be a JSON object")]
    errors = []
    for rule in BODY_FIELDS:
        if rule.name in body:
            message = rule.error(body[rule.name])
            if message is not None:
                errors.append(FieldError(rule.name, message))
    return errors


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
