"""AUTH: who may call, and what is decided first.

Every request here is refused (or, for AUTH-4, judged by its answer alone): they are sent together
(``conformance.batch``), each test judging its own answer, and a refused request must change nothing.
"""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.batch import ANSWER, Answer, Probe
from conformance.config import Secret, Settings
from conformance.suite.support import probe, unique

#: Keys made up: no secret, shown as they are in a reproduction.
UNKNOWN_KEY = "sk_conformance_unknown_0000000000000000"
BAD_KEYS = {
    "unknown": UNKNOWN_KEY,
    "empty": "",
    "spaces": "sk conformance key",
    "truncated": None,  # the real key less its last character, filled in by the test
    "extended": None,  # the real key plus a character
    "bearer": None,  # "Bearer <key>": the right key in the wrong form
    "case-swapped": None,  # the real key with upper and lower case swapped
    "list, real last": None,  # "bogus, <key>": a header value split on commas
    "list, real first": None,  # "<key>, bogus"
    "symbols": "!@#$%^&*()[]{}",
}

#: How each key made from the configured one is made, for the reproduction that shows it as ``***``.
DERIVATIONS = {
    "truncated": "less its last character",
    "extended": "plus the character x",
    "bearer": 'as "Bearer <key>"',
    "case-swapped": "case-swapped",
    "list, real last": 'as "sk_bogus, <key>"',
    "list, real first": 'as "<key>, sk_bogus"',
}


def bad_key(settings: Settings, kind: str) -> Secret | str:
    """A wrong key: a made-up one as it is, or one made from the configured key, which is a secret
    too (masked, should the target echo it) and says how it was made."""
    literal = BAD_KEYS[kind]
    if literal is not None:
        return literal
    real = settings.api_key.reveal()
    derived = {
        "truncated": real[:-1],
        "extended": real + "x",
        "bearer": f"Bearer {real}",
        "case-swapped": real.swapcase(),
        "list, real last": f"sk_bogus, {real}",
        "list, real first": f"{real}, sk_bogus",
    }[kind]
    return Secret(derived, f"the configured key (CONFORMANCE_API_KEY), {DERIVATIONS[kind]}")


def _refused_unchanged(answer: Answer, rule_id: str, title: str, exchange_index: int = 0) -> None:
    """The request got the 401 of ``rule_id``; a refused (401) request changes nothing (AUTH-6)."""
    exchange = answer.get(exchange_index)
    checks.error_code(rule_id, exchange, 401, title)
    answer.unchanged("AUTH-6", "a rejected (401) request changes nothing, updated_at included")


def _missing_key(settings: Settings) -> Probe:
    return Probe(body={"description": unique("sent without a key")}, key=None)


@pytest.mark.requirement("AUTH-1", "AUTH-6")
@probe(_missing_key)
def test_missing_key_gets_401(answer: Answer) -> None:
    _refused_unchanged(answer, "AUTH-1", "a request without X-API-Key is rejected")


def _bad_key_probe(settings: Settings, kind: str) -> Probe | str:
    key = bad_key(settings, kind)
    if (key.reveal() if isinstance(key, Secret) else key) == settings.api_key.reveal():
        return f"the key has no {kind} form"
    return Probe(body={"description": unique("bad key")}, key=key)


@pytest.mark.requirement("AUTH-2", "AUTH-6")
@pytest.mark.parametrize("kind", BAD_KEYS)
@probe(_bad_key_probe)
def test_unknown_or_malformed_key_gets_401(answer: Answer, kind: str) -> None:
    _refused_unchanged(answer, "AUTH-2", f"a request with a {kind} key is rejected like one without a key")


def _missing_collection(settings: Settings, key: str) -> list[Probe]:
    from conformance.suite.conftest import new_missing_id

    sent = None if key == "none" else UNKNOWN_KEY
    return [Probe(body={}, collection_id=new_missing_id(), org_id=org, key=sent) for org in (None, "org_conformance_no_such_org")]


@pytest.mark.requirement("AUTH-3")
@pytest.mark.parametrize("key", ["none", "unknown"])
@probe(_missing_collection)
def test_authentication_is_decided_before_existence(answer: Answer, key: str) -> None:
    for index in range(2):
        checks.expect_status(
            "AUTH-3", answer.get(index), {401}, "an unauthenticated request for a missing collection gets 401, never 404"
        )


def _header_case(settings: Settings, header: str) -> Probe:
    return Probe(body={}, key_header=header)


@pytest.mark.requirement("AUTH-4")
@pytest.mark.parametrize("header", ["x-api-key", "X-API-KEY", "x-Api-kEY"])
@probe(_header_case, kind=ANSWER)
def test_header_name_is_case_insensitive(answer: Answer, header: str) -> None:
    checks.expect_status("AUTH-4", answer.exchange, {200}, f"the key sent as {header!r} is accepted")


AUTH5_BODIES = {"empty-name": {"name": ""}, "null-name": {"name": None}, "number": {"description": 5}, "malformed": None}


def _unauthenticated_invalid(settings: Settings, body: str) -> Probe:
    if AUTH5_BODIES[body] is None:
        return Probe(content=b'{"name": ', key=None)
    return Probe(body=AUTH5_BODIES[body], key=None)


@pytest.mark.requirement("AUTH-5", "AUTH-6")
@pytest.mark.parametrize("body", AUTH5_BODIES)
@probe(_unauthenticated_invalid)
def test_unauthenticated_invalid_body_gets_401_not_422(answer: Answer, body: str) -> None:
    exchange = answer.exchange
    checks.expect_status(
        "AUTH-5", exchange, {401}, "an unauthenticated request with an invalid body gets 401, not 422", soft=True
    )
    if 400 <= exchange.status < 500:  # refused either way: it must change nothing
        answer.unchanged("AUTH-6" if exchange.status == 401 else "VAL-12", "a rejected request changes nothing")


def _rejected(settings: Settings, key: str, body: str) -> Probe:
    sent = {"name": unique("401 name"), "description": unique("401 description"), "cover_track_id": None, "cover_image_url": None}
    return Probe(body=sent if body == "changes" else {}, key=None if key == "none" else UNKNOWN_KEY)


@pytest.mark.requirement("AUTH-6", "AUTH-1", "AUTH-2")
@pytest.mark.parametrize("key", ["none", "unknown"])
@pytest.mark.parametrize("body", ["changes", "empty"])
@probe(_rejected)
def test_rejected_request_changes_nothing(answer: Answer, key: str, body: str) -> None:
    # a request the target does not reject breaks the rule of its key (AUTH-1, AUTH-2); AUTH-6 judges rejected ones
    checks.expect_status("AUTH-1" if key == "none" else "AUTH-2", answer.exchange, {401}, "the request is rejected")
    answer.unchanged("AUTH-6", "a rejected (401) request changes nothing, updated_at included")
