"""RESP-4: what reaches the HTTP layer first, on the endpoint's path: other methods (F14), ids a router
cannot route (F15), malformed JSON (F13), other media types (F9), a body over 64 KiB (F16) and an
``Accept`` without JSON (F18). Each probe is one request; none can change anything.

A 4xx that is not the error envelope is a warning naming RESP-4 (SHOULD). RESP-2 (MUST) still judges
the 401, 404 and 422 of the endpoint itself, here the answers to PATCH on the collection's own path,
but not the answers to other methods (F14) nor to ids an HTTP layer cannot route (F15). RESP-3 holds
throughout: no 5xx, but 501 for another method (F14).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest

from conformance import checks, malformed
from conformance.batch import ANSWER, Answer, Probe
from conformance.checks import ENVELOPE_STATUSES
from conformance.client import PROBE_METHODS, Client, Exchange
from conformance.config import Settings
from conformance.fields import BODY_SIZE_FLOOR, ERRORS
from conformance.suite.support import fields, probe, read, unique

Observe = Callable[..., None]

#: F16: a body over this many bytes may be refused with 413.
BODY_LIMIT = BODY_SIZE_FLOOR


def _no_5xx(exchange: Exchange, what: str, *, allowed: frozenset[int] = frozenset()) -> None:
    but = f" (but {', '.join(map(str, sorted(allowed)))})" if allowed else ""
    ok = exchange.status < 500 or exchange.status in allowed
    checks.require("RESP-3", ok, f"{what} gets no 5xx{but}", f"a status below 500{but}", exchange.describe(), exchange)


def _envelope(exchange: Exchange, *, endpoint: bool) -> None:
    """A 4xx is the envelope: RESP-2 (MUST) for the endpoint's own 401, 404 and 422 when ``endpoint``,
    RESP-4 (SHOULD) for every other 4xx. A HEAD answer has no body to judge (RFC 9110 §9.3.2)."""
    if 400 <= exchange.status < 500 and exchange.method != "HEAD":
        checks.envelope("RESP-2" if endpoint and exchange.status in ENVELOPE_STATUSES else "RESP-4", exchange)


def _is_endpoint_404(exchange: Exchange) -> bool:
    try:
        return exchange.status == 404 and exchange.json()["error"]["code"] == ERRORS[404][0]
    except (ValueError, KeyError, TypeError):
        return False


# ---- F14: other methods ---------------------------------------------------------------------------


def _method_side(method: str, status: int) -> str | None:
    """F14's side: 405 the first; 404, 501, and HEAD or OPTIONS answered as HTTP defines them, the other."""
    if status == 405:
        return "either"
    if status in (404, 501) or (method in ("HEAD", "OPTIONS") and 200 <= status < 300):
        return "or"
    return None


@pytest.mark.requirement("RESP-3", "RESP-4")
@pytest.mark.parametrize("method", sorted(PROBE_METHODS))
@probe(lambda method: Probe(method=method), kind=ANSWER)
def test_other_method_on_the_path(answer: Answer, method: str, observe_freedom: Observe) -> None:
    """HEAD, OPTIONS, TRACE and an unknown token, with the key and no body (never PUT, POST or DELETE,
    which could replace, create or delete on a broken server)."""
    exchange = answer.exchange
    _no_5xx(exchange, f"{method} on the path", allowed=frozenset({501}))
    side = _method_side(method, exchange.status)
    if side is not None:
        observe_freedom("F14", side, f"{method}: HTTP {exchange.status}")
    _envelope(exchange, endpoint=False)


# ---- F15: ids an HTTP layer cannot route ------------------------------------------------------------


def _odd_ids(collection_id: str) -> dict[str, str]:
    """Collection path segments, sent exactly as written (percent-escapes and dot segments kept).
    The escaped ones hold the configured id, so that a layer that decodes and cuts them short (at
    the NUL, at the slash) would reach the collection and answer 200."""
    return {
        "encoded-slash": f"{collection_id}%2Fx",
        "nul": f"{collection_id}%00",
        "dot": ".",
        "dot-dot": "..",
        "encoded-dot-dot": "%2E%2E",
    }


ODD_IDS = list(_odd_ids(""))


def _odd_id(settings: Settings, kind: str) -> Probe:
    segment = _odd_ids(quote(settings.collection_id, safe=""))[kind]
    path = f"/v1/music/{quote(settings.org_id, safe='')}/collections/{segment}"
    return Probe(body={}, raw_path=path)


@pytest.mark.requirement("RESP-3", "RESP-4", "OWN-1")
@pytest.mark.parametrize("kind", ODD_IDS)
@probe(_odd_id, kind=ANSWER)
def test_id_an_http_layer_cannot_route(answer: Answer, kind: str, observe_freedom: Observe) -> None:
    """PATCH ``{}``: a dot segment may resolve to another resource (``..`` to the organization, ``.``
    to the list of collections) on a layer that normalizes the path, and an empty merge patch asks no
    change of whatever resource it reaches; so the probe cannot change anything, even there. Any
    4xx is allowed (F15) and should be the envelope (RESP-4); a 200 is a violation (OWN-1)."""
    exchange = answer.exchange
    segment = exchange.url.rsplit("/", 1)[-1]
    _no_5xx(exchange, f"an id with {kind}")
    checks.require(
        "OWN-1", not 200 <= exchange.status < 300, f"an id with {kind} ({segment}) reached a resource",
        "HTTP 4xx (F15)", exchange.describe(), exchange,
    )  # fmt: skip
    observe_freedom("F15", "either" if _is_endpoint_404(exchange) else "or", f"{kind}: HTTP {exchange.status}")
    _envelope(exchange, endpoint=False)


# ---- F13, F9, F16, F18: bodies and headers a framework may refuse first ---------------------------

HTTP_LAYER_MALFORMED = ("JSON-text/word-after", "string/single-quoted-value", "object/truncated-after-comma")


@pytest.mark.requirement("RESP-2", "RESP-3", "RESP-4")
@pytest.mark.parametrize("case_id", HTTP_LAYER_MALFORMED)
@probe(lambda case_id: Probe(content=malformed.BY_ID[case_id].body_with(malformed.new_marker())))
def test_malformed_json_refusal_is_the_envelope(answer: Answer, case_id: str) -> None:
    """A few cases of ``conformance.malformed``: content after the value, a wrong quote, a cut (the
    VAL-8 tests send them all and judge the status; here only the envelope of a 4xx)."""
    exchange = answer.exchange
    _no_5xx(exchange, f"malformed JSON ({case_id})")
    _envelope(exchange, endpoint=True)


MEDIA_TYPES = ("text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x")


@pytest.mark.requirement("RESP-2", "RESP-3", "RESP-4")
@pytest.mark.parametrize("media_type", MEDIA_TYPES)
@probe(lambda media_type: Probe(content=b"{}", content_type=media_type), kind=ANSWER)
def test_other_media_type_refusal_is_the_envelope(answer: Answer, media_type: str, observe_freedom: Observe) -> None:
    """``{}`` sent as another media type: taken as JSON (nothing to change) or refused (F9)."""
    exchange = answer.exchange
    _no_5xx(exchange, f"a body sent as {media_type}")
    if exchange.status == 200 or exchange.status in (415, 422):
        observe_freedom("F9", "either" if exchange.status == 200 else "or", f"{media_type}: HTTP {exchange.status}")
    _envelope(exchange, endpoint=True)


@pytest.mark.requirement("RESP-2", "RESP-3", "RESP-4", "SEM-3")
def test_body_over_64_kib_is_accepted_or_refused_with_413(api: Client, observe_freedom: Observe) -> None:
    """A valid body over 64 KiB, white space making up the size (so it takes no freedom but F16):
    stored exactly, or refused with 413 (F16) and the envelope (RESP-4)."""
    description = unique("large body")
    content = b'{"description": "' + description.encode() + b'"' + b" " * (BODY_LIMIT + 1024) + b"}"
    exchange = api.send("PATCH", content=content)
    _no_5xx(exchange, "a body over 64 KiB")
    checks.expect_status("SEM-3", exchange, {200, 413}, "a valid body over 64 KiB is stored, or refused with 413 (F16)")
    observe_freedom("F16", "either" if exchange.status == 200 else "or", f"{len(content)} bytes: HTTP {exchange.status}")
    if exchange.status == 200:
        returned = checks.collection("SEM-3", exchange, api.settings.collection_id)
        checks.applied({"description": description}, {}, fields(returned), fields(read(api, "SEM-3")), exchange)
    _envelope(exchange, endpoint=True)


ACCEPTS_WITHOUT_JSON = ("text/html", "application/xml")


@pytest.mark.requirement("RESP-1", "RESP-2", "RESP-3", "RESP-4", "SEM-4")
@pytest.mark.parametrize("accept", ACCEPTS_WITHOUT_JSON)
@probe(lambda accept: Probe(body={}, headers={"Accept": accept}), kind=ANSWER)
def test_accept_without_json_is_answered_with_json_or_406(
    answer: Answer, settings: Settings, accept: str, observe_freedom: Observe
) -> None:
    """``{}`` with an ``Accept`` that excludes JSON: answered with the collection as JSON, or 406 (F18)."""
    exchange = answer.exchange
    _no_5xx(exchange, f"Accept: {accept}")
    checks.expect_status("SEM-4", exchange, {200, 406}, f"{{}} with Accept: {accept} gets 200, or 406 (F18)")
    observe_freedom("F18", "either" if exchange.status == 200 else "or", f"{accept}: HTTP {exchange.status}")
    if exchange.status == 200:
        checks.collection("RESP-1", exchange, settings.collection_id)
    _envelope(exchange, endpoint=True)
