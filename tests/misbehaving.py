"""Small loopback servers that misbehave, for the safety self-tests.

:class:`Misbehaving` speaks just enough HTTP/1.1 to read a request and then writes whatever raw bytes
its ``respond`` function returns: a well-formed reply of the reference stub, garbage, a body shorter
than its ``Content-Length``, nothing at all (``CLOSE``: the connection is closed) or never anything
(``HANG``); or, as an iterable of byte strings, an answer sent piece by piece for as long as the
client reads (a trickle, an endless body). Every reply closes the connection, so each request
arrives on a fresh one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from conformance.stub.app import Reply, Request, StubApp

#: ``respond`` results: close the connection without a byte; never answer.
CLOSE = b""
HANG = None

Respond = Callable[[Request], "bytes | Iterable[bytes] | None"]


def raw(
    status: int,
    body: bytes,
    content_type: str = "application/json",
    *,
    length: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes of a response; ``length`` overrides the true ``Content-Length`` (to lie about it)."""
    lines = [
        f"HTTP/1.1 {status} X",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body) if length is None else length}",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def well_formed(reply: Reply) -> bytes:
    """A reply of the reference stub, as its own server would send it (but closing the connection)."""
    extra = {name: value for name, value in reply.headers.items() if name.lower() != "content-type"}
    return raw(reply.status, reply.body, reply.headers.get("content-type", "application/json"), headers=extra)


class Misbehaving:
    """Serves on 127.0.0.1 (a free port) until ``close()``; ``seen`` lists every (method, path) received.

    ``respond`` answers each request; by default the reference ``app`` answers GETs and ``patch``
    answers PATCHes, so the suite can read (snapshot, restore) the collection while its PATCHes get garbage.
    """

    def __init__(self, app: StubApp | None = None, patch: Respond | None = None, respond: Respond | None = None) -> None:
        self.app = app or StubApp()
        self._patch = patch
        self._respond = respond
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = int(self._socket.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, name="misbehaving", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seed(self) -> dict[str, Any]:
        return self.app.seed(self.base_url).as_dict()

    def respond(self, request: Request) -> bytes | Iterable[bytes] | None:
        if self._respond is not None:
            return self._respond(request)
        if request.method == "PATCH" and self._patch is not None:
            return self._patch(request)
        return well_formed(self.app.handle(request))

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:  # the accept timeout, or the socket closed
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            request = _read(connection)
            if request is None:
                return
            with self._lock:
                self.seen.append((request.method, request.path))
            answer = self.respond(request)
            if answer is HANG:
                self._stopped.wait()
                return
            with contextlib.suppress(OSError):  # the client went away
                for piece in [answer] if isinstance(answer, bytes) else answer:
                    if self._stopped.is_set():
                        return
                    connection.sendall(piece)

    def close(self) -> None:
        self._stopped.set()
        self._socket.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Misbehaving:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read(connection: socket.socket) -> Request | None:
    """One request: request line, headers, and a ``Content-Length`` body; ``None`` when the peer left."""
    connection.settimeout(10)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
        size = int(headers.get("content-length", "0"))
        while len(body) < size:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            body += chunk
    except (OSError, ValueError):
        return None
    return Request(method, path, headers, body[:size])
