"""The target of a run: the bundled stub or a staging URL, its preflight, snapshot and restore.

Staging is someone's data. Before the first change the configured collection's four fields are
read; at the end (pass, fail or interrupt) they are written back, and read again to verify.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from conformance import fields
from conformance.client import BrokenResponse, Client, OutOfTime, TargetError
from conformance.config import Settings
from conformance.fields import JSON
from conformance.stub import RunningStub, create


class NotJudged(Exception):
    """The target cannot be judged (unreachable, wrong key or ids); the message is one line."""


class RestoreFailed(Exception):
    """The collection could not be put back as it was; the message says what is left where."""


def start_stub(fault: str | None) -> tuple[RunningStub, dict[str, Any]]:
    """Serve the bundled stub (or its named fault) on a free loopback port; returns it and its seed."""
    stub = RunningStub(create(fault))
    return stub, stub.app.seed(stub.base_url).as_dict()


def _fields(document: Mapping[str, JSON]) -> dict[str, JSON]:
    return {name: document.get(name) for name in fields.FIELD_NAMES}


class Target:
    """Settings, client and the collection's original state for one run."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self.snapshot: dict[str, JSON] | None = None

    def preflight(self) -> dict[str, JSON]:
        """Read the configured collection once; remember its fields. Raises :class:`NotJudged`."""
        where = f"{self.settings.base_url}{self.client.path()}"
        try:
            exchange = self.client.get()
        except BrokenResponse as error:
            raise NotJudged(f"cannot read the collection to snapshot it: {error}") from None
        except OutOfTime as error:
            raise NotJudged(f"{error}") from None
        except TargetError as error:
            raise NotJudged(f"target unreachable: {error}") from None
        if exchange.status == 401:
            raise NotJudged(f"the API key was rejected (HTTP 401) by {where}; check {_hint('api_key')}")
        if exchange.status == 404:
            raise NotJudged(
                f"the collection was not found (HTTP 404) at {where}; check {_hint('org_id')} and {_hint('collection_id')}"
            )
        try:
            document = exchange.json()
            if exchange.status != 200 or not isinstance(document, dict) or not set(fields.FIELD_NAMES) <= set(document):
                raise ValueError
        except ValueError:
            raise NotJudged(
                f"cannot read the collection to snapshot it: GET {where} answered HTTP {exchange.status} {exchange.text[:200]!r}"
            ) from None
        unrestorable = fields.body_errors(_fields(document))
        if unrestorable:
            raise NotJudged(
                f"the collection at {where} holds values a PATCH cannot write back ({unrestorable[0].message}), "
                "so the suite could not restore it: use a collection whose fields keep today's rules"
            )
        self.snapshot = _fields(document)
        return self.snapshot

    def restore(self, attempts: int = 3) -> str:
        """Put the snapshot back when it changed, and verify; returns what was done.

        It runs past ``--max-time``, ignores a second Ctrl-C or SIGTERM while it works, and tries
        ``attempts`` times when the target fails at the transport level (each request is bounded by
        the per-request timeout, so this ends).
        """
        from conformance.safety import shielded

        if self.snapshot is None:
            return "nothing to restore: the collection was never read"
        self.client.deadline = None
        with shielded("the restore"):
            for attempt in range(1, attempts + 1):
                try:
                    return self._restore_once(self.snapshot)
                except TargetError as error:
                    if attempt == attempts:
                        raise RestoreFailed(self._failure(f"{type(error).__name__}: {error}")) from None
                    time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _restore_once(self, snapshot: dict[str, JSON]) -> str:
        """One attempt; a transport failure propagates (and is tried again), anything else is final."""
        try:
            current = self.client.get()
            if current.status == 200 and _fields(current.json()) == snapshot:
                return "collection unchanged; nothing to restore"
            stored = _fields(current.json()) if current.status == 200 else {}
            written = self.client.patch({k: v for k, v in snapshot.items() if stored.get(k, object()) != v})
            check = self.client.get()
            restored = _fields(check.json()) if check.status == 200 else None
        except (ValueError, AttributeError) as error:  # not JSON, or not an object
            raise RestoreFailed(self._failure(f"{type(error).__name__}: {error}")) from None
        if written.status != 200 or restored != snapshot:
            raise RestoreFailed(self._failure(f"PATCH answered HTTP {written.status}, read-back {restored!r}"))
        return "collection restored and verified"

    def originals(self) -> str:
        """Where the original values are, for a message that says to put them back by hand."""
        return f"the original fields of collection {self.settings.collection_id} were {self.snapshot!r}; put them back by hand"

    def _failure(self, why: str) -> str:
        return (
            f"RESTORE FAILED for collection {self.settings.collection_id} at {self.settings.base_url}: {why}. "
            f"Its original fields were {self.snapshot!r}; put them back by hand."
        )


def _hint(dest: str) -> str:
    from conformance.config import describe

    return describe(dest)
