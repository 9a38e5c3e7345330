"""The HTTP layer: httpx with timeouts and keep-alive, the key injected, every exchange recorded.

Exchanges are recorded already redacted (the key shown as ``***``), so nothing downstream (failure
messages, reports, JUnit) can leak it. Transport failures raise :class:`TargetError`: the target
could not be judged, which is an *error* outcome, never a conformance failure.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from conformance.config import Secret, Settings
from conformance.redaction import Redactor
from conformance.rules import JSON


class _Missing:
    def __repr__(self) -> str:
        return "<omitted>"


#: Marks an argument left out on purpose (an omitted body, the default key).
MISSING: Any = _Missing()


class TargetError(Exception):
    """The target could not be reached or answered at the transport level; nothing was judged."""


@dataclass(frozen=True)
class Exchange:
    """One request and its response, redacted. ``status`` is the HTTP status code."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    elapsed_ms: float

    def header(self, name: str) -> str | None:
        """A response header, by case-insensitive name."""
        for key, value in self.response_headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return self.response_body.decode("utf-8", errors="replace")

    def json(self) -> JSON:
        """The decoded response body; ``ValueError`` when it is not JSON."""
        return json.loads(self.response_body.decode("utf-8"))

    def curl(self) -> str:
        """A copy-pasteable ``curl`` command for the request, the key shown as ``***``."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            parts += ["--data-binary", shlex.quote(self.request_body.decode("utf-8", errors="backslashreplace"))]
        return " ".join(parts)

    def describe(self, limit: int = 1500) -> str:
        """The response as a reader wants to see it: status line, media type, body (truncated)."""
        body = self.text
        if len(body) > limit:
            body = body[:limit] + f"... ({len(self.response_body)} bytes in all)"
        return f"HTTP {self.status} {self.media_type or '(no content-type)'}\n{body}"


class Recorder:
    """The exchanges of the current test (the last ``keep``), and the run's request count."""

    def __init__(self, keep: int = 50) -> None:
        self._lock = threading.Lock()
        self._current: deque[Exchange] = deque(maxlen=keep)
        self.total = 0

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._current.append(exchange)
            self.total += 1

    def take(self) -> list[Exchange]:
        """The exchanges recorded since the last ``take``, oldest first."""
        with self._lock:
            taken = list(self._current)
            self._current.clear()
            return taken

    @property
    def last(self) -> Exchange | None:
        with self._lock:
            return self._current[-1] if self._current else None


def encode_json(body: JSON) -> bytes:
    """UTF-8 JSON as a client library would send it; lone surrogates, which UTF-8 cannot carry,
    are sent as ``\\uXXXX`` escapes."""
    try:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body).encode("ascii")


class Client:
    """Talks to the target on behalf of the tests. Thread-safe (httpx.Client is)."""

    def __init__(self, settings: Settings, recorder: Recorder | None = None) -> None:
        self.settings = settings
        self.recorder = recorder or Recorder()
        self.redactor = Redactor(settings.secrets())
        timeout = httpx.Timeout(settings.request_timeout)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
        self._http = httpx.Client(base_url=settings.base_url, timeout=timeout, limits=limits, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def path(self, org_id: str | None = None, collection_id: str | None = None) -> str:
        org = self.settings.org_id if org_id is None else org_id
        collection = self.settings.collection_id if collection_id is None else collection_id
        return f"/v1/music/{quote(org, safe='')}/collections/{quote(collection, safe='')}"

    def patch(self, body: JSON = MISSING, **kwargs: Any) -> Exchange:
        """PATCH the configured collection (or ``org_id``/``collection_id``) with ``body`` as JSON."""
        return self.send("PATCH", body=body, **kwargs)

    def get(self, **kwargs: Any) -> Exchange:
        """GET the configured collection (or ``org_id``/``collection_id``)."""
        return self.send("GET", **kwargs)

    def send(
        self,
        method: str,
        *,
        body: JSON = MISSING,
        content: bytes | None = None,
        org_id: str | None = None,
        collection_id: str | None = None,
        key: Secret | str | None = MISSING,
        key_header: str = "X-API-Key",
        content_type: str | None = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        """Send one request and record it.

        ``key``: ``MISSING`` sends the configured key, ``None`` sends none, a value sends that value.
        ``body`` is encoded as JSON; ``content`` sends raw bytes instead (malformed JSON).
        """
        request_headers: dict[str, str] = {}
        if key is MISSING:
            key = self.settings.api_key
        if key is not None:
            request_headers[key_header] = key.reveal() if isinstance(key, Secret) else key
        if body is not MISSING:
            content = encode_json(body)
        if content is not None and content_type is not None:
            request_headers["Content-Type"] = content_type
        request_headers.update(headers or {})
        url = self.path(org_id, collection_id)
        started = time.perf_counter()
        try:
            response = self._http.request(method, url, content=content, headers=request_headers)
        except httpx.TransportError as error:
            cause = self.redactor.text(str(error) or type(error).__name__)
            raise TargetError(f"{method} {self.settings.base_url}{url}: {type(error).__name__}: {cause}") from None
        exchange = Exchange(
            method=method,
            url=self.redactor.text(str(response.request.url)),
            request_headers=tuple((k, self.redactor.header(k, v)) for k, v in request_headers.items()),
            request_body=None if content is None else self._redact_bytes(content),
            status=response.status_code,
            response_headers=tuple((k, self.redactor.header(k, v)) for k, v in response.headers.items()),
            response_body=self._redact_bytes(response.content),
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )
        self.recorder.add(exchange)
        return exchange

    def _redact_bytes(self, data: bytes) -> bytes:
        return self.redactor.text(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
