"""Small broken targets for the report and gate self-tests, served on loopback like a staging server.

They do not depend on the fault catalogue (``conformance/stub/faults.py``): each is a subclass of the
reference stub that breaks one thing, and is passed to the suite with ``--base-url`` and its seed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from conformance.fields import JSON
from conformance.stub import RunningStub, StubApp
from conformance.stub.app import Reply, Request

from .conftest import target_options

#: An API key that must never appear in any output or file of a run.
CANARY = "sk_canary_4f1d9a7b2c6e8d0f3a5b"


class CanaryKey(StubApp):
    """The reference stub, with :data:`CANARY` as the caller's key."""

    name = "canary"

    def __init__(self) -> None:
        super().__init__()
        del self.keys[self.api_key]
        self.api_key = CANARY
        self.keys[CANARY] = self.org_id


class WrongAuthCode(CanaryKey):
    """401s carry the code ``UNAUTHORIZED``: AUTH-1 and AUTH-2 (MUST) are violated."""

    name = "wrong-auth-code"

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        reply = super().error(status, system_message, details)
        if status == 401:
            reply.body = reply.body.replace(b'"AUTHENTICATION_REQUIRED"', b'"UNAUTHORIZED"')
        return reply


class NoCollectionIdIn404(CanaryKey):
    """404s carry no ``details.collection_id``: only OWN-6 (SHOULD) is violated."""

    name = "no-collection-id-in-404"

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        return super().error(status, system_message, {} if status == 404 else details)


class Slow(CanaryKey):
    """Every answer takes 0.2 s, so a run can be interrupted in the middle."""

    name = "slow"

    def __init__(self) -> None:
        super().__init__()
        self.served = 0

    def handle(self, request: Request) -> Reply:
        time.sleep(0.2)
        self.served += 1
        return super().handle(request)


@contextmanager
def served(app: StubApp) -> Iterator[list[str]]:
    """Serve ``app`` on loopback; yields the suite's command-line options that point at it."""
    with RunningStub(app) as stub:
        yield target_options(app.seed(stub.base_url))


class AnyKeyAccepted(CanaryKey):
    """Any non-empty key is taken for the caller's: AUTH-2 (and AUTH-3) are violated, and a request
    with a wrong key changes the collection (a consequence, not an AUTH-6 violation: AUTH-6 judges
    rejected requests)."""

    name = "any-key-accepted"

    def authenticate(self, request: Request) -> str:
        return self.org_id if request.headers.get("x-api-key") else super().authenticate(request)
