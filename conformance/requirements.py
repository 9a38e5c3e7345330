"""The requirement catalogue: every rule of CONTRACT.md, quoted, with its level.

IDs are stable: never renumber, only add. ``tests/test_catalogue.py`` proves this table and
``../shared/CONTRACT.md`` agree word for word, and that every ID has a conformance test.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(enum.Enum):
    """RFC 2119 level of a rule: MUST fails the gate, SHOULD warns (fails only ``--strict``)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass(frozen=True)
class Requirement:
    """One numbered rule of the contract."""

    id: str
    level: Level
    text: str

    @property
    def section(self) -> str:
        return self.id.split("-", 1)[0]


@dataclass(frozen=True)
class Freedom:
    """A place where the page is silent: a conformant target may take either side."""

    id: str
    either: str
    or_: str


SECTIONS: dict[str, str] = {
    "AUTH": "Authentication",
    "OWN": "Ownership",
    "VAL": "Validation",
    "SEM": "Update semantics",
    "RESP": "Responses",
}

_M, _S = Level.MUST, Level.SHOULD

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "AUTH-1",
        _M,
        "A request without `X-API-Key` gets 401 with error code `AUTHENTICATION_REQUIRED` and type `authentication_error`.",
    ),
    Requirement("AUTH-2", _M, "A request with an unknown or malformed key gets the same 401."),
    Requirement(
        "AUTH-3",
        _M,
        "Authentication is decided before existence: an unauthenticated request for a collection that does not exist gets 401, never 404, so that nobody can probe which ids exist.",
    ),
    Requirement("AUTH-4", _M, "The header name is matched case-insensitively (`x-api-key` works), as HTTP requires."),
    Requirement("AUTH-5", _S, "An unauthenticated request with an invalid body gets 401, not 422."),
    Requirement("AUTH-6", _M, "A rejected (401) request changes nothing."),
    Requirement(
        "OWN-1", _M, "A collection id that does not exist gets 404 with code `RESOURCE_NOT_FOUND` and type `client_error`."
    ),
    Requirement(
        "OWN-2",
        _M,
        "Another organization's collection, addressed under that organization's id with the caller's key, gets 404 and is not changed.",
    ),
    Requirement(
        "OWN-3",
        _M,
        "Another organization's collection, addressed under the caller's own organization id, gets 404 and is not changed.",
    ),
    Requirement(
        "OWN-4",
        _M,
        "The caller's own collection, addressed under another organization's id, gets 404 (not 403) and is not changed.",
    ),
    Requirement("OWN-5", _M, "A 404 body reveals nothing of the collection: none of its field values appear in it."),
    Requirement("OWN-6", _S, "A 404 for a collection carries `details.collection_id` equal to the id in the path."),
    Requirement("VAL-1", _M, "`name` of 0 characters gets 422."),
    Requirement("VAL-2", _M, "`name` of 513 or more characters gets 422."),
    Requirement(
        "VAL-3",
        _M,
        "`name` of 1 and of 512 characters is accepted, counted in code points: 512 two-byte or astral characters are accepted, 513 are rejected.",
    ),
    Requirement("VAL-4", _M, "`name: null` gets 422 (`name` is not nullable)."),
    Requirement(
        "VAL-5",
        _M,
        "A wrong JSON type for any field (number, boolean, array, object where a string or null is expected) gets 422; values are never coerced.",
    ),
    Requirement(
        "VAL-6",
        _M,
        "`cover_image_url` of up to 1024 characters is accepted (when the target accepts the URL at all, see F5); 1025 or more gets 422. The count is in code points, non-ASCII URLs included.",
    ),
    Requirement("VAL-7", _M, "`cover_track_id` that is not an `mtrack_` id gets 4xx; SHOULD be 422."),
    Requirement(
        "VAL-8",
        _M,
        "A body that is not a JSON object (malformed JSON, an array, a string, a number, `null`) gets 4xx, never 5xx.",
    ),
    Requirement("VAL-9", _S, "Such a body gets 422 with code `VALIDATION_ERROR`."),
    Requirement(
        "VAL-10", _M, "Every validation failure of a field gets 422 with code `VALIDATION_ERROR` and type `validation_error`."
    ),
    Requirement("VAL-11", _S, "A 422 carries `details.field` naming the offending field."),
    Requirement(
        "VAL-12", _M, "A rejected request (any 4xx) changes nothing: no field of the request is applied, not even the valid ones."
    ),
    Requirement("SEM-1", _M, "Omitted fields are left untouched, for every subset of the four fields that is sent."),
    Requirement(
        "SEM-2",
        _M,
        "An explicit `null` clears `description`, `cover_track_id` and `cover_image_url`, each on its own, and leaves the other fields as they were.",
    ),
    Requirement(
        "SEM-3",
        _M,
        "A sent value is stored and returned exactly: no trimming, truncation, case change, re-encoding or normalization, non-ASCII included.",
    ),
    Requirement("SEM-4", _M, "An empty body `{}` is accepted (200) and changes no field."),
    Requirement(
        "SEM-5",
        _M,
        "`id`, `created_at` and `track_count` are never changed by the endpoint; read-only fields sent in the body are ignored or rejected (F3), never applied.",
    ),
    Requirement(
        "SEM-6", _M, "The 200 body is the state after the update, and it persists: a later read returns the same values."
    ),
    Requirement("SEM-7", _M, "`updated_at` is never earlier than `created_at` and never moves backwards."),
    Requirement("SEM-8", _M, "Concurrent PATCHes of different fields are all applied: no lost update."),
    Requirement(
        "SEM-9", _M, "A 200 PATCH response has `track_count` populated: the same count a read of the collection returns."
    ),
    Requirement(
        "RESP-1",
        _M,
        "A 200 body is `application/json` and holds `id` (equal to the path id), `name`, `description`, `cover_track_id`, `cover_image_url`, `track_count` (integer >= 0), `created_at`, `updated_at` (RFC 3339 date-times), with the types of the API page.",
    ),
    Requirement(
        "RESP-2",
        _M,
        "Every 401, 404 and 422 body is `application/json` and is the error envelope: `success: false`, and `error` with `code`, `message`, `system_message`, `type` (strings), `status` (integer equal to the HTTP status), `details` (object), `trace_id` (string), `timestamp` (RFC 3339).",
    ),
    Requirement("RESP-3", _M, "No request, however malformed, gets a 5xx (a method other than GET and PATCH may get 501: F14)."),
    Requirement(
        "RESP-4",
        _S,
        "Every 4xx answer on the endpoint's path is the error envelope, also those an HTTP layer gives before the endpoint runs: another method (F14), an id it cannot route (F15), malformed JSON (F13), a media type (F9), a body too large (F16).",
    ),
)

FREEDOMS: tuple[Freedom, ...] = (
    Freedom("F1", "422 before 404, for a bad body sent to a missing collection", "404 before 422"),
    Freedom("F2", "unknown body fields ignored", "rejected with 422"),
    Freedom("F3", "read-only fields (`id`, `track_count`, `created_at`, `updated_at`) in the body ignored", "rejected with 422"),
    Freedom("F4", "a well-formed `mtrack_` id that is not a track of the organization accepted", "rejected with 422 or 404"),
    Freedom("F5", "a `cover_image_url` that is not an absolute http(s) URL accepted", "rejected with 422"),
    Freedom("F6", "`updated_at` unchanged by an empty PATCH", "moved forward by it"),
    Freedom("F7", "responses carry only the documented fields", "they carry more (forward-compatible additions)"),
    Freedom(
        "F8",
        "timestamps in whole seconds with `Z`",
        "any RFC 3339 form (fractions, `+00:00`), and the same instant may be written differently in different answers",
    ),
    Freedom("F9", "any request `Content-Type` taken as JSON", "anything but `application/json` rejected with 415 or 422"),
    Freedom(
        "F10",
        "control characters (Unicode Cc and the bidirectional controls), NUL and lone surrogates in strings stored exactly",
        "rejected with 422 (a lone surrogate escape also with 400, as malformed JSON)",
    ),
    Freedom("F11", "a `name` of only white space accepted", "rejected with 422"),
    Freedom(
        "F12",
        "`description` of any length accepted",
        "a `description` over 512 characters rejected with 422 (up to 512 must be accepted)",
    ),
    Freedom("F13", "malformed JSON gets 422", "it gets 400 (VAL-9 then warns)"),
    Freedom(
        "F14",
        "methods other than PATCH and GET on the path get 405",
        "404 or 501; HEAD and OPTIONS may also be answered as HTTP defines them. Either way, RESP-2 does not judge these answers (RESP-4 does)",
    ),
    Freedom(
        "F15",
        "an id holding an encoded slash (`%2F`), a dot segment or NUL gets the endpoint's own 404",
        "an HTTP layer answers it first with any 4xx. Either way, OWN-1 and RESP-2 do not judge these ids (RESP-4 does); a 200 or a change is still a violation",
    ),
    Freedom("F16", "request bodies of any size accepted", "a body over 64 KiB rejected with 413"),
    Freedom(
        "F17",
        "a body of zero bytes, bytes that are not UTF-8, or an object with a duplicate key rejected with 4xx",
        "accepted: zero bytes as `{}`, bad bytes replaced by U+FFFD, the last duplicate winning",
    ),
    Freedom("F18", "any `Accept` header answered with JSON", "an `Accept` that excludes `application/json` refused with 406"),
)

BY_ID: dict[str, Requirement] = {r.id: r for r in REQUIREMENTS}
FREEDOMS_BY_ID: dict[str, Freedom] = {f.id: f for f in FREEDOMS}


def get(rule_id: str) -> Requirement:
    """The requirement with this ID; ``KeyError`` names the unknown ID and the known ones."""
    try:
        return BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown requirement ID {rule_id!r}; known: {', '.join(BY_ID)}") from None


def check_freedom(freedom_id: str, side: str) -> None:
    """``ValueError`` unless ``freedom_id`` is a freedom of the catalogue and ``side`` one of its columns."""
    if freedom_id not in FREEDOMS_BY_ID:
        raise ValueError(f"unknown freedom {freedom_id!r}; known: {', '.join(FREEDOMS_BY_ID)}")
    if side not in ("either", "or"):
        raise ValueError(f"side must be 'either' or 'or' (the columns of CONTRACT.md), got {side!r}")
