"""Faults of validation (VAL): limits off by one, lengths in bytes, coercion, partial application."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

from conformance import rules
from conformance.rules import JSON, FieldError
from conformance.stub.app import Collection, Rejected, Reply, Request
from conformance.stub.catalogue import (
    Fault,
    _recode,
    _RuleFault,
    _validate_with,
    fault,
)

# ---- VAL: limits -------------------------------------------------------------------------------


@fault
class NameEmptyAccepted(_RuleFault):
    """VAL-1: the minimum is checked as ``len(name) < 0``: an empty name is stored."""

    name = "name-empty-accepted"
    breaks = ("VAL-1",)
    replaced = (dataclasses.replace(rules.NAME, min_length=0),)


@fault
class Name1Rejected(_RuleFault):
    """VAL-3: the minimum is checked as ``len(name) <= 1``: a one-character name gets 422."""

    name = "name-1-rejected"
    breaks = ("VAL-3",)
    replaced = (dataclasses.replace(rules.NAME, min_length=2),)


@fault
class Name512Rejected(_RuleFault):
    """VAL-3: the maximum is checked as ``len(name) >= 512``: a 512-character name gets 422."""

    name = "name-512-rejected"
    breaks = ("VAL-3",)
    replaced = (dataclasses.replace(rules.NAME, max_length=511),)


@fault
class Name513Accepted(_RuleFault):
    """VAL-2: the maximum is checked as ``len(name) > 513``: a 513-character name is stored."""

    name = "name-513-accepted"
    breaks = ("VAL-2",)
    replaced = (dataclasses.replace(rules.NAME, max_length=513),)


@fault
class Url1024Rejected(_RuleFault):
    """VAL-6: the URL maximum is checked as ``len(url) >= 1024``: a 1024-character URL gets 422."""

    name = "url-1024-rejected"
    breaks = ("VAL-6",)
    replaced = (dataclasses.replace(rules.COVER_IMAGE_URL, max_length=1023),)


@fault
class Url1025Accepted(_RuleFault):
    """VAL-6: the URL maximum is checked as ``len(url) > 1025``: a 1025-character URL is stored."""

    name = "url-1025-accepted"
    breaks = ("VAL-6",)
    replaced = (dataclasses.replace(rules.COVER_IMAGE_URL, max_length=1025),)


@fault
class NameUtf8Bytes(Fault):
    """VAL-3: the name is measured in UTF-8 bytes (``octet_length``): 512 two-byte characters get 422."""

    name = "name-utf8-bytes"
    breaks = ("VAL-3",)

    def validate(self, body: JSON) -> None:
        super().validate(body)
        name = body.get("name")
        if isinstance(name, str) and len(name.encode("utf-8")) > 512:
            raise Rejected(self.validation_error(FieldError("name", "name must be between 1 and 512 characters")))


@fault
class NameUtf16Units(Fault):
    """VAL-3: the name is measured in UTF-16 code units (a JavaScript ``.length``): 512 astral characters get 422."""

    name = "name-utf16-units"
    breaks = ("VAL-3",)

    def validate(self, body: JSON) -> None:
        super().validate(body)
        name = body.get("name")
        if isinstance(name, str) and len(name.encode("utf-16-le")) // 2 > 512:
            raise Rejected(self.validation_error(FieldError("name", "name must be between 1 and 512 characters")))


@fault
class UrlUtf8Bytes(Fault):
    """VAL-6: the URL is measured in UTF-8 bytes: a non-ASCII URL of 1024 code points gets 422."""

    name = "url-utf8-bytes"
    breaks = ("VAL-6",)

    def validate(self, body: JSON) -> None:
        super().validate(body)
        url = body.get("cover_image_url")
        if isinstance(url, str) and len(url.encode("utf-8")) > 1024:
            raise Rejected(self.validation_error(FieldError("cover_image_url", "at most 1024 characters")))


# ---- VAL: types, nulls, ids, bodies ------------------------------------------------------------


@fault
class NameNullIgnored(Fault):
    """VAL-4: ``exclude_none`` drops ``name: null`` before validation: it is taken as omitted, 200."""

    name = "name-null-ignored"
    breaks = ("VAL-4",)

    def parse(self, request: Request) -> JSON:
        body = super().parse(request)
        if isinstance(body, dict) and "name" in body and body["name"] is None:
            del body["name"]
        return body


@fault
class CoerceScalars(Fault):
    """VAL-5: lax parsing coerces numbers and booleans to strings: ``5`` is stored as ``"5"``, ``true`` as ``"true"``."""

    name = "coerce-scalars"
    breaks = ("VAL-5",)

    def parse(self, request: Request) -> JSON:
        body = super().parse(request)
        if isinstance(body, dict):
            for key, value in body.items():
                if isinstance(value, (bool, int, float)):
                    body[key] = json.dumps(value)
        return body


@fault
class NoTypeCheck(Fault):
    """VAL-5: only strings are validated; arrays and objects pass through and are stored as they are."""

    name = "no-type-check"
    breaks = ("VAL-5",)

    def validate(self, body: JSON) -> None:
        if isinstance(body, Mapping):
            body = {key: value for key, value in body.items() if not isinstance(value, (list, dict))}
        super().validate(body)


@fault
class TrackPrefixUnchecked(_RuleFault):
    """VAL-7: ``cover_track_id`` is never checked to be an ``mtrack_`` id: any string is stored."""

    name = "track-prefix-unchecked"
    breaks = ("VAL-7",)
    replaced = (dataclasses.replace(rules.COVER_TRACK_ID, prefix=None),)


@fault
class MalformedJson500(Fault):
    """VAL-8, RESP-3: the JSON decoding error is not caught: malformed JSON gets 500."""

    name = "malformed-json-500"
    breaks = ("VAL-8", "RESP-3")

    def parse(self, request: Request) -> JSON:
        json.loads(request.body)  # the bug: JSONDecodeError escapes
        return super().parse(request)


@fault
class NonObject500(Fault):
    """VAL-8, RESP-3: the handler logs ``body.keys()`` first: an array, string, number or null body gets 500."""

    name = "non-object-500"
    breaks = ("VAL-8", "RESP-3")

    def validate(self, body: JSON) -> None:
        sorted(body.keys())  # the bug: AttributeError for anything but an object
        super().validate(body)


@fault
class Validation400(Fault):
    """VAL-10: field validation failures get 400 ``BAD_REQUEST`` instead of 422 ``VALIDATION_ERROR``."""

    name = "validation-400"
    breaks = ("VAL-10",)

    def validation_error(self, error: FieldError) -> Reply:
        return _recode(super().validation_error(error), "BAD_REQUEST", "client_error", status=400)


@fault
class FastApi422Detail(Fault):
    """VAL-10, RESP-2: the framework's default 422 body ``{"detail": [...]}`` instead of the envelope."""

    name = "fastapi-422-detail"
    breaks = ("VAL-10", "RESP-2")

    def validation_error(self, error: FieldError) -> Reply:
        detail = [{"loc": ["body", error.field or "__root__"], "msg": error.message, "type": "value_error"}]
        return Reply(422, json.dumps({"detail": detail}).encode())


@fault
class PartialApply(Fault):
    """VAL-12: fields are validated and stored one by one, in body order: valid fields sent before an
    invalid one are kept although the request gets 422."""

    name = "partial-apply"
    breaks = ("VAL-12",)

    def validate(self, body: JSON) -> None:
        if not isinstance(body, Mapping):
            super().validate(body)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        for key, value in body.items():
            if key in rules.FIELDS_BY_NAME:
                message = rules.FIELDS_BY_NAME[key].error(value)
                if message is not None:
                    raise Rejected(self.validation_error(FieldError(key, message)))
                setattr(collection, key, value)
        collection.updated_at = max(collection.updated_at, self.now())


@fault
class UrlCheckedAfterSave(Fault):
    """VAL-12: the URL's length is checked by the image service after the row is saved: with a URL over
    1024 characters the request gets 422, but the other fields sent with it are already stored."""

    name = "url-checked-after-save"
    breaks = ("VAL-12",)

    def validate(self, body: JSON) -> None:
        _validate_with(self, body, (dataclasses.replace(rules.COVER_IMAGE_URL, max_length=None),))

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, {key: value for key, value in body.items() if key != "cover_image_url"})
        super().validate(body)  # the image service's check, too late
        super().apply(collection, body)
