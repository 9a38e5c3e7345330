"""RESP: the shapes of 200 and error responses."""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.client import Client
from conformance.config import Settings


@pytest.mark.requirement("RESP-1")
def test_patch_200_is_the_collection_object(api: Client, settings: Settings) -> None:
    checks.collection("RESP-1", api.patch({}), settings.collection_id)


@pytest.mark.requirement("RESP-1")
def test_patch_200_with_changes_is_the_collection_object(api: Client, settings: Settings) -> None:
    before = checks.collection("RESP-1", api.get(), settings.collection_id)
    checks.collection("RESP-1", api.patch({"description": before["description"]}), settings.collection_id)


@pytest.mark.requirement("RESP-2")
def test_401_is_the_error_envelope(api: Client) -> None:
    exchange = api.patch({}, key=None)
    checks.expect_status("RESP-2", exchange, {401}, "a request without a key is rejected")
    checks.envelope("RESP-2", exchange)


@pytest.mark.requirement("RESP-2")
def test_404_is_the_error_envelope(api: Client, missing_id: str) -> None:
    exchange = api.patch({}, collection_id=missing_id)
    checks.expect_status("RESP-2", exchange, {404}, "a missing collection is not found")
    checks.envelope("RESP-2", exchange)


@pytest.mark.requirement("RESP-2")
def test_422_is_the_error_envelope(api: Client) -> None:
    exchange = api.patch({"name": ""})
    checks.expect_status("RESP-2", exchange, {422}, "an empty name is rejected")
    checks.envelope("RESP-2", exchange)
