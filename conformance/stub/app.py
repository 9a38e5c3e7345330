"""The reference stub: an in-memory, thread-safe implementation of every MUST and SHOULD rule.

The request pipeline is a chain of small methods (``authenticate``, ``find``, ``parse``,
``validate``, ``apply``, ``render``) so that a fault or a conformant variant (see
``conformance.stub.faults``) is a subclass that overrides one step in a few lines.
Where the contract leaves a freedom, this stub takes the first side unless noted. It validates
with the field declarations it is given (default: the installed spec's, :mod:`conformance.fields`),
so a stub built from a changed spec follows the change.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from conformance import fields
from conformance.fields import JSON, Declarations, FieldError, FieldSpec

PATH = re.compile(r"^/v1/music/(?P<org>[^/]+)/collections/(?P<collection>[^/]+)/?$")
#: The methods the path answers; any other gets 405 (F14's first side).
ALLOWED_METHODS = ("GET", "HEAD", "PATCH")
_NOT_FOUND_MESSAGE = "Music collection not found or not owned by caller"


@dataclass
class Collection:
    """A stored collection: its organization and the fields a read returns."""

    org_id: str
    id: str
    name: str
    description: str | None
    cover_track_id: str | None
    cover_image_url: str | None
    track_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Seed:
    """What the stub is seeded with: the values a suite run needs to be configured."""

    base_url: str
    api_key: str
    org_id: str
    collection_id: str
    track_ids: tuple[str, ...]
    foreign_org_id: str
    foreign_collection_id: str
    foreign_api_key: str
    #: Every collection of the organization the suite may change (one per pytest-xdist worker).
    collection_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Request:
    """An HTTP request as the stub sees it; header names are lower-cased by the server."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    #: The header names as the client spelled them (for faults that match names case-sensitively).
    raw_header_names: tuple[str, ...] = ()


@dataclass
class Reply:
    """An HTTP response: status, headers and the raw body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})


class Rejected(Exception):
    """Raised inside the pipeline to answer with an error reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class StubApp:
    """The reference implementation. Thread-safe: one lock guards the whole store."""

    #: Name shown by ``conformance stub`` and in reports; faults and variants override it.
    name = "reference"

    def __init__(self, declarations: Declarations | None = None) -> None:
        #: The field declarations this stub validates with and the error codes it answers.
        self.declarations = declarations or fields.DECLARATIONS
        self.lock = threading.RLock()
        created = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
        self.keys: dict[str, str] = {}
        self.tracks: dict[str, str] = {}
        self.collections: dict[str, Collection] = {}
        self.org_id, self.foreign_org_id = "org_conformance", "org_foreign"
        self.api_key = self._add_key(self.org_id)
        self.foreign_api_key = self._add_key(self.foreign_org_id)
        track, collection = self.declarations.track_id_prefix, self.declarations.collection_id_prefix
        self.track_ids = (track + "8d2e1f6a3c9b", track + "1b7c4e9d2a05")
        for track_id in self.track_ids:
            self.tracks[track_id] = self.org_id
        foreign_track = track + "f0f0f0f0f0f0"
        self.tracks[foreign_track] = self.foreign_org_id
        self.collection_id = collection + "4a1f9c7e2b8d"
        self.foreign_collection_id = collection + "99aa00bb11cc"
        self.collections[self.collection_id] = Collection(
            self.org_id, self.collection_id, "Deep Work", "Music to focus by", self.track_ids[0],
            "https://cdn.example.com/covers/deep-work.png", 12, created, created,
        )  # fmt: skip
        self.collections[self.foreign_collection_id] = Collection(
            self.foreign_org_id, self.foreign_collection_id, "Foreign Mix", "Not yours", foreign_track,
            None, 3, created, created,
        )  # fmt: skip
        self.collection_ids: tuple[str, ...] = (self.collection_id,)

    def add_collections(self, count: int) -> tuple[str, ...]:
        """Serve ``count`` collections of the organization in all, the first one's copies: one for each
        pytest-xdist worker (``-n``); returns their ids."""
        with self.lock:
            first = self.collections[self.collection_id]
            while len(self.collection_ids) < count:
                new = self.declarations.collection_id_prefix + secrets.token_hex(6)
                self.collections[new] = dataclasses.replace(first, id=new)
                self.collection_ids = (*self.collection_ids, new)
        return self.collection_ids

    def _add_key(self, org_id: str) -> str:
        key = "sk_stub_" + secrets.token_hex(16)
        self.keys[key] = org_id
        return key

    def seed(self, base_url: str) -> Seed:
        """The values a suite run against this stub, served at ``base_url``, is configured with."""
        return Seed(
            base_url, self.api_key, self.org_id, self.collection_id, self.track_ids,
            self.foreign_org_id, self.foreign_collection_id, self.foreign_api_key, self.collection_ids,
        )  # fmt: skip

    # ---- the pipeline -------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """Answer one request. Never raises: an unexpected error is a 500, as a real server's."""
        try:
            return self.dispatch(request)
        except Rejected as rejected:
            return rejected.reply

    def dispatch(self, request: Request) -> Reply:
        match = PATH.match(request.path.split("?", 1)[0])
        if match is None:
            raise Rejected(self.error(404, "Route not found", {}))
        if request.method not in ALLOWED_METHODS:  # F14: 405 with the envelope (RESP-4) and Allow
            reply = self.error(405, f"{request.method} is not allowed here", {})
            reply.headers["allow"] = ", ".join(ALLOWED_METHODS)
            return reply
        caller = self.authenticate(request)
        org_id, collection_id = match["org"], match["collection"]
        with self.lock:
            if request.method in ("GET", "HEAD"):  # HEAD as GET; the server sends no body (RFC 9110 §9.3.2)
                return self.ok(self.render(self.find(caller, org_id, collection_id)))
            collection = self.find(caller, org_id, collection_id)
            body = self.parse(request)
            self.validate(body)
            self.apply(collection, body)
            return self.ok(self.render(collection))

    def authenticate(self, request: Request) -> str:
        """The caller's organization (AUTH-1, AUTH-2, AUTH-4: header names are case-insensitive)."""
        org = self.keys.get(request.headers.get("x-api-key", ""))
        if org is None:
            raise Rejected(self.error(401, "Missing or invalid authorization header", {}))
        return org

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        """The collection, only when it exists and both the path and the key own it (OWN-1…OWN-4)."""
        collection = self.collections.get(collection_id)
        if collection is None or collection.org_id != org_id or caller != org_id:
            raise Rejected(self.error(404, _NOT_FOUND_MESSAGE, {"collection_id": collection_id}))
        return collection

    def parse(self, request: Request) -> JSON:
        """The decoded body; malformed JSON and lone surrogates are 422 (F13, F10: second side), and so
        are zero bytes, bytes that are not UTF-8 and duplicate keys (F17: first side)."""
        try:
            text = request.body.decode("utf-8")
            body = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_names)
            json.dumps(body, ensure_ascii=False).encode("utf-8")  # lone surrogates fail here
        except (UnicodeError, ValueError, RecursionError):
            raise Rejected(self.validation_error(FieldError(None, "request body must be valid JSON"))) from None
        return body

    def validate(self, body: JSON) -> None:
        """Every constraint of the field declarations (VAL-*); nothing is applied when any fails (VAL-12)."""
        self.validate_with(body)

    def validate_with(self, body: JSON, replaced: tuple[FieldSpec, ...] = ()) -> None:
        """The validation of :meth:`validate`, with the declarations of some fields ``replaced``."""
        errors = self.declarations.body_errors(body, replaced)
        if errors:
            raise Rejected(self.validation_error(errors[0]))

    def spec(self, name: str) -> FieldSpec:
        """The declaration of body field ``name`` this stub validates with."""
        return self.declarations.field(name)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        """Store the sent fields only (SEM-1, SEM-2); unknown and read-only fields are ignored (F2, F3)."""
        for name in self.declarations.field_names:
            if name in body:
                setattr(collection, name, body[name])
        collection.updated_at = max(collection.updated_at, self.now())

    def render(self, collection: Collection) -> dict[str, JSON]:
        """The collection object of a 200 (RESP-1), ``track_count`` populated (SEM-9)."""
        return {
            "id": collection.id,
            "name": collection.name,
            "description": collection.description,
            "cover_track_id": collection.cover_track_id,
            "cover_image_url": collection.cover_image_url,
            "track_count": collection.track_count,
            "created_at": _timestamp(collection.created_at),
            "updated_at": _timestamp(collection.updated_at),
        }

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    # ---- replies -------------------------------------------------------------------------------

    def ok(self, document: JSON) -> Reply:
        return Reply(200, self.encode(document))

    def encode(self, document: JSON) -> bytes:
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    def validation_error(self, error: FieldError) -> Reply:
        details = {"field": error.field} if error.field else {}
        return self.error(422, error.message, details)

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        """The page's error envelope (RESP-2)."""
        code, kind = self.declarations.errors.get(status, ("METHOD_NOT_ALLOWED" if status == 405 else "ERROR", "client_error"))
        messages = {
            401: "Authentication required. Please provide a valid API key.",
            404: "The requested resource was not found.",
            422: "The request payload is invalid.",
        }
        envelope = {
            "success": False,
            "error": {
                "code": code,
                "message": messages.get(status, system_message),
                "system_message": system_message,
                "type": kind,
                "status": status,
                "details": details,
                "trace_id": "req_" + secrets.token_hex(6),
                "timestamp": _timestamp(self.now()),
            },
        }
        return Reply(status, self.encode(envelope))


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _unique_names(pairs: list[tuple[str, JSON]]) -> dict[str, JSON]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate key")
    return dict(pairs)
