"""Steps the conformance tests share: read the collection, PATCH and expect success, unique values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from conformance import checks, rules
from conformance.client import Client, Exchange
from conformance.config import Secret
from conformance.journal import marked
from conformance.rules import JSON


def unique(label: str) -> str:
    """A value no server holds yet, so that finding it proves where it came from; it carries the
    suite's mark, so another run recognises it (``conformance.journal.written_by_suite``)."""
    return marked(label)


def read(
    api: Client, rule_id: str, *, org_id: str | None = None, collection_id: str | None = None, key: Secret | None = None
) -> dict[str, JSON]:
    """GET the collection (or another one, with another key) and check its shape."""
    exchange = (
        api.get(org_id=org_id, collection_id=collection_id)
        if key is None
        else api.get(org_id=org_id, collection_id=collection_id, key=key)
    )
    return checks.collection(rule_id, exchange, collection_id or api.settings.collection_id)


def patch_ok(api: Client, rule_id: str, body: JSON, title: str = "a valid PATCH is accepted") -> tuple[Exchange, dict[str, JSON]]:
    """PATCH the configured collection, expecting 200 and the collection object."""
    exchange = api.patch(body)
    checks.expect_status(rule_id, exchange, {200}, title)
    return exchange, checks.collection(rule_id, exchange, api.settings.collection_id)


def reset(api: Client, rule_id: str) -> dict[str, JSON]:
    """Give every field a fresh, known, non-null value (``cover_track_id`` only when tracks are
    configured), so that each example of a property test starts from the same kind of state and
    a failure replays; returns the four fields as read back."""
    from conformance.strategies import URL_PREFIX

    body: dict[str, JSON] = {
        "name": unique("baseline name"),
        "description": unique("baseline description"),
        "cover_image_url": URL_PREFIX + unique("baseline").replace(" ", "-") + ".png",
    }
    if api.settings.track_ids:
        body["cover_track_id"] = api.settings.track_ids[0]
        probe = api.patch({"cover_track_id": api.settings.track_ids[0]})
        if probe.status in (404, 422):  # F4: the target may refuse a track that is not the organization's
            raise TrackRefused(
                f"the target refused the configured track {api.settings.track_ids[0]!r} (HTTP {probe.status}): "
                "check --track-id (CONFORMANCE_TRACK_IDS) names tracks of the organization"
            )
    patch_ok(api, rule_id, body, "setting up known values")
    return fields(read(api, rule_id))


class TrackRefused(Exception):
    """A configured track id is not one the target knows: the run cannot be judged with it."""


TIMESTAMPS = ("created_at", "updated_at")


def fields(document: Mapping[str, JSON], names: tuple[str, ...] = rules.FIELD_NAMES) -> dict[str, JSON]:
    """The named fields of ``document``; timestamps as instants in one spelling (F8 lets a target
    write the same instant as ``...Z`` in one answer and ``.000+00:00`` in another)."""
    return {name: _instant(document.get(name)) if name in TIMESTAMPS else document.get(name) for name in names}


def _instant(value: JSON) -> JSON:
    return timestamp(value).isoformat() if rules.is_rfc3339(value) else value


#: What a rejected request must leave exactly as it was: the four fields and every read-only one.
STATE_FIELDS: tuple[str, ...] = (*rules.FIELD_NAMES, *rules.READ_ONLY_FIELDS)


def state(api: Client, rule_id: str, **where: Any) -> dict[str, JSON]:
    """The whole stored state of the collection (``updated_at`` included): nothing may move it but a 200."""
    return fields(read(api, rule_id, **where), STATE_FIELDS)


def timestamp(value: JSON) -> datetime:
    """An RFC 3339 timestamp as an aware datetime (``Z`` or an offset, any fraction)."""
    assert isinstance(value, str)
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    leap = text[17:19] == "60"  # RFC 3339 allows a leap second; Python's datetime does not
    moment = datetime.fromisoformat(text[:17] + "59" + text[19:] if leap else text)
    return moment + timedelta(seconds=1) if leap else moment


def stable(document: Mapping[str, JSON]) -> dict[str, JSON]:
    """The fields no PATCH may change (SEM-5)."""
    return fields(document, ("id", "created_at", "track_count"))
