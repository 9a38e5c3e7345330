"""Serve a :class:`~conformance.stub.app.StubApp` over HTTP/1.1 on loopback, in a background thread.

The suite uses the same server in-process (no ``--base-url``) and standalone (``conformance stub``),
so the bundled self-test crosses a real socket exactly as a run against staging does.

For measuring (``scripts/benchmark.py``) the server can answer as a remote one does, every request
delayed by a network latency (``latency_ms``; half on the way in, half on the way out, slept in the
request's own thread, so concurrent requests wait concurrently), and it keeps a :class:`Timeline`
of the requests it served: ``GET /_stub/traffic`` answers ``{"requests": N, "longest_chain": M}``,
``DELETE /_stub/traffic`` starts it afresh. That path is outside the API's ``/v1/``, is not
delayed and is not counted.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conformance.stub.app import Reply, Request, StubApp
from conformance.timeline import Timeline

_MAX_BODY = 8 * 1024 * 1024
#: Where the server reports the traffic it served; not part of the API (see the module's docstring).
TRAFFIC_PATH = "/_stub/traffic"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _Server

    _arrived: float | None = None  # when the request being handled was read; None: nothing to count

    _answered: float | None = None  # when the answer started out: before the client can see it

    def handle_one_request(self) -> None:
        super().handle_one_request()
        arrived, self._arrived = self._arrived, None
        answered, self._answered = self._answered, None
        if arrived is not None:
            self.server.timeline.add(arrived, answered if answered is not None else time.monotonic())

    def parse_request(self) -> bool:
        self._arrived = time.monotonic()
        parsed = super().parse_request()
        if parsed and self.path == TRAFFIC_PATH:
            self._arrived = None  # the benchmark asking, not a request of the run
        return parsed

    def _serve(self) -> None:
        if self.path == TRAFFIC_PATH:
            self.close_connection = True  # a body it may carry is not read
            self._send(self.server.traffic_reply(self.command))
            return
        self._delay()
        reply = self._answer()
        self._delay()
        self._send(reply)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """An answer of http.server itself (a malformed request line, a method the stub has no handler
        for): it waits out the whole latency, as the stub's own answers do."""
        self._delay()
        self._delay()
        super().send_error(code, message, explain)

    def _delay(self) -> None:
        """Half the latency: the request's way in, or the answer's way out."""
        if self.server.latency > 0:
            time.sleep(self.server.latency / 2)

    def _answer(self) -> Reply:
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length else 0
        except ValueError:
            size = -1
        if size < 0 or size > _MAX_BODY:
            self.close_connection = True
            return Reply(400, b'{"success": false}')
        body = self.rfile.read(size) if size else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, self.path, headers, body, tuple(self.headers.keys()))
        try:
            return self.server.app.handle(request)
        except Exception:  # a bug of the stub (or a fault) answers 500, as a real server would
            return Reply(500, b'{"success": false, "error": {"code": "INTERNAL_ERROR"}}')

    def _send(self, reply: Reply) -> None:
        self._answered = time.monotonic()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def __getattr__(self, name: str) -> Callable[[], None]:
        """``do_TRACE``, ``do_CONFORMANCEPROBE``...: every method token reaches the app, which answers
        it with the envelope (the base class would send its own HTML 501)."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: StubApp, verbose: bool, latency: float) -> None:
        self.app = app
        self.verbose = verbose
        self.latency = latency
        self.timeline = Timeline()
        super().__init__(address, _Handler)

    def traffic_reply(self, method: str) -> Reply:
        """``GET``: the requests served and their longest sequential chain; ``DELETE``: forget them."""
        if method == "DELETE":
            self.timeline.clear()
            return Reply(204, b"", {})
        if method != "GET":
            return Reply(405, b"", {"Allow": "GET, DELETE"})
        counts = {"requests": len(self.timeline), "longest_chain": self.timeline.longest_chain()}
        return Reply(200, json.dumps(counts).encode(), {"Content-Type": "application/json"})


class RunningStub:
    """A stub being served; ``close()`` (or leaving the ``with`` block) stops it."""

    def __init__(
        self, app: StubApp, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False, latency_ms: float = 0
    ) -> None:
        if latency_ms < 0:
            raise ValueError(f"latency_ms must be at least 0, got {latency_ms!r}")
        self.app = app
        self._server = _Server((host, port), app, verbose, latency_ms / 1000)
        # shutdown() waits for the serving loop's next poll: 0.05 s, not the default 0.5 s, at the end of every run.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="conformance-stub", daemon=True)
        self._thread.start()

    @property
    def timeline(self) -> Timeline:
        """The requests served so far (also reported on ``GET /_stub/traffic``)."""
        return self._server.timeline

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningStub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
