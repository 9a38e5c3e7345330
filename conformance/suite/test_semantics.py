"""SEM: what a PATCH changes, and what it leaves alone."""

from __future__ import annotations

import pytest

from conformance import checks, rules
from conformance.client import Client
from conformance.config import Settings


@pytest.mark.requirement("SEM-4")
def test_empty_body_changes_nothing(api: Client, settings: Settings) -> None:
    before = checks.collection("SEM-4", api.get(), settings.collection_id)
    exchange = api.patch({})
    after = checks.collection("SEM-4", exchange, settings.collection_id)
    unchanged = {name: before[name] for name in (*rules.FIELD_NAMES, "id", "created_at", "track_count")}
    checks.fields_equal("SEM-4", "an empty PATCH changes no field", unchanged, after, exchange)
    read = api.get()
    checks.fields_equal(
        "SEM-4",
        "an empty PATCH changes no stored field",
        unchanged,
        checks.collection("SEM-4", read, settings.collection_id),
        read,
    )
