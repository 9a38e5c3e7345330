"""OWN: a collection is reached only by its owner, under its owner's organization.

The foreign collection is read with its own key before and after every attempt: it must never change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from conformance import checks
from conformance.client import Client, Exchange
from conformance.config import ForeignTenant, Settings
from conformance.rules import JSON
from conformance.suite.support import TIMESTAMPS, fields, patch_ok, read, state, timestamp, unique

OTHER_ORG = "org_conformance_other_0000"


@pytest.mark.requirement("OWN-1")
@pytest.mark.parametrize("body", [{}, {"description": "conformance probe"}], ids=["empty", "description"])
def test_missing_collection_gets_404(api: Client, missing_id: str, body: JSON) -> None:
    exchange = api.patch(body, collection_id=missing_id)
    checks.error_code("OWN-1", exchange, 404, "a collection id that does not exist is not found")


def _foreign_state(api: Client, foreign: ForeignTenant, rule_id: str) -> dict[str, JSON]:
    return state(api, rule_id, org_id=foreign.org_id, collection_id=foreign.collection_id, key=foreign.api_key)


def _attempt(api: Client, foreign: ForeignTenant, rule_id: str, org_id: str) -> Exchange:
    """PATCH the foreign collection under ``org_id`` with the caller's key; it must stay as it was.

    Should the attempt get through, the foreign collection is put back with its own key at once.
    """
    before = _foreign_state(api, foreign, rule_id)
    exchange = api.patch({"description": unique("intruder")}, org_id=org_id, collection_id=foreign.collection_id)
    after = _foreign_state(api, foreign, rule_id)
    if fields(after) != fields(before):
        api.patch(fields(before), org_id=foreign.org_id, collection_id=foreign.collection_id, key=foreign.api_key)
    checks.fields_equal(rule_id, "another organization's collection is not changed", before, after, exchange)
    checks.error_code(rule_id, exchange, 404, "another organization's collection is not found")
    return exchange


def _attempt_with_foreign_key(api: Client, foreign: ForeignTenant, rule_id: str, org_id: str) -> None:
    """The same from the other side: the foreign key PATCHes the caller's collection under ``org_id``."""
    before = state(api, rule_id)
    exchange = api.patch({"description": unique("intruder")}, org_id=org_id, key=foreign.api_key)
    after = state(api, rule_id)
    checks.fields_equal(rule_id, "the collection is not changed by another organization's key", before, after, exchange)
    checks.error_code(rule_id, exchange, 404, "another organization's collection is not found")


@pytest.mark.requirement("OWN-2")
def test_foreign_collection_under_its_org_gets_404(api: Client, foreign: ForeignTenant) -> None:
    _attempt(api, foreign, "OWN-2", foreign.org_id)


@pytest.mark.requirement("OWN-3")
def test_foreign_collection_under_own_org_gets_404(api: Client, foreign: ForeignTenant) -> None:
    _attempt(api, foreign, "OWN-3", api.settings.org_id)


@pytest.mark.requirement("OWN-2")
def test_foreign_key_on_own_collection_under_its_org_gets_404(api: Client, foreign: ForeignTenant) -> None:
    _attempt_with_foreign_key(api, foreign, "OWN-2", api.settings.org_id)


@pytest.mark.requirement("OWN-3")
def test_foreign_key_on_own_collection_under_foreign_org_gets_404(api: Client, foreign: ForeignTenant) -> None:
    _attempt_with_foreign_key(api, foreign, "OWN-3", foreign.org_id)


@pytest.fixture(params=["unknown-org", "foreign-org", "org-minus-last", "org-plus-one"])
def other_org(request: pytest.FixtureRequest, settings: Settings) -> str:
    """Another organization's id: a made-up one, the foreign tenant's, or one derived from the
    caller's own (a prefix, an extension, another case), which a careless comparison lets through."""
    own = settings.org_id
    if request.param == "foreign-org":
        foreign: ForeignTenant = request.getfixturevalue("foreign")
        return foreign.org_id
    derived = {"unknown-org": OTHER_ORG, "org-minus-last": own[:-1], "org-plus-one": own + "x"}
    other = derived[request.param]
    if not other or other == own:
        pytest.skip(f"the organization id has no {request.param} form")
    return other


def _derived_ids(collection_id: str) -> dict[str, str]:
    return {
        "other-case": collection_id.swapcase(),
        "minus-last": collection_id[:-1],
        "plus-suffix": collection_id + "-zz",
        "plus-digit": collection_id + "0",
        "no-prefix": collection_id.removeprefix("mcoll_") or "12345",
        "digits": "12345",
        "other-prefix-letters": "mcoll_" + "z" * 24,
    }


@pytest.mark.requirement("OWN-1")
@pytest.mark.parametrize("kind", list(_derived_ids("mcoll_x")))
def test_ids_near_the_collections_are_not_found(api: Client, settings: Settings, kind: str) -> None:
    """An id that is not the collection's, however close (another case, a prefix, a suffix), gets the
    404 envelope: a lookup by prefix, regex or case-insensitive match must not reach the collection."""
    collection_id = _derived_ids(settings.collection_id)[kind]
    if collection_id == settings.collection_id:
        pytest.skip(f"the collection id has no {kind} form")
    exchange = api.patch({}, collection_id=collection_id)
    if exchange.status == 200 and kind == "other-case":
        # the page is silent on the case of ids; a server that matches them case-insensitively must
        # still answer for the id in the path (RESP-1)
        checks.collection("RESP-1", exchange, collection_id)
    elif exchange.status == 404:
        checks.error_code("OWN-1", exchange, 404, f"the id {collection_id!r} ({kind}) is not the collection's: not found")
    else:  # a server may reject an id of another shape as malformed (the page is silent on id shapes)
        checks.expect_status(
            "OWN-1", exchange, {400, 422}, f"the id {collection_id!r} ({kind}) is not the collection's: not found"
        )


@pytest.mark.requirement("OWN-4")
def test_own_collection_under_another_org_gets_404(api: Client, other_org: str) -> None:
    before = state(api, "OWN-4")
    # under an org id derived from the caller's (perhaps a real tenant's) only an empty body is sent:
    # a 200 is enough to judge, and a broken server cannot write anything there
    derived = other_org in (api.settings.org_id[:-1], api.settings.org_id + "x")
    exchange = api.patch({} if derived else {"name": unique("wrong org")}, org_id=other_org)
    after = state(api, "OWN-4")
    checks.fields_equal("OWN-4", "the caller's collection is not changed through another organization", before, after, exchange)
    checks.error_code(
        "OWN-4", exchange, 404, "the caller's own collection under another organization's id is not found (not 403)"
    )


def _reveals_nothing(exchange: Exchange, values: dict[str, JSON], what: str, rule_id: str) -> None:
    """A 404 for ``what`` (else a violation of ``rule_id``) whose body holds none of its values (OWN-5)."""
    checks.expect_status(rule_id, exchange, {404}, f"{what} is not found")
    leaked = _revealed(exchange, values)
    checks.require("OWN-5", not leaked, f"a 404 body reveals {what}", "none of its field values", ", ".join(leaked), exchange)


def _revealed(exchange: Exchange, values: dict[str, JSON]) -> list[str]:
    """The collection's values (its four fields and timestamps; not its id, which the path holds)
    that appear in the body, leaving out the envelope's own timestamp and trace id."""
    body = exchange.text
    try:
        document = exchange.json()
        for key in ("timestamp", "trace_id"):
            document["error"].pop(key, None)
        body = json.dumps(document, ensure_ascii=False)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    shown = [(n, v) for n, v in values.items() if n != "id" and isinstance(v, str) and len(v) >= 8 and not _just_now(n, v)]
    return [f"{name}={value!r}" for name, value in shown if value in body]


def _just_now(name: str, value: str) -> bool:
    """A timestamp of the last few seconds, which any other "now" in an error body (F7) may equal by chance."""
    return name in TIMESTAMPS and abs((datetime.now(UTC) - timestamp(value)).total_seconds()) < 5


@pytest.mark.requirement("OWN-5", "OWN-4")
def test_404_reveals_nothing_of_own_collection(api: Client, other_org: str) -> None:
    marked = {"name": unique("secret name"), "description": unique("secret description")}
    patch_ok(api, "OWN-5", marked)
    current = read(api, "OWN-5")  # the values as the target writes them: the search is textual
    exchange = api.patch({}, org_id=other_org)
    _reveals_nothing(exchange, current, "the collection under another organization", "OWN-4")


@pytest.mark.requirement("OWN-5", "OWN-2", "OWN-3")
@pytest.mark.parametrize("under", ["its-org", "own-org"])
def test_404_reveals_nothing_of_foreign_collection(api: Client, foreign: ForeignTenant, under: str) -> None:
    current = read(api, "OWN-5", org_id=foreign.org_id, collection_id=foreign.collection_id, key=foreign.api_key)
    org_id = foreign.org_id if under == "its-org" else api.settings.org_id
    for exchange in (api.patch({}, org_id=org_id, collection_id=foreign.collection_id),):
        _reveals_nothing(exchange, current, "another organization's collection", "OWN-2" if under == "its-org" else "OWN-3")


@pytest.mark.requirement("OWN-6", "OWN-1")
def test_404_names_the_collection_id(api: Client, missing_id: str) -> None:
    exchange = api.patch({}, collection_id=missing_id)
    checks.expect_status("OWN-1", exchange, {404}, "a missing collection is not found")
    try:
        got = exchange.json()["error"]["details"]["collection_id"]
    except (ValueError, KeyError, TypeError):
        got = "<absent>"
    checks.require(
        "OWN-6",
        got == missing_id,
        "a 404 names the collection",
        f"error.details.collection_id = {missing_id!r}",
        f"{got!r}",
        exchange,
    )
