"""RESP: the shapes of 200 and error responses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance import checks
from conformance.batch import ANSWER, Answer, Probe
from conformance.client import Client
from conformance.config import Settings
from conformance.fields import COLLECTION_ID_PREFIX, RESPONSE_SCHEMA
from conformance.suite.conftest import new_missing_id
from conformance.suite.support import probe


@pytest.mark.requirement("RESP-1")
def test_patch_200_is_the_collection_object(api: Client, settings: Settings, observe_freedom: Callable[..., None]) -> None:
    document = checks.collection("RESP-1", api.patch({}), settings.collection_id)
    extra = sorted(set(document) - set(RESPONSE_SCHEMA["properties"]))
    observe_freedom("F7", "or" if extra else "either", f"extra fields: {extra}" if extra else "only the documented fields")
    whole = all(str(document[k]).endswith("Z") and "." not in str(document[k]) for k in ("created_at", "updated_at"))
    observe_freedom("F8", "either" if whole else "or", f"{document['created_at']}, {document['updated_at']}")


@pytest.mark.requirement("RESP-1")
def test_patch_200_with_changes_is_the_collection_object(api: Client, settings: Settings) -> None:
    before = checks.collection("RESP-1", api.get(), settings.collection_id)
    checks.collection("RESP-1", api.patch({"description": before["description"]}), settings.collection_id)


@pytest.mark.requirement("RESP-2", "AUTH-1")
@probe(lambda: Probe(body={}, key=None))
def test_401_is_the_error_envelope(answer: Answer) -> None:
    exchange = answer.exchange
    checks.expect_status("AUTH-1", exchange, {401}, "a request without a key is rejected", envelope_checked=False)
    checks.envelope("RESP-2", exchange, soft=False)


@pytest.mark.requirement("RESP-2", "OWN-1")
@probe(lambda: Probe(body={}, collection_id=new_missing_id()))
def test_404_is_the_error_envelope(answer: Answer) -> None:
    exchange = answer.exchange
    checks.expect_status("OWN-1", exchange, {404}, "a missing collection is not found", envelope_checked=False)
    checks.envelope("RESP-2", exchange, soft=False)


@pytest.mark.requirement("RESP-2", "VAL-1")
@probe(lambda: Probe(body={"name": ""}))
def test_422_is_the_error_envelope(answer: Answer) -> None:
    exchange = answer.exchange
    checks.expect_status("VAL-1", exchange, {422}, "an empty name is rejected", envelope_checked=False)
    checks.envelope("RESP-2", exchange, soft=False)


ODD_BODIES: dict[str, bytes] = {
    "NUL in name": b'{"name": "a\\u0000b"}',
    "raw control characters": b'{"description": "\\u0001\\u001f\\u007f\\u009f"}',
    "lone high surrogate": b'{"name": "\\ud800"}',
    "lone low surrogate": b'{"description": "x\\udfffy"}',
    "reversed surrogate pair": b'{"name": "\\udc00\\ud800"}',
    "invalid UTF-8": b'{"name": "\xc3\x28 \xff"}',
    "overlong UTF-8": b'{"name": "\xc0\xaf"}',
    "UTF-8 BOM": b'\xef\xbb\xbf{"name": "bom"}',
    "huge number": b'{"name": 1e999999}',
    "long integer": b'{"description": ' + b"9" * 5000 + b"}",
    "deep nesting": b'{"name": ' + b"[" * 20000 + b"]" * 20000 + b"}",
    "deep objects": b'{"x": ' + b'{"x": ' * 5000 + b"1" + b"}" * 5000 + b"}",
    "duplicate keys": b'{"name": "a", "name": ""}',
    "one megabyte name": b'{"name": "' + b"n" * 1_000_000 + b'"}',
    "unknown nested field": b'{"colour": {"deep": [1, {"x": null}]}, "name": "ok"}',
    "read-only of odd types": b'{"id": null, "track_count": "many", "created_at": 5}',
    "empty": b"",
    "whitespace": b"   \n ",
    "null bytes": b"\x00\x00",
}


@pytest.mark.requirement("RESP-3")
@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=ODD_BODIES.keys())
@probe(lambda body: Probe(content=body), kind=ANSWER)
def test_odd_bodies_never_get_5xx(answer: Answer, body: bytes) -> None:
    exchange = answer.exchange
    checks.expect_status("RESP-3", exchange, range(100, 500), "no request, however malformed, gets a 5xx")


CONTENT_TYPES = [
    "application/json;",
    "application/json; charset",
    "application/json; charset=utf-9",
    'application/json; charset="utf-8"',
    "application/json; charset=UTF-8; boundary=x",
    "APPLICATION/JSON",
    "application/vnd.api+json",
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin-1",
    "multipart/form-data; boundary=x",
    None,
]


@pytest.mark.requirement("RESP-3")
@pytest.mark.parametrize("content_type", CONTENT_TYPES, ids=[str(c) for c in CONTENT_TYPES])
@probe(lambda content_type: Probe(content=b'{"description": "content type probe"}', content_type=content_type), kind=ANSWER)
def test_odd_content_types_never_get_5xx(answer: Answer, content_type: str | None, observe_freedom: Callable[..., None]) -> None:
    exchange = answer.exchange
    checks.expect_status(
        "RESP-3", exchange, range(100, 500), "no request, however malformed, gets a 5xx (F9: 415/422 or accepted)"
    )
    if not (content_type or "").startswith("application/json"):
        observe_freedom("F9", "either" if exchange.status == 200 else "or", f"{content_type}: HTTP {exchange.status}")


#: The first five exclude ``application/json`` (F18 lets a server refuse them with 406); the last is not an Accept value.
ACCEPTS = ["application/xml", "text/html", "application/json;q=0", "*/*;q=0", "image/png, text/csv", "garbage;;="]


@pytest.mark.requirement("RESP-3")
@pytest.mark.parametrize("accept", ACCEPTS)
@probe(lambda accept: Probe(body={}, headers={"Accept": accept}), kind=ANSWER)
def test_odd_accept_headers_never_get_5xx(answer: Answer, accept: str, observe_freedom: Callable[..., None]) -> None:
    exchange = answer.exchange
    checks.expect_status("RESP-3", exchange, range(100, 500), "no request, however malformed, gets a 5xx (406 or 200 are fine)")
    if accept != "garbage;;=" and exchange.status in (200, 406):
        observe_freedom("F18", "either" if exchange.status == 200 else "or", f"{accept}: HTTP {exchange.status}")


#: Ids the endpoint itself answers (RESP-2 judges its 404); those an HTTP layer may not route
#: (``%2F``, a dot segment, NUL: F15) are in ``test_http_layer.py``.
ODD_PATHS = {
    "long collection id": ("", COLLECTION_ID_PREFIX + "a" * 4000),
    "non-ASCII collection id": ("", COLLECTION_ID_PREFIX + "\u00e9\U0001f3b5"),
    "no prefix": ("", "12345"),
    "non-ASCII org": ("org_\u00e9", ""),
    "long org": ("org_" + "o" * 4000, ""),
}


@pytest.mark.requirement("RESP-3", "OWN-1", "RESP-2")
@pytest.mark.parametrize(("org_id", "collection_id"), ODD_PATHS.values(), ids=ODD_PATHS.keys())
@probe(lambda org_id, collection_id: Probe(body={}, org_id=org_id or None, collection_id=collection_id or None), kind=ANSWER)
def test_odd_path_ids_never_get_5xx(answer: Answer, org_id: str, collection_id: str) -> None:
    exchange = answer.exchange
    checks.expect_status("RESP-3", exchange, range(100, 500), "no request, however malformed, gets a 5xx")
    if exchange.status < 500:
        checks.require(
            "OWN-1",
            exchange.status != 200,
            "an id that is not the collection's reached it",
            "HTTP 4xx",
            exchange.describe(),
            exchange,
        )
