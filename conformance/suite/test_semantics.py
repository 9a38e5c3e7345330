"""SEM: what a PATCH changes, what it leaves alone, what it returns, and that it persists."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given

from conformance import checks, profiles, strategies
from conformance.batch import IGNORED, LANE, Answer, Probe
from conformance.client import Client
from conformance.config import Settings
from conformance.fields import (
    BODY_SIZE_FLOOR,
    COLLECTION_ID_PREFIX,
    FIELD_NAMES,
    FREE_TEXT_LIMIT,
    JSON,
    NAME,
    NULLABLE_FIELDS,
    READ_ONLY_FIELDS,
    Constraint,
    timestamp,
)
from conformance.strategies import URL_PREFIX, Patch
from conformance.suite.support import (
    fields,
    last_known,
    latest,
    patch_applied,
    patch_ok,
    probe,
    raw_read,
    read,
    repair_identity,
    reset,
    stable,
    stored_in_lane,
    unique,
)

Observe = Callable[..., None]

SUBSETS = [subset for size in range(len(FIELD_NAMES) + 1) for subset in itertools.combinations(FIELD_NAMES, size)]


def _new_value(field: str, tracks: tuple[str, ...], current: JSON) -> JSON:
    """A valid value for ``field`` that differs from ``current`` (``None`` when nothing else fits)."""
    if field == "cover_track_id":
        others = [t for t in tracks if t != current]
        return others[0] if others else None
    if field == "cover_image_url":
        return URL_PREFIX + unique("url").replace(" ", "-") + ".png"
    return unique(field)


@pytest.mark.requirement("SEM-1", "SEM-3", "SEM-6")
@pytest.mark.parametrize("subset", SUBSETS, ids=["+".join(s) or "none" for s in SUBSETS])
def test_omitted_fields_are_left_untouched(
    api: Client, settings: Settings, known_state: dict[str, JSON], subset: tuple[str, ...]
) -> None:
    body = {field: _new_value(field, settings.track_ids, known_state[field]) for field in subset}
    patch_applied(api, "SEM-3", body, known_state, f"sending only {list(subset)} is accepted")


@pytest.mark.requirement("SEM-2", "SEM-1", "SEM-6")
@pytest.mark.parametrize("field", NULLABLE_FIELDS)
def test_null_clears_one_field_and_leaves_the_others(
    api: Client, settings: Settings, known_state: dict[str, JSON], field: str
) -> None:
    if known_state[field] is None:
        pytest.skip("needs a track of the organization to set cover_track_id first: set --track-id (CONFORMANCE_TRACK_IDS)")
    patch_applied(api, "SEM-2", {field: None}, known_state, f"{field}: null is accepted")


#: The longest name and description every conformant server takes (the spec's ``maxLength`` of name; F12).
_LONGEST = min(NAME.limit(Constraint.MAX_LENGTH), FREE_TEXT_LIMIT)
_LONG = min(300, _LONGEST)

EXACT_STRINGS = {
    "spaces at the ends": "  Deep Work  ",
    "quotes and backslashes": 'say "hi" \\ back\\slash \\n \\u0041',
    "mixed case": "dEEP wORK ÉTÉ",
    "decomposed é (NFD)": "Cafe\u0301",
    "composed é (NFC)": "Caf\u00e9",
    "compatibility ligature": "\ufb01ne \u2460 \uff21",
    "right-to-left": "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 abc",
    "zero-width joiner emoji": "\U0001f469\u200d\U0001f4bb\u200d",
    "astral": "\U0001f3b5\U0001d11e\U00020000",
    "bom and joiners": "\ufeffa\u200bb\u2060c",
    "html": "<b>&amp;</b>",
    f"{_LONG} characters": "".join(chr(0x41 + i % 26) for i in range(_LONG)),
    f"{_LONGEST} mixed characters": ("Aé€\U0001f3b5" * _LONGEST)[:_LONGEST],
}


def one_field(field: str, value: JSON) -> Probe:
    """A PATCH of one field, sent in that field's lane (``conformance.batch``), read back right after."""
    return Probe(body={field: value}, lane=field)


@pytest.mark.requirement("SEM-3", "SEM-6")
@pytest.mark.parametrize("field", ["name", "description"])
@pytest.mark.parametrize("value", EXACT_STRINGS.values(), ids=EXACT_STRINGS.keys())
@probe(one_field, kind=LANE)
def test_sent_string_is_stored_exactly(answer: Answer, settings: Settings, field: str, value: str) -> None:
    checks.expect_status("SEM-3", answer.exchange, {200}, f"a {field} with unusual characters is accepted")
    stored_in_lane(answer, {field: value}, "SEM-3", settings.collection_id)


EXACT_URLS = {
    "mixed case": "https://CDN.Example.com/Covers/Deep-Work.PNG?Size=LARGE&v=1",
    "encoded": "https://cdn.example.com/a%20b/%E2%82%AC.png?q=%2F#frag",
    "non-ascii path": "https://cdn.example.com/caf\u00e9/\U0001f3b5.png",
    "trailing slash": "https://cdn.example.com/covers/",
    "default https port": "https://cdn.example.com:443/covers/a.png",
    "default http port": "http://cdn.example.com:80/covers/a.png",
    "dot segments": "https://cdn.example.com/a/../b/./c.png",
    "upper-case escapes": "https://cdn.example.com/%7Euser/%2f",
}


@pytest.mark.requirement("SEM-3", "SEM-6")
@pytest.mark.parametrize("value", EXACT_URLS.values(), ids=EXACT_URLS.keys())
@probe(lambda value: one_field("cover_image_url", value), kind=LANE)
def test_sent_url_is_stored_exactly(answer: Answer, settings: Settings, value: str, observe_freedom: Observe) -> None:
    exchange = answer.exchange
    observe_freedom("F5", "either" if exchange.status == 200 else "or", f"{value!r}: HTTP {exchange.status}")
    if exchange.status == 422:
        pytest.skip("the target rejects this URL (freedom F5)")
    checks.expect_status("SEM-3", exchange, {200}, "a URL is accepted")
    stored_in_lane(answer, {"cover_image_url": value}, "SEM-3", settings.collection_id)


def _description(cls: str, length: int) -> str:
    return ("d" if cls == "ascii" else "\U0001f3b5") * length


@pytest.mark.requirement("SEM-3", "SEM-6")
@pytest.mark.parametrize("cls", ["ascii", "astral"])
@pytest.mark.parametrize("length", [0, FREE_TEXT_LIMIT // 2 - 1, FREE_TEXT_LIMIT // 2, FREE_TEXT_LIMIT])
@probe(lambda cls, length: one_field("description", _description(cls, length)), kind=LANE)
def test_description_up_to_the_free_text_limit_is_accepted_whole(
    answer: Answer, settings: Settings, cls: str, length: int
) -> None:
    title = f"a description of {length} {cls} code points is accepted (F12)"
    checks.expect_status("SEM-3", answer.exchange, {200}, title)
    stored_in_lane(answer, {"description": _description(cls, length)}, "SEM-3", settings.collection_id)


@functools.cache  # up to 69 KiB, asked for when the batch is planned and again by the test
def _long(length: int) -> str:
    return "".join(chr(0x61 + i % 26) for i in range(length))


@pytest.mark.requirement("SEM-3", "SEM-6")
@pytest.mark.parametrize(
    "length", [FREE_TEXT_LIMIT + 1, 2 * FREE_TEXT_LIMIT, 2 * FREE_TEXT_LIMIT + 1, 5000, BODY_SIZE_FLOOR + 4096]
)
@probe(lambda length: one_field("description", _long(length)), kind=LANE)
def test_long_description_is_rejected_or_stored_whole(
    answer: Answer, settings: Settings, length: int, observe_freedom: Observe
) -> None:
    value = _long(length)
    exchange = answer.exchange
    # a body over 64 KiB may get 413 (F16): the page is silent on body sizes
    allowed = {200, 413, 422} if len(exchange.request_body or b"") > BODY_SIZE_FLOOR else {200, 422}
    checks.expect_status("SEM-3", exchange, allowed, f"a description of {length} characters is accepted or rejected (F12)")
    observe_freedom("F12", "either" if exchange.status == 200 else "or", f"{length} characters: HTTP {exchange.status}")
    if exchange.status == 200:
        stored_in_lane(answer, {"description": value}, "SEM-3", settings.collection_id)


@pytest.mark.requirement("SEM-3", "SEM-6")
@probe(lambda: one_field("cover_image_url", ""), kind=LANE)
def test_empty_url_is_rejected_or_stored_as_sent(answer: Answer, settings: Settings, observe_freedom: Observe) -> None:
    exchange = answer.exchange
    checks.expect_status("SEM-3", exchange, {200, 422}, "an empty URL is accepted or rejected (F5)")
    observe_freedom("F5", "either" if exchange.status == 200 else "or", f"empty URL: HTTP {exchange.status}")
    if exchange.status == 200:
        stored_in_lane(answer, {"cover_image_url": ""}, "SEM-3", settings.collection_id)


LOOK_ALIKES = [
    "Name",
    "NAME",
    "name ",
    " name",
    "description_",
    "Description",
    "coverImageUrl",
    "cover_image",
    "coverTrackId",
    "cover-track-id",
]


def _look_alike(key: str, settings: Settings) -> Probe:
    """A PATCH of the look-alike ``key`` alone, with a value its field would take (every field holds a
    known value first, so that one applied shows)."""
    value: JSON = settings.track_ids[-1] if "rack" in key and settings.track_ids else unique("look-alike")
    if "rl" in key or "image" in key:
        value = URL_PREFIX + "look-alike.png"
    return Probe(body={key: value})


@pytest.mark.requirement("SEM-1")
@pytest.mark.parametrize("key", LOOK_ALIKES)
@probe(_look_alike, kind=IGNORED)
def test_unknown_look_alike_fields_are_never_applied(answer: Answer, key: str, observe_freedom: Observe) -> None:
    exchange = answer.exchange
    checks.expect_status("SEM-1", exchange, {200, 422}, f"an unknown field {key!r} is ignored or rejected (F2)")
    observe_freedom("F2", "either" if exchange.status == 200 else "or", f"{key!r}: HTTP {exchange.status}")
    answer.unchanged("SEM-1", f"the unknown field {key!r} changes no field")


@pytest.mark.requirement("SEM-4")
def test_empty_body_changes_nothing(
    api: Client, settings: Settings, known_state: dict[str, JSON], observe_freedom: Observe
) -> None:
    before = latest(api, "SEM-4")
    exchange = api.patch({})
    after = checks.collection("SEM-4", exchange, settings.collection_id)
    moved = timestamp(after["updated_at"]) != timestamp(before["updated_at"])
    observe_freedom("F6", "or" if moved else "either", "updated_at moved" if moved else "updated_at unchanged")
    unchanged = {**fields(before), **stable(before)}
    keys = tuple(unchanged)
    checks.fields_equal("SEM-4", "an empty PATCH changes no field", unchanged, fields(after, keys), exchange)
    checks.fields_equal("SEM-4", "an empty PATCH changes no stored field", unchanged, fields(read(api, "SEM-4"), keys), exchange)


READ_ONLY_BODIES: dict[str, dict[str, JSON]] = {
    "id": {"id": COLLECTION_ID_PREFIX + "000000000000"},
    "track_count": {"track_count": 9999},
    "created_at": {"created_at": "2000-01-01T00:00:00Z"},
    "updated_at in the past": {"updated_at": "2000-01-01T00:00:00Z"},
    "updated_at in the future": {"updated_at": "2999-01-01T00:00:00Z"},
    "all": {
        "id": COLLECTION_ID_PREFIX + "000000000000",
        "track_count": 9999,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2999-01-01T00:00:00Z",
    },
}


@pytest.mark.requirement("SEM-5", "SEM-3", "SEM-6", "VAL-12")
@pytest.mark.parametrize("sent", READ_ONLY_BODIES.values(), ids=READ_ONLY_BODIES.keys())
def test_read_only_fields_are_never_applied(api: Client, sent: dict[str, JSON], observe_freedom: Observe) -> None:
    before = latest(api, "SEM-5")  # the last read, when nothing was sent since
    name = unique("read-only probe")
    exchange = api.patch({**sent, "name": name})
    checks.expect_status("SEM-5", exchange, {200, 422}, "read-only fields are ignored (200) or rejected (422) (freedom F3)")
    observe_freedom("F3", "either" if exchange.status == 200 else "or", f"{list(sent)}: HTTP {exchange.status}")
    # an applied id, created_at or track_count is SEM-5's, and is put back before anything else reads it
    after = raw_read(api)
    repair_identity(api, "SEM-5", before, exchange, after=after)
    if exchange.status == 200:
        returned = checks.collection("SEM-5", exchange, api.settings.collection_id)
        checks.fields_equal(
            "SEM-5", "the 200 body shows the read-only fields unchanged", stable(before), stable(returned), exchange
        )
    if after is None or stable(after) != stable(before):
        return  # what follows is about a collection that kept its identity
    sent_at = timestamp(sent["updated_at"]) if "updated_at" in sent else None
    checks.require(
        "SEM-5",
        sent_at is None or not timestamp(after["updated_at"]) == sent_at != timestamp(before["updated_at"]),
        "updated_at was taken from the body", "updated_at set by the server", repr(after["updated_at"]), exchange,
    )  # fmt: skip
    checks.require(
        "SEM-5",
        timestamp(after["updated_at"]) <= datetime.now(UTC) + timedelta(days=1),
        "updated_at is in the future", "updated_at set by the server, now or earlier", repr(after["updated_at"]), exchange,
    )  # fmt: skip
    if exchange.status == 200:
        checks.applied({"name": name}, fields(before), fields(returned), fields(after), exchange)
    else:
        checks.fields_equal("VAL-12", "a rejected body applies nothing", {"name": before["name"]}, after, exchange)


@pytest.mark.long(60)  # requests one after another, default profile
@pytest.mark.requirement("SEM-6", "SEM-1", "SEM-2", "SEM-3")
def test_200_body_is_the_stored_state(api: Client, settings: Settings) -> None:
    @profiles.property_test(settings)
    @given(patch=strategies.patches(tracks=settings.track_ids))
    @profiles.example
    def check(patch: Patch) -> None:
        before = last_known(api) or reset(api, "SEM-6")  # the last read, when nothing was sent since
        exchange, returned = patch_ok(api, "SEM-6", patch.body, f"{patch!r} is accepted")
        stored = read(api, "SEM-6")
        checks.applied(patch.body, before, fields(returned), fields(stored), exchange)
        keys = (*FIELD_NAMES, *READ_ONLY_FIELDS)  # extra fields (F7) may change between answers
        checks.fields_equal("SEM-6", "a later read returns the 200 body", fields(returned, keys), fields(stored, keys), exchange)

    check()


@pytest.mark.requirement("SEM-7", "SEM-6")
def test_updated_at_is_monotonic_and_not_before_created_at(api: Client) -> None:
    """Six PATCHes (every third one empty), each 200 body and the read after it: ``updated_at`` never
    before ``created_at`` and never backwards. A read that disagrees with the 200 before it is SEM-6's
    (the update was not stored as answered), not a clock's."""
    previous = read(api, "SEM-7")
    for step in range(6):
        body: dict[str, JSON] = {} if step % 3 == 2 else {"description": unique(f"step {step}")}
        exchange, returned = patch_ok(api, "SEM-7", body)
        stored = read(api, "SEM-7")
        checks.require(
            "SEM-6", timestamp(stored["updated_at"]) == timestamp(returned["updated_at"]),
            "a later read returns the updated_at of the 200", str(returned["updated_at"]), str(stored["updated_at"]), exchange,
        )  # fmt: skip
        for document, where in ((returned, "the 200 body"), (stored, "a later read")):
            created, updated = timestamp(document["created_at"]), timestamp(document["updated_at"])
            checks.require(
                "SEM-7", updated >= created, f"updated_at is before created_at in {where}",
                f">= {document['created_at']}", str(document["updated_at"]), exchange,
            )  # fmt: skip
            checks.require(
                "SEM-7", updated >= timestamp(previous["updated_at"]), f"updated_at moved backwards in {where}",
                f">= {previous['updated_at']}", str(document["updated_at"]), exchange,
            )  # fmt: skip
            previous = document


@pytest.mark.requirement("SEM-9")
@pytest.mark.parametrize("body", [{}, {"description": "track count probe"}], ids=["empty", "description"])
def test_patch_response_has_track_count_of_a_read(api: Client, body: dict[str, JSON]) -> None:
    exchange, returned = patch_ok(api, "SEM-9", body)
    count = read(api, "SEM-9")["track_count"]
    checks.fields_equal(
        "SEM-9", "the PATCH response carries the collection's track_count", {"track_count": count}, returned, exchange
    )
