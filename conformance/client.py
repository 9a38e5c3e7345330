"""The HTTP layer: httpx with keep-alive, the key injected, every exchange bounded and recorded.

Exchanges are recorded already redacted (the key shown as ``***``), so nothing downstream (failure
messages, reports, JUnit) can leak it. Transport failures raise :class:`TargetError`: the target
could not be judged, which is an *error* outcome, never a conformance failure.

Bounds, whatever the target does (``conformance.transport`` holds the mechanics):

- Time: each exchange (connecting, sending, the status line, headers and the whole body) ends within
  ``--request-timeout``, and never past the client's ``deadline`` (``--max-time``): every blocking
  read, write or connect waits at most for what is left, so a body trickling a byte every few
  seconds is cut at the bound, not after it.
- Memory: a body is read in pieces up to :data:`~conformance.transport.BODY_CAP` (8 MiB, far more
  than any conformant answer: a collection is a few KB), and decompressed in pieces with the same cap,
  so neither a huge answer nor a compression bomb is ever held. A larger answer is a
  :class:`BrokenResponse`: judged as a broken answer to the test's request, never read.
"""

from __future__ import annotations

import http.cookiejar
import json
import shlex
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from conformance import transport
from conformance._httpx import httpx
from conformance.config import Secret, Settings
from conformance.evidence import CannotJudge
from conformance.fields import JSON
from conformance.pacing import Pacer, retry_after
from conformance.redaction import Redactor, redact_logs
from conformance.safety import PROCESS
from conformance.timeline import Timeline
from conformance.transport import BODY_CAP, Oversize


class _Missing:
    def __repr__(self) -> str:
        return "<omitted>"


#: Marks an argument left out on purpose (an omitted body, the default key).
MISSING: Any = _Missing()


#: Transport failures in a row (refused connections, timeouts) after which the target is taken for
#: down: the run stops within seconds rather than waiting out every test's timeout.
DOWN_AFTER = 3

#: The methods the suite sends with a body or to read: it never creates, replaces or deletes anything.
SAFE_METHODS = frozenset({"GET", "PATCH"})
#: A method token no server defines (RFC 9110 §9.1 lets a server answer it 501 or 405).
UNKNOWN_METHOD = "CONFORMANCEPROBE"
#: Methods sent only as probes of the HTTP layer (RESP-4, F14), never with a body: HEAD, OPTIONS and
#: TRACE are safe by definition (RFC 9110 §9.2.1), and an unknown token without a body has nothing to
#: write. PUT, POST and DELETE are never sent: on a broken server they could replace, create or delete.
PROBE_METHODS = frozenset({"HEAD", "OPTIONS", "TRACE", UNKNOWN_METHOD})


class TargetError(CannotJudge):
    """The target could not be reached or answered at the transport level; nothing was judged."""


class Corrupted(CannotJudge):
    """An earlier violation left the configured collection where no later test can judge it (an applied
    ``id`` re-keyed it, say): requests for it are not judged, rather than blamed for it."""


class BrokenResponse(TargetError):
    """The target took the request and broke its answer (closed the connection, a body shorter than its
    Content-Length, an undecodable encoding), twice in a row. Unlike a refused connection or a timeout
    this *is* the target's answer: the plugin judges it a violation of the test's rule."""

    def __init__(self, message: str, curl: str) -> None:
        super().__init__(message)
        self.curl = curl

    def render(self) -> str:
        return f"{self}\n  expected: a complete HTTP response\n  reproduce: {self.curl}"


class OutOfTime(TargetError):
    """The run's ``--max-time`` is spent; no further request is sent (the restore excepted)."""


class UnsafeMethod(ValueError):
    """A test asked for a method other than GET and PATCH (or a bodiless probe of :data:`PROBE_METHODS`),
    or for a probe with a body: a bug of the suite, refused before sending."""


def curl(method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes | None, key_label: str | None = None) -> str:
    """A copy-pasteable ``curl`` command (give it redacted headers and body); ``key_label`` says which
    key the masked one was, so that the reproduction reproduces. ``--path-as-is`` when the path holds
    a dot segment (curl would remove it); ``-I`` for HEAD (``-X HEAD`` waits for a body)."""
    parts = ["curl", "-sS", "-I" if method == "HEAD" else f"-X {method}"]
    if any(segment in (".", "..") for segment in url.split("?", 1)[0].split("/")[3:]):
        parts.append("--path-as-is")
    parts.append(shlex.quote(url))
    for name, value in headers:
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body is not None:
        parts += ["--data-binary", shlex.quote(body.decode("utf-8", errors="backslashreplace"))]
    if key_label:
        parts.append(f"  # *** is {key_label}")
    return " ".join(parts)


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
    #: Which key the masked ``X-API-Key`` was (``None``: no key, or one shown as it is).
    key_label: str | None = None

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
        return curl(self.method, self.url, self.request_headers, self.request_body, self.key_label)

    def describe(self, limit: int = 1500) -> str:
        """The response as a reader wants to see it: status line, media type, body (truncated)."""
        body = self.response_body[: 4 * limit + 4].decode("utf-8", errors="replace")  # no more than is shown
        if len(body) > limit or len(self.response_body) > 4 * limit + 4:
            body = body[:limit] + f"... ({len(self.response_body)} bytes in all)"
        return f"HTTP {self.status} {self.media_type or '(no content-type)'}\n{body}"


class Recorder:
    """The exchanges of the current test (the last ``keep``, and no more than ``keep_bytes`` of
    response bodies, so a target answering with large bodies cannot fill the memory), the run's
    request count, how many 429 answers were waited out (not recorded: they are not judged), and when
    each request was sent and answered, for :meth:`longest_chain`."""

    def __init__(self, keep: int = 50, keep_bytes: int = 4 * BODY_CAP) -> None:
        self._lock = threading.Lock()
        self._current: deque[Exchange] = deque(maxlen=keep)
        self._timeline = Timeline()
        self._keep_bytes = keep_bytes
        self.total = 0
        self.rate_limited = 0

    def note_rate_limited(self) -> None:
        with self._lock:
            self.rate_limited += 1

    def add(self, exchange: Exchange) -> None:
        """Record an exchange just completed; it started ``exchange.elapsed_ms`` ago."""
        end = time.monotonic()
        self._timeline.add(end - exchange.elapsed_ms / 1000, end)
        with self._lock:
            self._current.append(exchange)
            self.total += 1
            held = sum(len(e.response_body) for e in self._current)
            while held > self._keep_bytes and len(self._current) > 1:
                held -= len(self._current.popleft().response_body)

    def spans(self, start: int = 0) -> list[tuple[float, float]]:
        """When each request of the run was sent and answered, from the ``start``-th on."""
        return self._timeline.spans(start)

    def longest_chain(self) -> int:
        """The most recorded requests that happened one after another (each answered before the next
        was sent): what a target's latency costs the run at least, in round trips."""
        return self._timeline.longest_chain()

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

    def __init__(self, settings: Settings, recorder: Recorder | None = None, pacer: Pacer | None = None) -> None:
        self.settings = settings
        self.recorder = recorder or Recorder()
        self.pacer = pacer or Pacer(settings.rate_limit)
        #: ``time.monotonic()`` past which no request is sent and none goes on (``--max-time``);
        #: ``None``: no bound. :meth:`fresh_budget` replaces it (the restore has a bound of its own).
        self.deadline = time.monotonic() + settings.max_time if settings.max_time else None
        self._bound = "no bound" if settings.max_time is None else f"--max-time {settings.max_time:g} s"
        #: Masks the run's secrets, and those a test adds (keys derived from the real one), in the
        #: exchanges and in every log record of the process.
        self.redactor = Redactor(settings.secrets())
        redact_logs(self.redactor)
        self._failures = 0  # transport failures in a row
        self._writing = threading.Lock()
        #: Set when a violation moved the collection's identity beyond repair (``suite.support.repair_identity``).
        self.corrupted = ""
        #: The configured collection's fields as last read, while nothing else was sent to it since
        #: (``suite.support.read`` sets it; any other request to the collection forgets it).
        self.known: dict[str, JSON] | None = None
        #: The configured collection as last read, while nothing but reads was sent anywhere since
        #: (``suite.support.read`` sets it; any other request forgets it): ``suite.support.latest``.
        self.last_read: dict[str, JSON] | None = None
        #: Requests other than reads sent so far (a read that a write overlapped is not kept as ``last_read``).
        self.writes = 0
        #: Set once the target stopped answering (:data:`DOWN_AFTER` failures in a row): one line saying so.
        self.down = ""
        #: Once down, refuse further requests at once (the tests' requests); the restore turns it off to try anyway.
        self.fail_fast = True
        self._http = self._new_http(keep_alive=True)
        #: The second try of a broken answer goes on a new connection, never on one the pool kept: once
        #: a target has died, every kept connection breaks alike, and that is a dead target, not its answer.
        self._once: httpx.Client | None = None
        self._once_lock = threading.Lock()

    def _new_http(self, *, keep_alive: bool) -> httpx.Client:
        settings = self.settings
        credentials = settings.credentials
        auth = None if credentials is None else httpx.BasicAuth(credentials.username.reveal(), credentials.password.reveal())
        # No cookie jar: a cookie set in answer to one key must never authenticate another request.
        no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        client = httpx.Client(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.request_timeout),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16 if keep_alive else 0),
            follow_redirects=False,
            cookies=no_cookies,
            auth=auth,
            # only what the client decompresses itself, with a bound (see conformance.transport)
            headers={"Accept-Encoding": transport.ACCEPT_ENCODING},
            verify=transport.certificates(settings.base_url),
        )
        transport.bound_exchanges(client)
        return client

    def _without_kept_connections(self) -> httpx.Client:
        with self._once_lock:
            if self._once is None:
                self._once = self._new_http(keep_alive=False)
            return self._once

    def fresh_budget(self, seconds: float | None, what: str = "the restore") -> None:
        """Bound what follows on its own: from now on no request is sent, and none goes on, past
        ``seconds`` from now (``None``: no bound). Replaces the ``--max-time`` deadline; the restore
        calls it so that it runs even when the run's time is spent, and still ends."""
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self._bound = "no bound" if seconds is None else f"the {seconds:g} s bound of {what}"

    def close(self) -> None:
        self._http.close()
        if self._once is not None:
            self._once.close()

    def _note_failure(self, error: TargetError) -> None:
        """Count a refused connection or a timeout; :data:`DOWN_AFTER` in a row mean the target is down."""
        if isinstance(error, OutOfTime):
            return
        self._failures += 1
        if self._failures >= DOWN_AFTER and not self.down:
            when = time.strftime("%H:%M:%S")
            self.down = self.redactor.text(
                f"the target {self.settings.base_url} stopped answering at {when} "
                f"({self._failures} requests in a row failed; the last: {error})"
            )

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
        raw_path: str | None = None,
    ) -> Exchange:
        """Send one request and record it.

        ``key``: ``MISSING`` sends the configured key, ``None`` sends none, a value sends that value.
        ``body`` is encoded as JSON; ``content`` sends raw bytes instead (malformed JSON).
        ``raw_path`` (instead of ``org_id``/``collection_id``) is the path sent exactly as given,
        percent-escapes and dot segments kept (httpx would remove ``.`` and ``..``): an ASCII path
        after the base URL's, such as ``/v1/music/org_1/collections/..``.
        """
        if method not in SAFE_METHODS | PROBE_METHODS:
            raise UnsafeMethod(
                f"the suite sends only GET and PATCH (and the bodiless probes {', '.join(sorted(PROBE_METHODS))}), "
                f"never {method!r}"
            )
        if method in PROBE_METHODS and (body is not MISSING or content is not None):
            raise UnsafeMethod(f"{method} is sent only as a probe, without a body")
        request_headers: dict[str, str] = {}
        if key is MISSING:
            key = self.settings.api_key
        key_label, shown_key = None, None
        if key is not None:
            value = request_headers[key_header] = key.reveal() if isinstance(key, Secret) else key
            if isinstance(key, Secret):
                key_label = key.label
            elif self.redactor.text(value) != value:
                key_label = "a key made from a configured one"
            else:
                shown_key = value  # a made-up key, no secret: the reproduction shows it as it is
        if body is not MISSING:
            content = encode_json(body)
        if content is not None and content_type is not None:
            request_headers["Content-Type"] = content_type
        request_headers.update(headers or {})
        url = self.path(org_id, collection_id) if raw_path is None else raw_path
        target = None if raw_path is None else self._target(raw_path)
        if method != "GET" and ((org_id is None and collection_id is None) or raw_path is not None):
            self.known = None
        if method != "GET":
            with self._writing:
                self.writes += 1
            self.last_read = None
        if self.down and self.fail_fast:
            raise TargetError(f"{method} {self.settings.base_url}{url}: not sent: {self.down}")
        try:
            with PROCESS.waiting():
                response, body, started = self._exchange(method, url, content, request_headers, target)
        except KeyboardInterrupt as interrupt:  # raised afresh here: the frames of the HTTP library stay out of it
            raise KeyboardInterrupt(str(interrupt)) from None
        except BrokenResponse:
            self._failures = 0  # the target answers, brokenly: judged, and alive
            raise
        except TargetError as error:
            self._note_failure(error)
            raise
        self._failures = 0
        sent = str(response.request.url) if raw_path is None else self.settings.base_url.rstrip("/") + raw_path
        if self.settings.credentials is not None:  # httpx sends them as Basic authentication
            request_headers.setdefault("Authorization", "Basic ***")
        exchange = Exchange(
            method=method,
            url=self.redactor.text(sent),
            request_headers=tuple(
                (k, shown_key if k == key_header and shown_key is not None else self.redactor.header(k, v))
                for k, v in request_headers.items()
            ),
            request_body=None if content is None else self._redact_bytes(content),
            status=response.status_code,
            response_headers=tuple((k, self.redactor.header(k, v)) for k, v in response.headers.items()),
            response_body=self._redact_bytes(body),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            key_label=key_label,
        )
        self.recorder.add(exchange)
        if self.corrupted and org_id is None and collection_id is None and exchange.status == 404:
            raise Corrupted(f"not judged: {self.corrupted}")
        return exchange

    def _target(self, raw_path: str) -> bytes:
        """The request target for ``raw_path``: the base URL's path, then ``raw_path`` as it is."""
        if not raw_path.startswith("/") or not raw_path.isascii() or not raw_path.isprintable() or " " in raw_path:
            raise ValueError(f"raw_path={raw_path!r} must be a printable ASCII path starting with '/' (percent-escape the rest)")
        return httpx.URL(self.settings.base_url).raw_path.rstrip(b"/") + raw_path.encode("ascii")

    def _exchange(
        self, method: str, url: str, content: bytes | None, headers: dict[str, str], target: bytes | None = None
    ) -> tuple[httpx.Response, bytes, float]:
        """The response and its body, after waiting out 429s and retrying a broken answer once; and
        when it started. Each attempt is bounded as a whole (see ``conformance.transport``). ``target``:
        the request target sent as it is (httpcore's ``target`` extension), not ``url``'s path."""
        where = f"{method} {self.settings.base_url}{url}"
        waited, broken, limited = 0.0, 0, 0
        while True:
            self.pacer.acquire()
            timeout, deadline = self._budget(where)
            started = time.perf_counter()
            try:
                with transport.exchange_deadline(deadline):
                    extensions = None if target is None else {"target": target}
                    http = self._http if broken == 0 else self._without_kept_connections()
                    request = http.build_request(
                        method, url, content=content, headers=headers, timeout=timeout, extensions=extensions
                    )
                    response = http.send(request, stream=True)
                    try:
                        body = transport.read_body(response)
                    finally:
                        response.close()
            except Oversize as error:  # not worth a second try: the target meant it
                why = (
                    f"{error}; the suite reads at most {BODY_CAP // 2**20} MiB of an answer (no conformant "
                    "answer comes near it) and judges a larger one a broken answer, unread"
                )
                raise self._broken(where, method, url, content, headers, why) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.DecodingError) as error:
                broken += 1
                if broken < 2:  # a keep-alive connection the target closed meanwhile: once more, on a new one
                    continue
                raise self._broken(where, method, url, content, headers, self._cause(error)) from None
            except httpx.TimeoutException as error:
                if self.deadline is not None and deadline >= self.deadline and time.monotonic() >= self.deadline - 0.05:
                    raise OutOfTime(f"{where}: cut short: {self._bound} is spent ({self._cause(error)})") from None
                raise TargetError(
                    f"{where}: no complete answer within --request-timeout {self.settings.request_timeout:g} s "
                    f"(connecting, sending and reading the whole answer): {self._cause(error)}"
                ) from None
            except httpx.TransportError as error:
                raise TargetError(f"{where}: {self._cause(error)}") from None
            if response.status_code != 429:
                return response, body, started
            waited += self._wait_out(where, response, waited, default=float(2 ** min(limited, 5)))
            limited += 1

    def _broken(
        self, where: str, method: str, url: str, content: bytes | None, headers: dict[str, str], why: str
    ) -> BrokenResponse:
        shown = dict(headers)
        if self.settings.credentials is not None:  # sent by httpx as Basic authentication
            shown.setdefault("Authorization", "***")
        return BrokenResponse(
            f"{where}: the target broke its answer: {why}",
            curl(
                method,
                self.redactor.text(f"{self.settings.base_url}{url}"),
                tuple((k, self.redactor.header(k, v)) for k, v in shown.items()),
                None if content is None else self._redact_bytes(content),
            ),
        )

    def _budget(self, where: str) -> tuple[httpx.Timeout, float]:
        """The timeout of each operation and the deadline of the whole exchange: ``--request-timeout``
        from now, cut to what is left of the client's ``deadline``."""
        now = time.monotonic()
        deadline = now + self.settings.request_timeout
        if self.deadline is not None:
            if self.deadline - now <= 0:
                raise OutOfTime(f"{where}: not sent: {self._bound} is spent")
            deadline = min(deadline, self.deadline)
        return httpx.Timeout(deadline - now), deadline

    def _wait_out(self, where: str, response: httpx.Response, waited: float, *, default: float) -> float:
        """Hold every request for the 429's ``Retry-After`` (1, 2, 4... s without one); returns the wait.
        Raises :class:`TargetError` when this request's waits would exceed ``--max-retry-wait``."""
        self.recorder.note_rate_limited()
        asked = retry_after(response.headers.get("retry-after"))
        wait = asked if asked is not None else default
        budget = self.settings.max_retry_wait
        if waited + wait > budget:
            raise TargetError(
                f"{where}: rate limited (HTTP 429, Retry-After {response.headers.get('retry-after', 'absent')}); "
                f"waiting {waited + wait:g} s for one request exceeds --max-retry-wait {budget:g} s"
            )
        if self.deadline is not None and time.monotonic() + wait > self.deadline:
            raise OutOfTime(f"{where}: rate limited (HTTP 429) for {wait:g} s, past {self._bound}")
        self.pacer.hold(wait)
        return wait

    def _cause(self, error: Exception) -> str:
        return f"{type(error).__name__}: {self.redactor.text(str(error) or type(error).__name__)}"

    def _redact_bytes(self, data: bytes) -> bytes:
        return self.redactor.bytes(data)
