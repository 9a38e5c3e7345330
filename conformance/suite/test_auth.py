"""AUTH: who may call, and what comes first."""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.client import Client


@pytest.mark.requirement("AUTH-1")
def test_missing_key_gets_401(api: Client) -> None:
    exchange = api.patch({"description": "conformance: sent without a key"}, key=None)
    checks.error_code("AUTH-1", exchange, 401, "a request without X-API-Key is rejected")
