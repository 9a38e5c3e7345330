"""AUTH: who may call, and what is decided first."""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.client import Client
from conformance.config import Secret
from conformance.suite.support import state, unique

BAD_KEYS = {
    "unknown": "sk_conformance_unknown_0000000000000000",
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


def _bad_key(api: Client, kind: str) -> Secret | str:
    """A wrong key: a made-up one as it is, or one made from the configured key, which is a secret
    too (masked, should the target echo it) and says how it was made."""
    literal = BAD_KEYS[kind]
    if literal is not None:
        return literal
    real = api.settings.api_key.reveal()
    derived = {
        "truncated": real[:-1],
        "extended": real + "x",
        "bearer": f"Bearer {real}",
        "case-swapped": real.swapcase(),
        "list, real last": f"sk_bogus, {real}",
        "list, real first": f"{real}, sk_bogus",
    }[kind]
    api.redactor.add(derived)
    return Secret(derived, f"the configured key (CONFORMANCE_API_KEY), {DERIVATIONS[kind]}")


@pytest.mark.requirement("AUTH-1")
def test_missing_key_gets_401(api: Client) -> None:
    exchange = api.patch({"description": unique("sent without a key")}, key=None)
    checks.error_code("AUTH-1", exchange, 401, "a request without X-API-Key is rejected")


@pytest.mark.requirement("AUTH-2")
@pytest.mark.parametrize("kind", BAD_KEYS)
def test_unknown_or_malformed_key_gets_401(api: Client, kind: str) -> None:
    key = _bad_key(api, kind)
    if (key.reveal() if isinstance(key, Secret) else key) == api.settings.api_key.reveal():
        pytest.skip(f"the key has no {kind} form")
    exchange = api.patch({"description": unique("bad key")}, key=key)
    checks.error_code("AUTH-2", exchange, 401, f"a request with a {kind} key is rejected like one without a key")


@pytest.mark.requirement("AUTH-3")
@pytest.mark.parametrize("key", ["none", "unknown"])
def test_authentication_is_decided_before_existence(api: Client, missing_id: str, key: str) -> None:
    sent = None if key == "none" else BAD_KEYS["unknown"]
    for org_id in (None, "org_conformance_no_such_org"):
        exchange = api.patch({}, collection_id=missing_id, org_id=org_id, key=sent)
        checks.expect_status("AUTH-3", exchange, {401}, "an unauthenticated request for a missing collection gets 401, never 404")


@pytest.mark.requirement("AUTH-4")
@pytest.mark.parametrize("header", ["x-api-key", "X-API-KEY", "x-Api-kEY"])
def test_header_name_is_case_insensitive(api: Client, header: str) -> None:
    exchange = api.patch({}, key_header=header)
    checks.expect_status("AUTH-4", exchange, {200}, f"the key sent as {header!r} is accepted")


@pytest.mark.requirement("AUTH-5")
@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": None}, {"description": 5}, "malformed"],
    ids=["empty-name", "null-name", "number", "malformed"],
)
def test_unauthenticated_invalid_body_gets_401_not_422(api: Client, body: object) -> None:
    exchange = api.send("PATCH", content=b'{"name": ', key=None) if body == "malformed" else api.patch(body, key=None)
    checks.expect_status("AUTH-5", exchange, {401}, "an unauthenticated request with an invalid body gets 401, not 422")


@pytest.mark.requirement("AUTH-6", "AUTH-1", "AUTH-2")
@pytest.mark.parametrize("key", ["none", "unknown"])
@pytest.mark.parametrize("body", ["changes", "empty"])
def test_rejected_request_changes_nothing(api: Client, key: str, body: str) -> None:
    before = state(api, "AUTH-6")
    sent = {"name": unique("401 name"), "description": unique("401 description"), "cover_track_id": None, "cover_image_url": None}
    exchange = api.patch(sent if body == "changes" else {}, key=None if key == "none" else BAD_KEYS["unknown"])
    # a request the target does not reject breaks the rule of its key (AUTH-1, AUTH-2); AUTH-6 judges rejected ones
    rule = "AUTH-1" if key == "none" else "AUTH-2"
    checks.expect_status(rule, exchange, {401}, "the request is rejected")
    checks.fields_equal(
        "AUTH-6", "a rejected (401) request changes nothing, updated_at included", before, state(api, "AUTH-6"), exchange
    )
