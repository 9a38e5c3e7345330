"""Serve a :class:`~conformance.stub.app.StubApp` over HTTP/1.1 on loopback, in a background thread.

The suite uses the same server in-process (no ``--base-url``) and standalone (``conformance stub``),
so the bundled self-test crosses a real socket exactly as a run against staging does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conformance.stub.app import Reply, Request, StubApp

_MAX_BODY = 8 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _Server

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length else 0
        except ValueError:
            size = -1
        if size < 0 or size > _MAX_BODY:
            self._send(Reply(400, b'{"success": false}'))
            self.close_connection = True
            return
        body = self.rfile.read(size) if size else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, self.path, headers, body, tuple(self.headers.keys()))
        try:
            reply = self.server.app.handle(request)
        except Exception:  # a bug of the stub (or a fault) answers 500, as a real server would
            reply = Reply(500, b'{"success": false, "error": {"code": "INTERNAL_ERROR"}}')
        self._send(reply)

    def _send(self, reply: Reply) -> None:
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

    def __init__(self, address: tuple[str, int], app: StubApp, verbose: bool) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__(address, _Handler)


class RunningStub:
    """A stub being served; ``close()`` (or leaving the ``with`` block) stops it."""

    def __init__(self, app: StubApp, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        self.app = app
        self._server = _Server((host, port), app, verbose)
        self._thread = threading.Thread(target=self._server.serve_forever, name="conformance-stub", daemon=True)
        self._thread.start()

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
