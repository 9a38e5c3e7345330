"""Steps the conformance tests share: read the collection, PATCH and expect success, unique values,
and the guard that keeps one bad write from being blamed on every later test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conformance import checks
from conformance.batch import REJECTION, Answer
from conformance.client import Client, Exchange
from conformance.config import ForeignTenant, Secret
from conformance.fields import FIELD_NAMES, JSON, READ_ONLY_FIELDS, is_rfc3339, timestamp
from conformance.journal import MARK, marked


def probe(factory: Callable[..., Any], *, kind: str = REJECTION) -> pytest.MarkDecorator:
    """``@probe(factory)``: the requests this test judges, made by ``factory`` from the test's parameters
    (and ``settings``), sent in a batch with every other test's (``conformance.batch``); the test reads
    them from its ``answer`` fixture. ``kind``: ``REJECTION`` (the state is read around the batch),
    ``IGNORED`` (the same, ``updated_at`` allowed to move forward), ``LANE`` (one field, read back
    right after) or ``ANSWER`` (judged by the answer alone)."""
    return pytest.mark.probe.with_args(factory, kind=kind)


def unique(label: str) -> str:
    """A value no server holds yet, so that finding it proves where it came from; it carries the
    suite's mark, so another run recognises it (``conformance.journal.written_by_suite``)."""
    return marked(label)


def read(
    api: Client, rule_id: str, *, org_id: str | None = None, collection_id: str | None = None, key: Secret | None = None
) -> dict[str, JSON]:
    """GET the collection (or another one, with another key) and check its shape."""
    writes = api.writes
    exchange = (
        api.get(org_id=org_id, collection_id=collection_id)
        if key is None
        else api.get(org_id=org_id, collection_id=collection_id, key=key)
    )
    document = checks.collection(rule_id, exchange, collection_id or api.settings.collection_id)
    if org_id is None and collection_id is None and key is None:
        api.known = fields(document)
        api.last_read = dict(document) if api.writes == writes else None  # no write overlapped this read
    return document


def latest(api: Client, rule_id: str) -> dict[str, JSON]:
    """The collection as it is now: the last read when nothing but reads was sent since (the state
    cannot have moved), else a read (:func:`read`)."""
    return dict(api.last_read) if api.last_read is not None else read(api, rule_id)


def repair_identity(
    api: Client, rule_id: str, before: Mapping[str, JSON], *exchanges: Exchange, after: Mapping[str, JSON] | None = None
) -> None:
    """After a PATCH that sent read-only fields: ``id``, ``created_at`` and ``track_count`` must be as
    ``before`` (else a violation of ``rule_id``, SEM-5), as read now (or in ``after``, a read the caller
    made without checks: see :func:`raw_read`). A target that applied them is put back by sending the
    original values (it applies those too), so that later tests are judged on their own; when that
    fails, every later test that meets the moved collection is not judged (see
    :class:`conformance.client.Corrupted`)."""
    seen = stable(after) if after is not None else stable_of(api)
    if seen == stable(before):
        checks.holds(rule_id)
        return
    api.patch({k: before[k] for k in ("id", "created_at", "track_count")})
    repaired = stable_of(api) == stable(before)
    if not repaired:
        api.corrupted = (
            f"an earlier PATCH applied read-only fields ({rule_id}) and the collection could not be put back: "
            f"{dict(seen or {})} instead of {stable(before)}"
        )
    checks.fields_equal(rule_id, "id, created_at and track_count never change", stable(before), seen or {}, *exchanges)


def raw_read(api: Client) -> dict[str, JSON] | None:
    """The configured collection as a read returns it, checked for nothing (``None``: not a collection):
    for a test that judges what an earlier write did to it before anything else reads it."""
    exchange = api.get()
    try:
        document = exchange.json()
    except ValueError:
        return None
    return document if exchange.status == 200 and isinstance(document, dict) else None


def stable_of(api: Client) -> dict[str, JSON] | None:
    """The read-only fields of the configured collection as a read returns them (``None``: not readable)."""
    document = raw_read(api)
    return stable(document) if document is not None else None


def patch_ok(api: Client, rule_id: str, body: JSON, title: str = "a valid PATCH is accepted") -> tuple[Exchange, dict[str, JSON]]:
    """PATCH the configured collection, expecting 200 and the collection object."""
    exchange = api.patch(body)
    checks.expect_status(rule_id, exchange, {200}, title)
    return exchange, checks.collection(rule_id, exchange, api.settings.collection_id)


def stored_in_lane(answer: Answer, sent: dict[str, JSON], rule_id: str, settings_id: str) -> None:
    """A lane's PATCH of one field was accepted: the 200 body and the read right after hold the sent
    value exactly (``rule_id``, SEM-6; see :func:`conformance.checks.applied`); other lanes change the
    other fields meanwhile, so only the sent one is compared."""
    exchange = answer.get(0)
    returned = checks.collection(rule_id, exchange, settings_id)
    read_back = answer.get(1)
    stored = checks.collection(rule_id, read_back, settings_id)
    checks.applied(sent, {}, fields(returned), fields(stored), exchange, read_back, sent_rule=rule_id)


def patch_applied(
    api: Client,
    rule_id: str,
    body: dict[str, JSON],
    before: Mapping[str, JSON],
    title: str = "a valid PATCH is accepted",
    *,
    accepted_rule: str | None = None,
) -> tuple[Exchange, dict[str, JSON]]:
    """PATCH ``body`` (valid), expect 200 (else a violation of ``accepted_rule``, by default ``rule_id``),
    then read back: each difference is named by the rule it breaks (``rule_id`` for a sent value not kept,
    SEM-1 for an omitted field changed, SEM-6 for an answer that is not the stored state; see
    :func:`conformance.checks.applied`). Returns the 200 exchange and the state read back."""
    exchange, returned = patch_ok(api, accepted_rule or rule_id, body, title)
    stored = read(api, rule_id)
    checks.applied(body, fields(before) if before else {}, fields(returned), fields(stored), exchange, sent_rule=rule_id)
    return exchange, stored


def known_or_reset(api: Client, rule_id: str) -> dict[str, JSON]:
    """The state :func:`reset` would give, without its requests when the last read already shows one
    (every field a value this suite wrote, and nothing sent to the collection since)."""
    known = api.known
    usable = known is not None and all(written_by_suite(known[n]) for n in ("name", "description", "cover_image_url"))
    if known is not None and usable and (not api.settings.track_ids or known["cover_track_id"] in api.settings.track_ids):
        return dict(known)
    return reset(api, rule_id)


def last_known(api: Client) -> dict[str, JSON]:
    """The four fields as last read when nothing was sent since (no request needed), else nothing: a
    test that only needs them to see that omitted fields stayed then checks its sent fields alone."""
    return dict(api.known) if api.known is not None else {}


def written_by_suite(value: JSON) -> bool:
    """Whether ``value`` carries the mark of :func:`unique` (alone, or in a URL)."""
    return isinstance(value, str) and MARK.search(value) is not None


def reset(api: Client, rule_id: str) -> dict[str, JSON]:
    """Give every field a fresh, known, non-null value (``cover_track_id`` only when tracks are
    configured), so that each example of a property test starts from the same kind of state and
    a failure replays; returns the four fields as read back."""
    return fields(reset_document(api, rule_id))


def reset_document(api: Client, rule_id: str) -> dict[str, JSON]:
    """:func:`reset`, returning the whole collection as read back."""
    from conformance.strategies import URL_PREFIX

    body: dict[str, JSON] = {
        "name": unique("baseline name"),
        "description": unique("baseline description"),
        "cover_image_url": URL_PREFIX + unique("baseline").replace(" ", "-") + ".png",
    }
    if api.settings.track_ids:  # the preflight made sure the target takes them (conformance.target)
        body["cover_track_id"] = api.settings.track_ids[0]
    patch_ok(api, rule_id, body, "setting up known values")
    return read(api, rule_id)


TIMESTAMPS = ("created_at", "updated_at")


def fields(document: Mapping[str, JSON], names: tuple[str, ...] = FIELD_NAMES) -> dict[str, JSON]:
    """The named fields of ``document``; timestamps as instants in one spelling (F8 lets a target
    write the same instant as ``...Z`` in one answer and ``.000+00:00`` in another)."""
    return {name: _instant(document.get(name)) if name in TIMESTAMPS else document.get(name) for name in names}


def _instant(value: JSON) -> JSON:
    return timestamp(value).isoformat() if is_rfc3339(value) else value


#: What a rejected request must leave exactly as it was: the four fields and every read-only one.
STATE_FIELDS: tuple[str, ...] = (*FIELD_NAMES, *READ_ONLY_FIELDS)


def state(api: Client, rule_id: str, **where: Any) -> dict[str, JSON]:
    """The whole stored state of the collection (``updated_at`` included): nothing may move it but a 200."""
    return fields(read(api, rule_id, **where), STATE_FIELDS)


def read_state(api: Client, foreign: ForeignTenant | None = None) -> tuple[dict[str, JSON], list[Exchange]]:
    """The whole stored state of the collection, and of the foreign tenant's (read with its own key)
    when one is configured: what a refused request must leave exactly as it was. Returns the state
    and the reads; :class:`~conformance.client.TargetError` or a violation when it cannot be read."""
    if foreign is None:
        exchanges = [api.get()]
    else:  # both at once: neither read changes anything
        with ThreadPoolExecutor(max_workers=2) as pool:
            theirs = pool.submit(api.get, org_id=foreign.org_id, collection_id=foreign.collection_id, key=foreign.api_key)
            exchanges = [api.get(), theirs.result()]
    found = {
        f"collection.{k}": v
        for k, v in fields(checks.collection("RESP-1", exchanges[0], api.settings.collection_id), STATE_FIELDS).items()
    }
    if foreign is not None:
        document = checks.collection("RESP-1", exchanges[1], foreign.collection_id)
        found.update({f"foreign.{k}": v for k, v in fields(document, STATE_FIELDS).items()})
    return found, exchanges


def put_back(api: Client, foreign: ForeignTenant | None, before: Mapping[str, JSON], now: Mapping[str, JSON]) -> None:
    """Write back the writable fields of ``before`` (a :func:`read_state`) that differ in ``now``: the
    collection's with the caller's key, the foreign tenant's with its own."""
    for prefix, where in (("collection.", {}), ("foreign.", _foreign_where(foreign))):
        changed = {
            n: before[prefix + n] for n in FIELD_NAMES if prefix + n in before and before[prefix + n] != now.get(prefix + n)
        }
        if changed:
            api.patch(changed, **where)


def _foreign_where(foreign: ForeignTenant | None) -> dict[str, Any]:
    if foreign is None:
        return {}
    return {"org_id": foreign.org_id, "collection_id": foreign.collection_id, "key": foreign.api_key}


def stable(document: Mapping[str, JSON]) -> dict[str, JSON]:
    """The fields no PATCH may change (SEM-5)."""
    return fields(document, ("id", "created_at", "track_count"))
