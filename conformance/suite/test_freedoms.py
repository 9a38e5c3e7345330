"""Where the page is silent a target may take either side (F1–F18 of CONTRACT.md); the suite
passes both, records the side it saw for the report, and still holds the rules that apply on
either side: no 5xx, the envelope on errors, and exact storage when a value is accepted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance import checks
from conformance.batch import LANE, Answer, Probe
from conformance.client import Client
from conformance.config import Settings
from conformance.fields import JSON, TRACK_ID_PREFIX
from conformance.suite.conftest import new_missing_id
from conformance.suite.support import STATE_FIELDS, TIMESTAMPS, fields, latest, probe, state, stored_in_lane, unique

Observe = Callable[..., None]


@pytest.mark.requirement("OWN-1", "RESP-2")
@pytest.mark.parametrize(
    "body", [{"name": ""}, {"description": 5}, ["not", "an", "object"]], ids=["empty-name", "number", "array"]
)
@probe(lambda body: Probe(body=body, collection_id=new_missing_id()))
def test_bad_body_to_missing_collection_gets_404_or_422(answer: Answer, body: JSON, observe_freedom: Observe) -> None:
    exchange = answer.exchange
    # a body that is not an object may get any 4xx (VAL-8; VAL-9 only SHOULD say 422)
    allowed = {404, 422} if isinstance(body, dict) else range(400, 500)
    checks.expect_status("OWN-1", exchange, allowed, "a bad body sent to a missing collection gets 404 or 422 (F1)")
    observe_freedom("F1", "either" if exchange.status == 422 else "or", f"HTTP {exchange.status}")


UNKNOWN_TRACK = TRACK_ID_PREFIX + "c0ffee0c0ffee0c0ffee"


@pytest.mark.requirement("SEM-3", "SEM-6")
@probe(lambda: Probe(body={"cover_track_id": UNKNOWN_TRACK}, lane="cover_track_id"), kind=LANE)
def test_unknown_well_formed_track_is_accepted_exactly_or_rejected(
    answer: Answer, settings: Settings, observe_freedom: Observe
) -> None:
    track = UNKNOWN_TRACK
    exchange = answer.exchange
    checks.expect_status("SEM-3", exchange, {200, 404, 422}, "a well-formed track id of no track is accepted or rejected (F4)")
    observe_freedom("F4", "either" if exchange.status == 200 else "or", f"HTTP {exchange.status}")
    if exchange.status == 200:
        stored_in_lane(answer, {"cover_track_id": track}, "SEM-3", settings.collection_id)


ODD_STRINGS = {
    "NUL": "a\u0000b",
    "control characters": "a\u0001\u001f\u007f\u0085b",
    "tab and newline": "Deep\tWork\n",
    "CR LF": "line one\r\nline two",
    "lone CR": "line one\rline two",
    "right-to-left override": "abc\u202edef",
    "right-to-left mark": "abc\u200fdef",
    "isolates": "a\u2066b\u2069c",
    "lone high surrogate": "a\ud800b",
    "lone low surrogate": "a\udfffb",
}


@pytest.mark.requirement("SEM-3", "SEM-6", "VAL-10")
@pytest.mark.parametrize("field", ["name", "description"])
@pytest.mark.parametrize("value", ODD_STRINGS.values(), ids=ODD_STRINGS.keys())
@probe(lambda field, value: Probe(body={field: value}, lane=field), kind=LANE)
def test_odd_characters_are_stored_exactly_or_rejected_with_422(
    answer: Answer, settings: Settings, field: str, value: str, observe_freedom: Observe
) -> None:
    exchange = answer.exchange
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    allowed = {200, 400, 422} if surrogate else {200, 422}  # a lone surrogate may also be read as malformed JSON (F13)
    checks.expect_status("VAL-10", exchange, allowed, f"a {field} with {value!r} is stored exactly or rejected with 422 (F10)")
    observe_freedom("F10", "either" if exchange.status == 200 else "or", f"{field} {value!r}: HTTP {exchange.status}")
    if exchange.status == 200:
        stored_in_lane(answer, {field: value}, "SEM-3", settings.collection_id)


@pytest.mark.requirement("SEM-3", "SEM-6")
@pytest.mark.parametrize("value", [" ", "   ", "\u00a0\u2003", "\u3000"], ids=["space", "spaces", "nbsp-emspace", "ideographic"])
@probe(lambda value: Probe(body={"name": value}, lane="name"), kind=LANE)
def test_white_space_name_is_stored_exactly_or_rejected(
    answer: Answer, settings: Settings, value: str, observe_freedom: Observe
) -> None:
    exchange = answer.exchange
    checks.expect_status("SEM-3", exchange, {200, 422}, "a name of only white space is accepted or rejected (F11)")
    observe_freedom("F11", "either" if exchange.status == 200 else "or", f"{value!r}: HTTP {exchange.status}")
    if exchange.status == 200:
        stored_in_lane(answer, {"name": value}, "SEM-3", settings.collection_id)


def _f17_body(kind: str, marker: str) -> tuple[bytes, str | None]:
    """The body of an F17 case, and the ``description`` it stores when accepted (``None``: nothing changes)."""
    if kind == "zero-bytes":
        return b"", None
    if kind == "not-utf-8":
        return b'{"description": "' + marker.encode() + b' \xff end"}', f"{marker} \ufffd end"
    return b'{"description": "' + marker.encode() + b' first", "description": "' + marker.encode() + b' last"}', f"{marker} last"


@pytest.mark.requirement("RESP-3", "SEM-3", "SEM-4", "VAL-12")
@pytest.mark.parametrize("kind", ["zero-bytes", "not-utf-8", "duplicate-key"])
def test_f17_body_is_refused_or_accepted_as_described(api: Client, kind: str, observe_freedom: Observe) -> None:
    """F17: a body of zero bytes, bytes that are not UTF-8 and a duplicate key may get any 4xx (and
    change nothing), or be accepted: zero bytes as ``{}`` (SEM-4: nothing changes), a bad byte as
    U+FFFD and the last duplicate winning (SEM-3: stored exactly so). Never a 5xx."""
    content, stored = _f17_body(kind, unique("F17"))
    before = fields(latest(api, "VAL-12"), STATE_FIELDS)  # the last read, when nothing was sent since
    exchange = api.send("PATCH", content=content)
    checks.expect_status("RESP-3", exchange, range(100, 500), f"a body with {kind} gets no 5xx (F17)")
    rule = "SEM-4" if stored is None else "SEM-3"
    checks.expect_status(rule, exchange, {200, *range(400, 500)}, f"a body with {kind} is refused with 4xx or accepted (F17)")
    observe_freedom("F17", "or" if exchange.status == 200 else "either", f"{kind}: HTTP {exchange.status}")
    after = state(api, "VAL-12")
    if exchange.status != 200:
        checks.fields_equal("VAL-12", f"a refused body ({kind}) changes nothing", before, after, exchange)
    elif stored is None:  # taken as {}: nothing changes but updated_at (F6)
        kept = [name for name in STATE_FIELDS if name not in TIMESTAMPS or name == "created_at"]
        checks.fields_equal("SEM-4", "zero bytes taken as {} change nothing", {k: before[k] for k in kept}, after, exchange)
    else:
        checks.fields_equal("SEM-3", f"a body with {kind} is stored as F17 describes", {"description": stored}, after, exchange)
