"""Faults of update semantics and responses (SEM, RESP): PUT-like PATCH, lost updates, stale bodies."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta

from conformance import fields
from conformance.fields import JSON, Constraint, Declarations, FieldError
from conformance.stub.app import Collection, Rejected, Reply, Request
from conformance.stub.catalogue import (
    Fault,
    _no_constant,
    _strings,
    fault,
)

# ---- SEM ---------------------------------------------------------------------------------------


@fault
class PatchAsPut(Fault):
    """SEM-1: PATCH is implemented as PUT: the nullable fields that were omitted are cleared."""

    name = "patch-as-put"
    breaks = ("SEM-1",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, {**dict.fromkeys(self.declarations.nullable_fields), **body})


@fault
class NullIgnored(Fault):
    """SEM-2: explicit nulls are dropped (``exclude_none``): a field cannot be cleared, and 200 is answered."""

    name = "null-ignored"
    breaks = ("SEM-2",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, {key: value for key, value in body.items() if value is not None})


@fault
class NameTruncated255(Fault):
    """SEM-3: the column is ``VARCHAR(255)`` in a non-strict database: longer names are silently cut
    (or, should the spec's maximum be 255 or less, one character under the maximum)."""

    name = "name-truncated-255"
    breaks = ("SEM-3",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        collection.name = collection.name[: min(255, self.spec("name").limit(Constraint.MAX_LENGTH) - 1)]


@fault
class StripWhitespace(Fault):
    """SEM-3: every string is ``strip()``-ed before it is stored."""

    name = "strip-whitespace"
    breaks = ("SEM-3",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, {k: v.strip() if isinstance(v, str) else v for k, v in body.items()})


@fault
class NfcNormalize(Fault):
    """SEM-3: every string is NFC-normalized before it is stored: ``e\\u0301`` comes back as ``\\u00e9``."""

    name = "nfc-normalize"
    breaks = ("SEM-3",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        normalized = {k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in body.items()}
        super().apply(collection, normalized)


@fault
class EmptyBody422(Fault):
    """SEM-4: "at least one field must be provided": an empty body ``{}`` gets 422."""

    name = "empty-body-422"
    breaks = ("SEM-4",)

    def validate(self, body: JSON) -> None:
        super().validate(body)
        if not any(key in body for key in self.declarations.field_names):
            raise Rejected(self.validation_error(FieldError(None, "at least one field must be provided")))


@fault
class ReadOnlyApplied(Fault):
    """SEM-5: mass assignment: ``track_count`` and ``created_at`` sent in the body are stored."""

    name = "read-only-applied"
    breaks = ("SEM-5",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        count, created = body.get("track_count"), body.get("created_at")
        if isinstance(count, int) and not isinstance(count, bool):
            collection.track_count = count
        if isinstance(created, str) and fields.is_rfc3339(created):
            collection.created_at = datetime.fromisoformat(created.upper().replace("Z", "+00:00"))


@fault
class ResponseNotStored(Fault):
    """SEM-6: the update is made on a copy that is never written back: the 200 shows it, a read does not."""

    name = "response-not-stored"
    breaks = ("SEM-6",)
    draft: Collection | None = None

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        self.draft = dataclasses.replace(collection)
        super().apply(self.draft, body)

    def render(self, collection: Collection) -> dict[str, JSON]:
        shown, self.draft = self.draft or collection, None
        return super().render(shown)


@fault
class ResponseStale(Fault):
    """SEM-6: the 200 is the row as it was loaded before the UPDATE, not the stored state."""

    name = "response-stale"
    breaks = ("SEM-6",)
    before: Collection | None = None

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        self.before = dataclasses.replace(collection)
        super().apply(collection, body)

    def render(self, collection: Collection) -> dict[str, JSON]:
        shown, self.before = self.before or collection, None
        return super().render(shown)


@fault
class UpdatedAtSkew(Fault):
    """SEM-7: two replicas whose clocks are 5 s apart stamp ``updated_at`` in turn: it moves backwards."""

    name = "updated-at-skew"
    breaks = ("SEM-7",)

    def __init__(self, declarations: Declarations | None = None) -> None:
        super().__init__(declarations)
        self.replicas = itertools.cycle((timedelta(0), timedelta(seconds=-5)))

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        collection.updated_at = self.now() + next(self.replicas)


@fault
class LostUpdate(Fault):
    """SEM-8: read-modify-write without a row lock: the handler reads the row, awaits a slow call
    (the lock is not held), then writes every column back: a concurrent PATCH is lost."""

    name = "lost-update"
    breaks = ("SEM-8",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        row = {name: getattr(collection, name) for name in self.declarations.field_names}  # SELECT
        self.lock.release()
        try:
            time.sleep(0.05)  # e.g. a call to the track service
        finally:
            self.lock.acquire()
        row.update((name, body[name]) for name in self.declarations.field_names if name in body)
        super().apply(collection, row)  # UPDATE ... SET every column


class _PatchResponse(Fault):
    """Changes the 200 of a PATCH (not of a GET) with :meth:`patch_response`."""

    patched: Collection | None = None

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        self.patched = collection

    def render(self, collection: Collection) -> dict[str, JSON]:
        document = super().render(collection)
        if self.patched is not None:
            self.patched = None
            self.patch_response(document)
        return document

    def patch_response(self, document: dict[str, JSON]) -> None:
        raise NotImplementedError


@fault
class TrackCountZeroInPatch(_PatchResponse):
    """SEM-9: ``UPDATE ... RETURNING *`` has no computed count: the PATCH response says ``track_count: 0``."""

    name = "track-count-zero-in-patch"
    breaks = ("SEM-9",)

    def patch_response(self, document: dict[str, JSON]) -> None:
        document["track_count"] = 0


@fault
class TrackCountMissingInPatch(_PatchResponse):
    """SEM-9, RESP-1: the PATCH response leaves ``track_count`` out (only a read computes it)."""

    name = "track-count-missing-in-patch"
    breaks = ("SEM-9", "RESP-1")

    def patch_response(self, document: dict[str, JSON]) -> None:
        del document["track_count"]


# ---- RESP --------------------------------------------------------------------------------------


@fault
class TextPlain200(Fault):
    """RESP-1: the 200 is written with the framework's default ``text/plain`` content type."""

    name = "text-plain-200"
    breaks = ("RESP-1",)

    def ok(self, document: JSON) -> Reply:
        reply = super().ok(document)
        reply.headers["content-type"] = "text/plain; charset=utf-8"
        return reply


@fault
class TimestampSpace(Fault):
    """RESP-1: timestamps are ``str(datetime)`` without zone: ``2026-06-28 10:30:00``, not RFC 3339."""

    name = "timestamp-space"
    breaks = ("RESP-1",)

    def render(self, collection: Collection) -> dict[str, JSON]:
        document = super().render(collection)
        for key in ("created_at", "updated_at"):
            document[key] = getattr(collection, key).strftime("%Y-%m-%d %H:%M:%S")
        return document


@fault
class NullsOmitted(Fault):
    """RESP-1: ``response_model_exclude_none``: cleared fields are left out of the 200 instead of ``null``."""

    name = "nulls-omitted"
    breaks = ("RESP-1",)

    def render(self, collection: Collection) -> dict[str, JSON]:
        return {key: value for key, value in super().render(collection).items() if value is not None}


@fault
class Framework404Detail(Fault):
    """RESP-2, OWN-1: the framework's default 404 body ``{"detail": "Not Found"}`` instead of the envelope."""

    name = "framework-404-detail"
    breaks = ("RESP-2", "OWN-1")

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        if status == 404:
            return Reply(404, b'{"detail": "Not Found"}')
        return super().error(status, system_message, details)


@fault
class ErrorStatusConstant(Fault):
    """RESP-2: ``error.status`` is a constant 400 copied from a template, whatever the HTTP status."""

    name = "error-status-constant"
    breaks = ("RESP-2",)

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        reply = super().error(status, system_message, details)
        document = json.loads(reply.body)
        document["error"]["status"] = 400
        reply.body = json.dumps(document).encode()
        return reply


@fault
class Nul500(Fault):
    """RESP-3: the database refuses NUL ("A string literal cannot contain NUL"): a string with NUL gets 500."""

    name = "nul-500"
    breaks = ("RESP-3",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        if any("\x00" in value for value in _strings(body)):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        super().apply(collection, body)


@fault
class LoneSurrogate500(Fault):
    """RESP-3: lone surrogates are stored, then cannot be encoded as UTF-8: that PATCH and later reads get 500."""

    name = "lone-surrogate-500"
    breaks = ("RESP-3",)

    def parse(self, request: Request) -> JSON:
        try:
            return json.loads(request.body.decode("utf-8"), parse_constant=_no_constant)
        except (ValueError, RecursionError):
            return super().parse(request)


@fault
class WarmUp500(Fault):
    """RESP-3: an intermittent 500: while the connection pool warms up (the first 60 requests), every 4th
    request fails."""

    name = "warm-up-500"
    breaks = ("RESP-3",)

    def __init__(self, declarations: Declarations | None = None) -> None:
        super().__init__(declarations)
        self.counter = itertools.count(1)
        self.counter_lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self.counter_lock:
            number = next(self.counter)
        if number <= 60 and number % 4 == 0:
            raise ConnectionError("connection pool exhausted")
        return super().handle(request)
