"""Conformant variants: each takes one freedom (F1-F18) the other way, or breaks SHOULD rules only."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlsplit

from conformance.fields import FREE_TEXT_LIMIT, JSON, Constraint, FieldError, has_control
from conformance.stub.app import PATH, Collection, Rejected, Reply, Request
from conformance.stub.catalogue import (
    Changed,
    Variant,
    _no_constant,
    _recode,
    _validate_with,
    variant,
)

# ---- conformant variants -----------------------------------------------------------------------


@variant
class ValidateBeforeFind(Variant):
    """F1: the body is validated before the collection is looked up: a bad body to a missing collection gets 422."""

    name = "validate-before-find"
    freedom = "F1"

    def dispatch(self, request: Request) -> Reply:
        if request.method == "PATCH" and PATH.match(request.path.split("?", 1)[0]) is not None:
            self.authenticate(request)
            self.validate(self.parse(request))
        return super().dispatch(request)


@variant
class RejectUnknownFields(Variant):
    """F2: a body field the page does not document gets 422 (``additionalProperties: false``)."""

    name = "reject-unknown-fields"
    freedom = "F2"

    def validate(self, body: JSON) -> None:
        super().validate(body)
        for key in body:
            if key not in self.declarations.fields_by_name and key not in self.declarations.read_only_fields:
                raise Rejected(self.validation_error(FieldError(key, f"unknown field {key!r}")))


@variant
class RejectReadOnlyFields(Variant):
    """F3: ``id``, ``track_count``, ``created_at`` or ``updated_at`` in the body gets 422."""

    name = "reject-read-only-fields"
    freedom = "F3"

    def validate(self, body: JSON) -> None:
        super().validate(body)
        for key in self.declarations.read_only_fields:
            if key in body:
                raise Rejected(self.validation_error(FieldError(key, f"{key} is read-only")))


@variant
class UnknownTrack422(Variant):
    """F4: a well-formed ``mtrack_`` id that is not a track of the organization gets 422."""

    name = "unknown-track-422"
    freedom = "F4"

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        track = body.get("cover_track_id")
        if track is not None and self.tracks.get(track) != collection.org_id:
            raise Rejected(self.validation_error(FieldError("cover_track_id", "no such track in this organization")))
        super().apply(collection, body)


@variant
class UnknownTrack404(Variant):
    """F4: a well-formed ``mtrack_`` id that is not a track of the organization gets 404 (the track is not found)."""

    name = "unknown-track-404"
    freedom = "F4"

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        track = body.get("cover_track_id")
        if track is not None and self.tracks.get(track) != collection.org_id:
            raise Rejected(self.error(404, "Track not found", {"track_id": track}))
        super().apply(collection, body)


@variant
class RejectNonHttpUrl(Variant):
    """F5: a ``cover_image_url`` that is not an absolute http(s) URL gets 422."""

    name = "reject-non-http-url"
    freedom = "F5"

    def validate(self, body: JSON) -> None:
        super().validate(body)
        url = body.get("cover_image_url")
        if isinstance(url, str):
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
                raise Rejected(self.validation_error(FieldError("cover_image_url", "must be an absolute http(s) URL")))


@variant
class EmptyPatchKeepsUpdatedAt(Variant):
    """F6: a PATCH that sends none of the four fields leaves ``updated_at`` as it was."""

    name = "empty-patch-keeps-updated-at"
    freedom = "F6"

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        if any(key in body for key in self.declarations.field_names):
            super().apply(collection, body)


@variant
class ExtraResponseFields(Variant):
    """F7: responses carry more than the documented fields (forward-compatible additions)."""

    name = "extra-response-fields"
    freedom = "F7"

    def render(self, collection: Collection) -> dict[str, JSON]:
        document = super().render(collection)
        document.update(
            object="music_collection", organization_id=collection.org_id, visibility="private",
            tracks_url=f"/v1/music/{collection.org_id}/collections/{collection.id}/tracks",
        )  # fmt: skip
        return document

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        reply = super().error(status, system_message, details)
        document = json.loads(reply.body)
        document["error"]["documentation_url"] = "https://docs.example.com/errors"
        document["api_version"] = "2026-01-01"
        reply.body = json.dumps(document).encode()
        return reply


@variant
class FractionalOffsetTimestamps(Variant):
    """F8: timestamps with microseconds and a ``+00:00`` offset (``datetime.isoformat()``)."""

    name = "fractional-offset-timestamps"
    freedom = "F8"

    def now(self) -> datetime:
        return datetime.now(UTC)

    def render(self, collection: Collection) -> dict[str, JSON]:
        document = super().render(collection)
        for key in ("created_at", "updated_at"):
            document[key] = getattr(collection, key).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        return document

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        reply = super().error(status, system_message, details)
        document = json.loads(reply.body)
        document["error"]["timestamp"] = self.now().isoformat()
        reply.body = json.dumps(document).encode()
        return reply


class _JsonOnly(Variant):
    status: ClassVar[int] = 415

    def parse(self, request: Request) -> JSON:
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            reply = self.error(self.status, f"unsupported media type {media_type!r}", {"field": "Content-Type"})
            if self.status == 415:
                reply = _recode(reply, "UNSUPPORTED_MEDIA_TYPE", "client_error")
            raise Rejected(reply)
        return super().parse(request)


@variant
class JsonOnly415(_JsonOnly):
    """F9: a body whose ``Content-Type`` is not ``application/json`` gets 415."""

    name = "json-only-415"
    freedom = "F9"


@variant
class JsonOnly422(_JsonOnly):
    """F9: a body whose ``Content-Type`` is not ``application/json`` gets 422."""

    name = "json-only-422"
    freedom = "F9"
    status = 422


@variant
class StoreLoneSurrogates(Variant):
    """F10: lone surrogates are stored exactly and returned as ``\\udXXX`` escapes (``ensure_ascii``)."""

    name = "store-lone-surrogates"
    freedom = "F10"

    def parse(self, request: Request) -> JSON:
        try:
            return json.loads(request.body.decode("utf-8"), parse_constant=_no_constant)
        except (ValueError, RecursionError):
            return super().parse(request)

    def encode(self, document: JSON) -> bytes:
        return json.dumps(document, ensure_ascii=True).encode("ascii")


@variant
class RejectControlCharacters(Variant):
    """F10: strings with control characters (Unicode category Cc: NUL, tab, newline, DEL, C1), or lone
    surrogates, get 422."""

    name = "reject-control-characters"
    freedom = "F10"

    def validate(self, body: JSON) -> None:
        super().validate(body)
        for key, value in body.items():
            controls = isinstance(value, str) and any(unicodedata.category(char) == "Cc" for char in value)
            if key in self.declarations.fields_by_name and controls:
                raise Rejected(self.validation_error(FieldError(key, f"{key} must not contain control characters")))


@variant
class RejectBidiControls(Variant):
    """F10 read widely: besides Cc and lone surrogates, the bidirectional controls (``Bidi_Control``:
    U+202A-U+202E, U+2066-U+2069, marks; the "Trojan Source" set) get 422."""

    name = "reject-bidi-controls"
    freedom = "F10"

    def validate(self, body: JSON) -> None:
        super().validate(body)
        for key, value in body.items():
            if key in self.declarations.fields_by_name and isinstance(value, str) and has_control(value):
                raise Rejected(self.validation_error(FieldError(key, f"{key} must not contain control characters")))


@variant
class MixedTimestampSpellings(Variant):
    """F8 across answers: GET writes whole seconds with ``Z``; the PATCH 200 writes the same instants
    as ``isoformat()`` (``.000000+00:00``), as when two serializers answer the two methods."""

    name = "mixed-timestamp-spellings"
    freedom = "F8"

    def dispatch(self, request: Request) -> Reply:
        reply = super().dispatch(request)
        if request.method == "PATCH" and reply.status == 200:
            document = json.loads(reply.body)
            collection = self.collections[document["id"]]
            for key in ("created_at", "updated_at"):
                document[key] = getattr(collection, key).astimezone(UTC).isoformat(timespec="microseconds")
            reply.body = self.encode(document)
        return reply


@variant
class RejectBlankName(Variant):
    """F11: a ``name`` of only white space (``not name.strip()``) gets 422."""

    name = "reject-blank-name"
    freedom = "F11"

    def validate(self, body: JSON) -> None:
        super().validate(body)
        name = body.get("name")
        if isinstance(name, str) and not name.strip():
            raise Rejected(self.validation_error(FieldError("name", "name must not be blank")))


@variant
class DescriptionMax512(Variant):
    """F12: a ``description`` over the contract's 512 characters (``FREE_TEXT_LIMIT``) gets 422; up to that are accepted."""

    name = "description-max-512"
    freedom = "F12"

    def validate(self, body: JSON) -> None:
        _validate_with(self, body, Changed("description", Constraint.MAX_LENGTH, to=FREE_TEXT_LIMIT))


@variant
class MalformedJson400(Variant):
    """F13: malformed JSON gets 400 ``INVALID_JSON`` (VAL-9 then warns)."""

    name = "malformed-json-400"
    freedom = "F13"
    warns = ("VAL-9",)

    def parse(self, request: Request) -> JSON:
        try:
            json.loads(request.body)
        except (ValueError, RecursionError):
            raise Rejected(_recode(self.error(422, "malformed JSON", {}), "INVALID_JSON", "client_error", status=400)) from None
        return super().parse(request)


class _OtherMethods(Variant):
    status: ClassVar[int] = 404

    def dispatch(self, request: Request) -> Reply:
        if request.method not in ("GET", "PATCH") and PATH.match(request.path.split("?", 1)[0]) is not None:
            reply = self.error(self.status, f"{request.method} is not supported here", {})
            raise Rejected(_recode(reply, "NOT_IMPLEMENTED", "server_error") if self.status == 501 else reply)
        return super().dispatch(request)


@variant
class OtherMethods404(_OtherMethods):
    """F14: methods other than PATCH and GET on the path get 404 (no such route)."""

    name = "other-methods-404"
    freedom = "F14"


@variant
class OtherMethods501(_OtherMethods):
    """F14: methods other than PATCH and GET on the path get 501 Not Implemented."""

    name = "other-methods-501"
    freedom = "F14"
    status = 501


@variant
class ShouldOnly(Variant):
    """Breaks SHOULD rules only: validates before authenticating (AUTH-5), a bare 404 without
    ``details.collection_id`` (OWN-6), 400 for a body that is not a JSON object (VAL-9) and for a
    ``cover_track_id`` that is not an ``mtrack_`` id (VAL-7's SHOULD part), no ``details.field`` (VAL-11)."""

    name = "should-only"
    freedom = "SHOULD"
    warns = ("AUTH-5", "OWN-6", "VAL-7", "VAL-9", "VAL-11")

    def dispatch(self, request: Request) -> Reply:
        if request.method == "PATCH" and PATH.match(request.path.split("?", 1)[0]) is not None:
            self.validate(self.parse(request))
        return super().dispatch(request)

    def validate(self, body: JSON) -> None:
        track = body.get("cover_track_id") if isinstance(body, Mapping) else None
        if isinstance(track, str) and not track.startswith(self.declarations.track_id_prefix):
            raise Rejected(_recode(self.error(400, "not a track id", {}), "BAD_REQUEST", "client_error"))
        super().validate(body)

    def validation_error(self, error: FieldError) -> Reply:
        reply = self.error(422, error.message, {})
        return _recode(reply, "BAD_REQUEST", "client_error", status=400) if error.field is None else reply

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        return super().error(status, system_message, {} if status in (404, 422) else details)
