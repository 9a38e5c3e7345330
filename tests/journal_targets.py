"""Loopback targets for the journal and restore self-tests: the reference stub, watched, and two broken ones.

Each is a :class:`~conformance.stub.StubApp` subclass served with :class:`~conformance.stub.RunningStub`
on 127.0.0.1, so the suite reaches it over a real socket as it would reach staging, while the test
reads the stored collection directly.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from conformance.fields import FIELD_NAMES, JSON, NULLABLE_FIELDS, FieldError
from conformance.stub import RunningStub, StubApp
from conformance.stub.app import Collection, Rejected, Reply, Request

from .conftest import target_options


class Kept(StubApp):
    """The reference stub, which notes every request and can answer slowly (so a run lasts long enough
    to be killed in the middle)."""

    name = "kept"

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.seen: list[tuple[str, str]] = []
        self.original = self.fields()

    def fields(self) -> dict[str, JSON]:
        with self.lock:
            stored = self.collections[self.collection_id]
            return {name: getattr(stored, name) for name in FIELD_NAMES}

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.seen.append((request.method, request.path))
        if self.delay:
            time.sleep(self.delay)
        return super().handle(request)

    def patches(self) -> int:
        with self.lock:
            return sum(1 for method, _ in self.seen if method == "PATCH")


class PatchAsPut(Kept):
    """SEM-1 broken: a PATCH clears every nullable field it was not sent (it behaves as PUT)."""

    name = "patch-as-put"

    def apply(self, collection: Collection, body: Any) -> None:
        super().apply(collection, {**dict.fromkeys(NULLABLE_FIELDS), **body})


class CachedReads(Kept):
    """Reads are served from a cache for ``ttl`` seconds after they were filled; a PATCH does not
    invalidate it (a CDN or an ORM cache in front of the read path)."""

    name = "cached-reads"

    def __init__(self, *, ttl: float = 1.0) -> None:
        super().__init__()
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, Reply]] = {}
        self._cache_lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        if request.method != "GET":
            return super().handle(request)
        key = (request.path, request.headers.get("x-api-key", ""))
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return Reply(hit[1].status, hit[1].body, dict(hit[1].headers))
        reply = super().handle(request)
        with self._cache_lock:
            self._cache[key] = (time.monotonic(), reply)
        return reply


class RefusesOtherTracks(Kept):
    """Freedom F4, second side: a track that is not the organization's is refused with ``status``."""

    name = "refuses-other-tracks"

    def __init__(self, *, status: int = 422) -> None:
        super().__init__()
        self.status = status

    def apply(self, collection: Collection, body: Any) -> None:
        track = body.get("cover_track_id")
        if track is not None and self.tracks.get(track) != collection.org_id:
            if self.status == 404:
                raise Rejected(self.error(404, "Track not found", {"track_id": track}))
            raise Rejected(self.validation_error(FieldError("cover_track_id", "no such track in this organization")))
        super().apply(collection, body)


class NeverKept(Kept):
    """Every PATCH is answered 200 and nothing is stored: no restore can verify."""

    name = "never-kept"

    def apply(self, collection: Collection, body: Any) -> None:
        return None


def options(app: StubApp, stub: RunningStub) -> list[str]:
    """The suite's command-line options that point at ``app`` served by ``stub``."""
    return target_options(app.seed(stub.base_url))
