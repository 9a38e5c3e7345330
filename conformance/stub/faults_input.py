"""Faults of validation (VAL): limits off by one, lengths in bytes, coercion, partial application."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

from conformance.fields import JSON, Constraint, FieldError
from conformance.stub.app import Collection, Rejected, Reply, Request
from conformance.stub.catalogue import (
    Changed,
    Fault,
    _recode,
    _RuleFault,
    _validate_with,
    fault,
)

MIN, MAX, PATTERN = Constraint.MIN_LENGTH, Constraint.MAX_LENGTH, Constraint.PATTERN

# ---- VAL: limits -------------------------------------------------------------------------------


@fault
class NameUnderMinAccepted(_RuleFault):
    """VAL-1: the minimum is checked one too low (``len(name) < min - 1``): a name one under the minimum (empty) is stored."""

    name = "name-under-min-accepted"
    breaks = ("VAL-1",)
    changes = (Changed("name", MIN, by=-1),)


@fault
class NameMinRejected(_RuleFault):
    """VAL-3: the minimum is checked one too high (``len(name) <= min``): a name of the minimum length gets 422."""

    name = "name-min-rejected"
    breaks = ("VAL-3",)
    changes = (Changed("name", MIN, by=+1),)


@fault
class NameMaxRejected(_RuleFault):
    """VAL-3: the maximum is checked as ``len(name) >= max``: a name of the maximum length gets 422."""

    name = "name-max-rejected"
    breaks = ("VAL-3",)
    changes = (Changed("name", MAX, by=-1),)


@fault
class NameOverMaxAccepted(_RuleFault):
    """VAL-2: the maximum is checked as ``len(name) > max + 1``: a name one over the maximum is stored."""

    name = "name-over-max-accepted"
    breaks = ("VAL-2",)
    changes = (Changed("name", MAX, by=+1),)


@fault
class UrlMaxRejected(_RuleFault):
    """VAL-6: the URL maximum is checked as ``len(url) >= max``: a URL of the maximum length gets 422."""

    name = "url-max-rejected"
    breaks = ("VAL-6",)
    changes = (Changed("cover_image_url", MAX, by=-1),)


@fault
class UrlOverMaxAccepted(_RuleFault):
    """VAL-6: the URL maximum is checked as ``len(url) > max + 1``: a URL one over the maximum is stored."""

    name = "url-over-max-accepted"
    breaks = ("VAL-6",)
    changes = (Changed("cover_image_url", MAX, by=+1),)


class _MeasuredAs(Fault):
    """Also refuses ``field`` when :meth:`measure` of it is over the declared maximum (code points are right)."""

    field: ClassVar[str] = ""

    def measure(self, value: str) -> int:
        raise NotImplementedError

    def validate(self, body: JSON) -> None:
        super().validate(body)
        spec = self.spec(self.field)
        value = body.get(self.field)
        if isinstance(value, str) and self.measure(value) > spec.limit(MAX):
            raise Rejected(self.validation_error(spec.error_of(MAX)))


@fault
class NameUtf8Bytes(_MeasuredAs):
    """VAL-3: the name is measured in UTF-8 bytes (``octet_length``): the maximum in two-byte characters gets 422."""

    name = "name-utf8-bytes"
    breaks = ("VAL-3",)
    field = "name"

    def measure(self, value: str) -> int:
        return len(value.encode("utf-8"))


@fault
class NameUtf16Units(_MeasuredAs):
    """VAL-3: the name is measured in UTF-16 code units (a JavaScript ``.length``): the maximum in astral characters gets 422."""

    name = "name-utf16-units"
    breaks = ("VAL-3",)
    field = "name"

    def measure(self, value: str) -> int:
        return len(value.encode("utf-16-le")) // 2


@fault
class UrlUtf8Bytes(_MeasuredAs):
    """VAL-6: the URL is measured in UTF-8 bytes: a non-ASCII URL of the maximum length in code points gets 422."""

    name = "url-utf8-bytes"
    breaks = ("VAL-6",)
    field = "cover_image_url"

    def measure(self, value: str) -> int:
        return len(value.encode("utf-8"))


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
    changes = (Changed("cover_track_id", PATTERN, dropped=True),)


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
            if key in self.declarations.fields_by_name:
                error = self.spec(key).error(value)
                if error is not None:
                    raise Rejected(self.validation_error(error))
                setattr(collection, key, value)
        collection.updated_at = max(collection.updated_at, self.now())


@fault
class UrlCheckedAfterSave(Fault):
    """VAL-12: the URL's length is checked by the image service after the row is saved: with a URL over
    the maximum the request gets 422, but the other fields sent with it are already stored."""

    name = "url-checked-after-save"
    breaks = ("VAL-12",)

    def validate(self, body: JSON) -> None:
        _validate_with(self, body, Changed("cover_image_url", MAX, dropped=True))

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, {key: value for key, value in body.items() if key != "cover_image_url"})
        super().validate(body)  # the image service's check, too late
        super().apply(collection, body)
