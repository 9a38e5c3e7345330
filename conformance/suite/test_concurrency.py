"""SEM-8: concurrent PATCHes of different fields are all applied (no lost update)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance import checks, profiles
from conformance.client import Client, Exchange
from conformance.config import Settings
from conformance.fields import JSON
from conformance.strategies import URL_PREFIX
from conformance.suite.support import fields, latest, read, unique


def _round(api: Client, bodies: list[dict[str, JSON]]) -> list[Exchange]:
    """Send ``bodies`` at the same moment, one thread each."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, JSON]) -> Exchange:
        barrier.wait(timeout=30)
        return api.patch(body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


@pytest.mark.long(45)  # requests one after another, default profile
@pytest.mark.requirement("SEM-8", "SEM-6")
def test_concurrent_patches_of_different_fields_are_all_applied(api: Client, settings: Settings) -> None:
    if settings.rate_limit is not None:
        pytest.skip("--rate-limit spaces the requests out: simultaneous PATCHes cannot be sent")
    rounds = max(3, profiles.examples(settings, weight=0.5))
    for number in range(rounds):
        bodies: list[dict[str, JSON]] = [
            {"name": unique(f"round {number} name")},
            {"description": unique(f"round {number} description")},
            {"cover_image_url": URL_PREFIX + unique(f"round-{number}").replace(" ", "-") + ".png"},
        ]
        if settings.track_ids:
            current = latest(api, "SEM-8")["cover_track_id"]  # the last round's read, when it is the last request
            others = [t for t in settings.track_ids if t != current] or list(settings.track_ids)
            bodies.append({"cover_track_id": others[0]})
        exchanges = _round(api, bodies)
        for exchange in exchanges:
            checks.expect_status("SEM-8", exchange, {200}, "each concurrent PATCH succeeds")
        expected = {k: v for body in bodies for k, v in body.items()}
        stored = fields(read(api, "SEM-8"), tuple(expected))
        lost = {k for k, v in expected.items() if stored.get(k) != v}
        # none of them stored, though each 200 said so: not a lost update but an update not stored (SEM-6)
        rule = "SEM-6" if lost and lost == set(expected) else "SEM-8"
        checks.fields_equal(
            rule, f"round {number + 1}: every concurrent PATCH is applied (no lost update)", expected, stored, *exchanges
        )
