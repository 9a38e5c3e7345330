"""OWN: a collection is reached only by its owner, under its owner's organization."""

from __future__ import annotations

import pytest

from conformance import checks
from conformance.client import Client
from conformance.rules import JSON


@pytest.mark.requirement("OWN-1")
@pytest.mark.parametrize("body", [{}, {"description": "conformance probe"}], ids=["empty", "description"])
def test_missing_collection_gets_404(api: Client, missing_id: str, body: JSON) -> None:
    exchange = api.patch(body, collection_id=missing_id)
    checks.error_code("OWN-1", exchange, 404, "a collection id that does not exist is not found")
