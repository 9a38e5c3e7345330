"""Faults written by red-teaming the suite: most are ones it once missed, or blamed on the wrong rule.

They are regression guards: subtler forms of the bugs in the other modules (a lookup that is almost
exact, a limit applied to a rewritten value, a write of ``updated_at`` only) that the suite now
catches, and must keep catching.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar

from conformance import fields
from conformance.fields import JSON, FieldError
from conformance.stub.app import PATH, Collection, Rejected, Reply, Request, StubApp
from conformance.stub.catalogue import Fault, _NotFoundLeaks, fault

# ---- helpers -----------------------------------------------------------------------------------


class _MsClock(Fault):
    """Millisecond timestamps (freedom F8), so that any change of ``updated_at`` is visible."""

    def now(self) -> datetime:
        moment = datetime.now(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def render(self, collection: Collection) -> dict[str, JSON]:
        document = super().render(collection)
        for key in ("created_at", "updated_at"):
            document[key] = getattr(collection, key).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return document

    def touch(self, collection: Collection) -> None:
        """``UPDATE ... SET updated_at = now()``: the bug of the faults that use it."""
        collection.updated_at = max(collection.updated_at, self.now())


class _SeenAs(Fault):
    """Validates ``field`` as :meth:`seen` rewrites it (``None``: not checked); stores the value as sent."""

    field: ClassVar[str] = ""

    def seen(self, value: str) -> str | None:
        raise NotImplementedError

    def validate(self, body: JSON) -> None:
        if isinstance(body, Mapping) and isinstance(body.get(self.field), str):
            seen = self.seen(body[self.field])
            body = {key: value for key, value in body.items() if key != self.field or seen is not None}
            if seen is not None:
                body[self.field] = seen
        super().validate(body)


# ---- OWN: lookups and 404s ---------------------------------------------------------------------


@fault
class RouteConverter404Html(Fault):
    """OWN-1, RESP-2: the route declares the id as ``mcoll_[0-9a-z]+``; any other id never reaches the
    handler and gets the framework's HTML 404 page instead of the ``RESOURCE_NOT_FOUND`` envelope."""

    name = "route-converter-404-html"
    breaks = ("OWN-1", "RESP-2")

    def dispatch(self, request: Request) -> Reply:
        match = PATH.match(request.path.split("?", 1)[0])
        route = re.escape(self.declarations.collection_id_prefix) + "[0-9a-z]+"
        if match is not None and not re.fullmatch(route, match["collection"]):
            page = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
            return Reply(404, page, {"content-type": "text/html; charset=utf-8"})
        return super().dispatch(request)


@fault
class CollectionIdCaseInsensitive(Fault):
    """OWN-1, RESP-1: ids live in a case-insensitive collation (MySQL ``*_ci``): ``MCOLL_4A1F...`` does not
    exist, yet reaches (and changes) ``mcoll_4a1f...``, and the 200's id is not the path's."""

    name = "collection-id-case-insensitive"
    breaks = ("OWN-1", "RESP-1")

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        same = [known for known in self.collections if known.lower() == collection_id.lower()]
        return super().find(caller, org_id, same[0] if same else collection_id)


@fault
class CollectionIdRegexMatch(Fault):
    """OWN-1: the id is extracted with ``re.match``, not ``fullmatch``: ``mcoll_4a1f9c7e2b8d-anything``
    reaches ``mcoll_4a1f9c7e2b8d``."""

    name = "collection-id-regex-match"
    breaks = ("OWN-1",)

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        prefix = re.match(re.escape(self.declarations.collection_id_prefix) + "[0-9a-f]{12}", collection_id)
        return super().find(caller, org_id, prefix[0] if prefix else collection_id)


@fault
class OrgPrefixMatch(Fault):
    """OWN-4: parent organizations may manage child ones, checked as ``caller.startswith(path_org)``: the
    caller's collection is writable under any prefix of its organization id (``org_conf``, ``org_``)."""

    name = "org-prefix-match"
    breaks = ("OWN-4",)

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        collection = self.collections.get(collection_id)
        if collection is not None and org_id and caller.startswith(org_id) and collection.org_id == caller:
            return collection
        return super().find(caller, org_id, collection_id)


@fault
class NotFoundLeaksTimestamps(_NotFoundLeaks):
    """OWN-5: the 404 for a collection that exists but is not the caller's carries its ``created_at`` and
    ``updated_at`` in ``details`` (a "moved or gone" hint): field values of the collection leak."""

    name = "not-found-leaks-timestamps"

    def leaked(self, collection: Collection) -> dict[str, JSON]:
        shown = StubApp.render(self, collection)
        return {"created_at": shown["created_at"], "updated_at": shown["updated_at"]}


@fault
class ForeignTouchedThen404(_MsClock):
    """OWN-2, OWN-3, OWN-4: a "lock" taken with ``UPDATE ... SET updated_at = now() WHERE id`` runs before
    the ownership check: the foreign collection that gets 404 has a new ``updated_at``."""

    name = "foreign-touched-then-404"
    breaks = ("OWN-2", "OWN-3", "OWN-4")

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        collection = self.collections.get(collection_id)
        if collection is not None and not (collection.org_id == org_id == caller):
            self.touch(collection)
        return super().find(caller, org_id, collection_id)


# ---- AUTH --------------------------------------------------------------------------------------


@fault
class UnauthenticatedTouch(_MsClock):
    """AUTH-6: an audit hook re-saves the addressed collection (ORM ``auto_now`` bumps ``updated_at``)
    before the key is checked: a request that gets 401 changes ``updated_at``."""

    name = "unauthenticated-touch"
    breaks = ("AUTH-6",)

    def dispatch(self, request: Request) -> Reply:
        match = PATH.match(request.path.split("?", 1)[0])
        if match is not None and request.method == "PATCH" and match["collection"] in self.collections:
            with self.lock:
                self.touch(self.collections[match["collection"]])
        return super().dispatch(request)


@fault
class KeyListSplit(Fault):
    """AUTH-2: the header is read as a comma-separated list (a proxy merged duplicate headers) and any
    element that is a known key authenticates: ``sk_bogus, <real key>`` gets through."""

    name = "key-list-split"
    breaks = ("AUTH-2",)

    def authenticate(self, request: Request) -> str:
        for part in request.headers.get("x-api-key", "").split(","):
            if part.strip() in self.keys:
                return self.keys[part.strip()]
        return super().authenticate(request)


# ---- VAL: a limit applied to a rewritten value --------------------------------------------------


@fault
class NameLengthStripped(_SeenAs):
    """VAL-2: the length is checked on ``name.strip()`` (to refuse blank names, F11) but the raw value is
    stored: the maximum with white space at the ends (one or more over it) is accepted."""

    name = "name-length-stripped"
    breaks = ("VAL-2",)
    field = "name"

    def seen(self, value: str) -> str:
        return value.strip() or value


@fault
class NameGraphemeCount(_SeenAs):
    """VAL-2, VAL-3: the length is counted in user-perceived characters, combining marks not counted:
    one over the maximum in code points, some of them combining marks, is accepted."""

    name = "name-grapheme-count"
    breaks = ("VAL-2", "VAL-3")
    field = "name"

    def seen(self, value: str) -> str:
        return "".join(char for char in value if not unicodedata.combining(char)) or value[:1]


@fault
class UrlLengthWithoutQuery(_SeenAs):
    """VAL-6: the limit is applied to the URL without its query string (the "canonical" URL): a URL
    over the maximum, made long by its query string, is accepted."""

    name = "url-length-without-query"
    breaks = ("VAL-6",)
    field = "cover_image_url"

    def seen(self, value: str) -> str:
        return value.split("?", 1)[0]


@fault
class UrlLengthAfterUnquote(_SeenAs):
    """VAL-6: the URL is percent-decoded before its length is checked: a ``%20``-heavy URL over the
    maximum is accepted."""

    name = "url-length-after-unquote"
    breaks = ("VAL-6",)
    field = "cover_image_url"

    def seen(self, value: str) -> str:
        return urllib.parse.unquote(value)


@fault
class DataUriUnlimited(_SeenAs):
    """VAL-6: ``data:`` URIs (inline covers) are exempt from the length limit."""

    name = "data-uri-unlimited"
    breaks = ("VAL-6",)
    field = "cover_image_url"

    def seen(self, value: str) -> str | None:
        return None if value.startswith("data:") else value


@fault
class LegacyTrackPrefix(_SeenAs):
    """VAL-7: after a migration, legacy ``trk_`` ids are still accepted as ``cover_track_id``."""

    name = "legacy-track-prefix"
    breaks = ("VAL-7",)
    field = "cover_track_id"

    def seen(self, value: str) -> str:
        return self.declarations.track_id_prefix + value.removeprefix("trk_") if value.startswith("trk_") else value


# ---- VAL: types, nulls, partial application ----------------------------------------------------


@fault
class NullStringClearsTrack(Fault):
    """VAL-7: form-minded code maps the strings ``"null"`` and ``"None"`` to null: ``cover_track_id: "null"``
    clears the cover instead of getting 4xx."""

    name = "null-string-clears-track"
    breaks = ("VAL-7",)

    def parse(self, request: Request) -> JSON:
        body = super().parse(request)
        if isinstance(body, dict) and body.get("cover_track_id") in ("null", "None"):
            body["cover_track_id"] = None
        return body


@fault
class UnknownTrack404AfterSave(Fault):
    """VAL-12: F4 taken as 404, but the track service is asked after the other fields were saved: an
    unknown well-formed ``mtrack_`` id gets 404 while the name or description sent with it is stored."""

    name = "unknown-track-404-after-save"
    breaks = ("VAL-12",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        track = body.get("cover_track_id")
        if isinstance(track, str) and self.tracks.get(track) != collection.org_id:
            super().apply(collection, {key: value for key, value in body.items() if key != "cover_track_id"})
            raise Rejected(self.error(404, "Track not found", {"cover_track_id": track}))
        super().apply(collection, body)


@fault
class DescriptionNull422(Fault):
    """SEM-2: ``description`` is declared ``str``, not ``Optional[str]``: ``null`` gets 422 instead of clearing it."""

    name = "description-null-422"
    breaks = ("SEM-2",)

    def validate(self, body: JSON) -> None:
        if isinstance(body, Mapping) and "description" in body and body["description"] is None:
            raise Rejected(self.validation_error(FieldError("description", "description must be a string")))
        super().validate(body)


# ---- SEM ---------------------------------------------------------------------------------------


@fault
class CrlfNormalized(Fault):
    """SEM-3: line endings of ``name`` and ``description`` are normalized (``\\r\\n`` and ``\\r`` to ``\\n``)
    before they are stored, as a textarea sanitizer does."""

    name = "crlf-normalized"
    breaks = ("SEM-3",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        texts = ("name", "description")
        normalized = {
            k: v.replace("\r\n", "\n").replace("\r", "\n") for k, v in body.items() if k in texts and isinstance(v, str)
        }
        super().apply(collection, {**body, **normalized})


@fault
class DescriptionText64k(Fault):
    """SEM-3: ``description`` is a MySQL ``TEXT`` column in non-strict mode: silently cut at 65535 UTF-8 bytes."""

    name = "description-text-64k"
    breaks = ("SEM-3",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        if isinstance(collection.description, str):
            collection.description = collection.description.encode("utf-8")[:65535].decode("utf-8", "ignore")


@fault
class UrlDefaultPortDropped(Fault):
    """SEM-3: the cover URL is stored as ``str(yarl.URL(url))``: an explicit default port (``:443``, ``:80``) is dropped."""

    name = "url-default-port-dropped"
    breaks = ("SEM-3",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        url = body.get("cover_image_url")
        if isinstance(url, str):
            url = re.sub(r"^(https://[^/:?#]+):443(?=[/?#]|$)", r"\1", url)
            body = {**body, "cover_image_url": re.sub(r"^(http://[^/:?#]+):80(?=[/?#]|$)", r"\1", url)}
        super().apply(collection, body)


@fault
class FutureUpdatedAtAccepted(Fault):
    """SEM-5: offline-sync support: an ``updated_at`` sent in the body that is later than the server's
    clock is kept ("last writer wins"): a read-only field is applied."""

    name = "future-updated-at-accepted"
    breaks = ("SEM-5",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        sent = body.get("updated_at")
        if isinstance(sent, str) and fields.is_rfc3339(sent):
            moment = datetime.fromisoformat(sent.upper().replace("Z", "+00:00"))
            collection.updated_at = max(collection.updated_at, moment)


@fault
class FractionThenRounded(_MsClock):
    """SEM-6, SEM-7: the 200 shows ``updated_at`` with milliseconds from the application's clock, but the
    column is ``DATETIME`` (whole seconds): a later read shows an earlier ``updated_at`` than the PATCH did."""

    name = "fraction-then-rounded"
    breaks = ("SEM-6", "SEM-7")
    fresh: Collection | None = None

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        self.fresh = dataclasses.replace(collection)
        collection.updated_at = collection.updated_at.replace(microsecond=0)

    def render(self, collection: Collection) -> dict[str, JSON]:
        shown, self.fresh = self.fresh or collection, None
        return super().render(shown)


# ---- RESP --------------------------------------------------------------------------------------


@fault
class OffsetWithoutColon(Fault):
    """RESP-1: ``created_at`` is formatted with ``strftime("%Y-%m-%dT%H:%M:%S%z")``: ``+0000`` is not RFC 3339."""

    name = "offset-without-colon"
    breaks = ("RESP-1",)

    def render(self, collection: Collection) -> dict[str, JSON]:
        document = super().render(collection)
        document["created_at"] = collection.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")
        return document


@fault
class ContentTypeParams500(Fault):
    """RESP-3: ``Content-Type`` parameters are split on ``=`` and the charset looked up with ``codecs.lookup``,
    unguarded: a trailing ``;``, a parameter without a value or an unknown charset gets 500."""

    name = "content-type-params-500"
    breaks = ("RESP-3",)

    def parse(self, request: Request) -> JSON:
        for parameter in request.headers.get("content-type", "").split(";")[1:]:
            key, value = parameter.strip().split("=")  # the bug: ValueError escapes
            if key == "charset":
                codecs.lookup(value.strip('"'))  # the bug: LookupError escapes
        return super().parse(request)


@fault
class AcceptXml500(Fault):
    """RESP-3: the renderer is looked up by ``Accept``; with neither JSON nor a wildcard in it the lookup
    raises KeyError: 500 instead of 406 or 200."""

    name = "accept-xml-500"
    breaks = ("RESP-3",)

    def dispatch(self, request: Request) -> Reply:
        accept = request.headers.get("accept")
        if accept is not None and not any(kind in accept for kind in ("json", "*/*", "application/*")):
            raise KeyError(accept)
        return super().dispatch(request)


@fault
class FalsyWrongTypesClear(Fault):
    """VAL-5: the type check runs on truthy values only (``if v and not isinstance(v, str)``), then
    ``v or None`` is stored: ``0``, ``false``, ``[]`` and ``{}`` clear a nullable field instead of 422."""

    name = "falsy-wrong-types-clear"
    breaks = ("VAL-5",)

    def parse(self, request: Request) -> JSON:
        body = super().parse(request)
        if isinstance(body, dict):
            for key in self.declarations.nullable_fields:
                if key in body and not isinstance(body[key], str) and body[key] is not None and not body[key]:
                    body[key] = None
        return body
