"""OWN: a collection is reached only by its owner, under its owner's organization.

The foreign collection is read with its own key before and after every attempt: it must never change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from conformance import checks
from conformance.batch import ANSWER, Answer, Probe
from conformance.client import Client, Exchange
from conformance.config import ForeignTenant, Settings
from conformance.fields import COLLECTION_ID_PREFIX, JSON, timestamp
from conformance.suite.conftest import new_missing_id
from conformance.suite.support import TIMESTAMPS, fields, patch_ok, probe, read, unique

OTHER_ORG = "org_conformance_other_0000"


MISSING_BODIES = {"empty": {}, "description": {"description": "conformance probe"}}
FOREIGN_NEEDED = (
    "needs a foreign tenant: set --foreign-org-id, --foreign-collection-id and --foreign-api-key "
    "(CONFORMANCE_FOREIGN_ORG_ID, _COLLECTION_ID, _API_KEY)"
)


def _missing(settings: Settings, body: str) -> Probe:
    return Probe(body=MISSING_BODIES[body], collection_id=new_missing_id())


@pytest.mark.requirement("OWN-1", "VAL-12")
@pytest.mark.parametrize("body", MISSING_BODIES)
@probe(_missing)
def test_missing_collection_gets_404(answer: Answer, body: str) -> None:
    checks.error_code("OWN-1", answer.exchange, 404, "a collection id that does not exist is not found")
    answer.unchanged("VAL-12", "a rejected (404) request changes nothing")


def _into_foreign(settings: Settings, under: str) -> Probe | str:
    """The caller's key PATCHes the foreign collection, under its organization or the caller's own."""
    if settings.foreign is None:
        return FOREIGN_NEEDED
    org_id = settings.foreign.org_id if under == "its-org" else settings.org_id
    return Probe(body={"description": unique("intruder")}, org_id=org_id, collection_id=settings.foreign.collection_id)


def _with_foreign_key(settings: Settings, under: str) -> Probe | str:
    """The foreign key PATCHes the caller's collection, under the caller's organization or its own."""
    if settings.foreign is None:
        return FOREIGN_NEEDED
    org_id = settings.org_id if under == "its-org" else settings.foreign.org_id
    return Probe(body={"description": unique("intruder")}, org_id=org_id, key=settings.foreign.api_key)


def _not_reached(answer: Answer, rule_id: str, title: str) -> None:
    """The attempt changed nothing (either collection: the batch reads both, the foreign one with its own
    key, and puts it back with that key should an attempt get through), and got the 404 envelope."""
    answer.unchanged(rule_id, f"{title}: nothing is changed")
    checks.error_code(rule_id, answer.exchange, 404, f"{title}: not found")


@pytest.mark.requirement("OWN-2")
@probe(lambda settings: _into_foreign(settings, "its-org"))
def test_foreign_collection_under_its_org_gets_404(answer: Answer) -> None:
    _not_reached(answer, "OWN-2", "another organization's collection under its own organization")


@pytest.mark.requirement("OWN-3")
@probe(lambda settings: _into_foreign(settings, "own-org"))
def test_foreign_collection_under_own_org_gets_404(answer: Answer) -> None:
    _not_reached(answer, "OWN-3", "another organization's collection under the caller's organization")


@pytest.mark.requirement("OWN-2")
@probe(lambda settings: _with_foreign_key(settings, "its-org"))
def test_foreign_key_on_own_collection_under_its_org_gets_404(answer: Answer) -> None:
    _not_reached(answer, "OWN-2", "the collection under its organization, with another organization's key")


@pytest.mark.requirement("OWN-3")
@probe(lambda settings: _with_foreign_key(settings, "foreign-org"))
def test_foreign_key_on_own_collection_under_foreign_org_gets_404(answer: Answer) -> None:
    _not_reached(answer, "OWN-3", "the collection under another organization, with that organization's key")


OTHER_ORGS = ("unknown-org", "foreign-org", "org-minus-last", "org-plus-one")


def other_org_id(settings: Settings, kind: str) -> str | None:
    """Another organization's id: a made-up one, the foreign tenant's, or one derived from the caller's
    own (a prefix, an extension), which a careless comparison lets through; ``None`` when there is none."""
    own = settings.org_id
    if kind == "foreign-org":
        return settings.foreign.org_id if settings.foreign is not None else None
    other = {"unknown-org": OTHER_ORG, "org-minus-last": own[:-1], "org-plus-one": own + "x"}[kind]
    return other if other and other != own else None


@pytest.fixture(params=OTHER_ORGS)
def other_org(request: pytest.FixtureRequest, settings: Settings) -> str:
    other = other_org_id(settings, request.param)
    if other is None:
        pytest.skip(FOREIGN_NEEDED if request.param == "foreign-org" else f"the organization id has no {request.param} form")
    return other


def _derived_ids(collection_id: str) -> dict[str, str]:
    return {
        "other-case": collection_id.swapcase(),
        "minus-last": collection_id[:-1],
        "plus-suffix": collection_id + "-zz",
        "plus-digit": collection_id + "0",
        "no-prefix": collection_id.removeprefix(COLLECTION_ID_PREFIX) or "12345",
        "digits": "12345",
        "other-prefix-letters": COLLECTION_ID_PREFIX + "z" * 24,
    }


def _near(settings: Settings, kind: str) -> Probe | str:
    collection_id = _derived_ids(settings.collection_id)[kind]
    if collection_id == settings.collection_id:
        return f"the collection id has no {kind} form"
    return Probe(body={}, collection_id=collection_id)


@pytest.mark.requirement("OWN-1")
@pytest.mark.parametrize("kind", list(_derived_ids(COLLECTION_ID_PREFIX + "x")))
@probe(_near, kind=ANSWER)
def test_ids_near_the_collections_are_not_found(answer: Answer, kind: str) -> None:
    """An id that is not the collection's, however close (another case, a prefix, a suffix), gets the
    404 envelope: a lookup by prefix, regex or case-insensitive match must not reach the collection."""
    exchange = answer.exchange
    collection_id = unquote(exchange.url.rsplit("/", 1)[-1])
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


def _under_other_org(settings: Settings, other_org: str) -> Probe | str:
    org_id = other_org_id(settings, other_org)
    if org_id is None:
        return FOREIGN_NEEDED if other_org == "foreign-org" else f"the organization id has no {other_org} form"
    # under an org id derived from the caller's (perhaps a real tenant's) only an empty body is sent:
    # a 200 is enough to judge, and a broken server cannot write anything there
    derived = other_org in ("org-minus-last", "org-plus-one")
    return Probe(body={} if derived else {"name": unique("wrong org")}, org_id=org_id)


@pytest.mark.requirement("OWN-4")
@probe(_under_other_org)
def test_own_collection_under_another_org_gets_404(answer: Answer, other_org: str) -> None:
    answer.unchanged("OWN-4", "the caller's collection is not changed through another organization")
    checks.error_code(
        "OWN-4", answer.exchange, 404, "the caller's own collection under another organization's id is not found (not 403)"
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


#: The collection as last given secret-looking values and read back (see :func:`_marked`).
_MARKED: list[dict[str, JSON]] = []


def _marked(api: Client) -> dict[str, JSON]:
    """The collection holding fresh secret-looking values, as read back (the values as the target
    writes them: the search is textual). The last test's, when the last read still shows them and
    nothing was sent to the collection since (``Client.known``): the tests under each other org share it."""
    if _MARKED and api.known is not None and fields(_MARKED[-1]) == api.known:
        return _MARKED[-1]
    patch_ok(api, "OWN-5", {"name": unique("secret name"), "description": unique("secret description")})
    _MARKED[:] = [read(api, "OWN-5")]
    return _MARKED[-1]


@pytest.mark.requirement("OWN-5", "OWN-4")
def test_404_reveals_nothing_of_own_collection(api: Client, other_org: str) -> None:
    current = _marked(api)
    exchange = api.patch({}, org_id=other_org)
    _reveals_nothing(exchange, current, "the collection under another organization", "OWN-4")


@pytest.mark.requirement("OWN-5", "OWN-2", "OWN-3")
@pytest.mark.parametrize("under", ["its-org", "own-org"])
def test_404_reveals_nothing_of_foreign_collection(api: Client, foreign: ForeignTenant, under: str) -> None:
    current = read(api, "OWN-5", org_id=foreign.org_id, collection_id=foreign.collection_id, key=foreign.api_key)
    org_id = foreign.org_id if under == "its-org" else api.settings.org_id
    for exchange in (api.patch({}, org_id=org_id, collection_id=foreign.collection_id),):
        _reveals_nothing(exchange, current, "another organization's collection", "OWN-2" if under == "its-org" else "OWN-3")


def _missing_for_id(settings: Settings) -> Probe:
    return Probe(body={}, collection_id=new_missing_id())


@pytest.mark.requirement("OWN-6", "OWN-1")
@probe(_missing_for_id)
def test_404_names_the_collection_id(answer: Answer) -> None:
    exchange = answer.exchange
    missing_id = unquote(exchange.url.rsplit("/", 1)[-1])
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
