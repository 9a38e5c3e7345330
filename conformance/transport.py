"""Bounds on one exchange with the target: its whole duration, and the memory its answer may take.

httpx bounds each operation (connect, one read, one write, the pool), not an exchange: a body that
trickles a byte every 4 s never trips a 5 s read timeout and never ends. Here:

- **Time.** :func:`exchange_deadline` sets, for the calling thread, the moment the exchange must be
  over. :func:`bound_exchanges` wraps the network backend of every connection pool of an
  ``httpx.Client`` so that each blocking connect, TLS handshake, read and write waits at most for what
  is left until that moment, and fails with httpx's own timeout once nothing is left. Connecting,
  sending, the status line, the headers and the body are thereby bounded together.
- **Memory.** :func:`read_body` reads a streamed response in network-sized pieces and decompresses
  them itself (``gzip``, ``deflate``, chained) in pieces of at most 64 KiB, stopping with
  :class:`Oversize` as soon as the body on the wire or decompressed exceeds :data:`BODY_CAP`; a
  declared ``Content-Length`` over the cap stops it before a byte is read. A 2 MB gzip bomb never
  expands by more than one piece. Only the encodings decompressed here are asked for
  (:data:`ACCEPT_ENCODING`); any other ``Content-Encoding`` is kept as sent, as httpx itself does
  without the optional ``brotli`` or ``zstandard`` packages. A failed check keeps its exchange in
  reference cycles (exception, traceback, frames) that only Python's cyclic collector frees, and it
  runs by the number of objects, not their size: :func:`collect_now_and_then` runs it every 64 MiB
  of bodies read, so large answers cannot pile up as garbage.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore

from conformance._httpx import httpx

#: The most the suite reads of one answer, on the wire and decompressed: 8 MiB. A conformant answer
#: holds one collection (a few KB); an error that quoted the largest body the suite sends (about
#: 1 MiB, JSON-escaped) would still be far below it.
BODY_CAP = 8 * 1024 * 1024
#: What the client asks for, and decompresses itself, in bounded pieces.
ACCEPT_ENCODING = "gzip, deflate"
#: The largest piece a decompressor may produce in one step.
PIECE = 64 * 1024
#: The largest piece of a request body written in one step (each waits at most for what is left).
_WRITE_PIECE = 16 * 1024
#: Bodies read between two full garbage collections (see :func:`collect_now_and_then`).
COLLECT_EVERY = 64 * 1024 * 1024


class Oversize(Exception):
    """The answer is larger than :data:`BODY_CAP`; the message says how that was seen."""


# ---- time ------------------------------------------------------------------------------------------


class _Deadline(threading.local):
    at: float | None = None


_DEADLINE = _Deadline()


@contextlib.contextmanager
def exchange_deadline(at: float | None) -> Iterator[None]:
    """Within the block, every network operation of this thread ends by ``time.monotonic()`` ``at``."""
    previous, _DEADLINE.at = _DEADLINE.at, at
    try:
        yield
    finally:
        _DEADLINE.at = previous


def _left(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of this thread's exchange; ``expired`` when nothing is left."""
    at = _DEADLINE.at
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise expired("the exchange's time is up (connecting, sending and reading the answer together)")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every blocking operation waits at most for what is left of the exchange."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_PIECE):
            self._inner.write(buffer[start : start + _WRITE_PIECE], _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's network backend, its connections bounded by the exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def certificates(base_url: str) -> ssl.SSLContext | bool:
    """What the client verifies the target's TLS certificate with: httpx's default (certifi's
    certificates) for an ``https`` target; a plain-HTTP target negotiates no TLS (redirects are not
    followed), so a context that trusts no certificate (a handshake would fail, never go unverified)
    spares loading certifi's 150, 0.05 s of CPU per process. A proxy from the environment that speaks
    TLS is reached with httpcore's own default context, never this one."""
    if base_url.lower().startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


def bound_exchanges(client: httpx.Client) -> None:
    """Bound every connection of ``client`` (its own pool and those of proxies from the environment)
    by :func:`exchange_deadline`. httpx offers no public hook for a network backend, so this replaces
    the one of each pool; it fails loudly, rather than run unbounded, should httpx or httpcore change."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        if transport is None:  # a mount that says "no proxy"
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if not isinstance(backend, httpcore.NetworkBackend):
            raise RuntimeError(
                f"cannot bound the exchanges of {type(transport).__name__}: httpx or httpcore changed "
                "(the suite is tested with httpx 0.28 and httpcore 1.0)"
            )
        if not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]


# ---- memory ----------------------------------------------------------------------------------------


class _Inflate:
    """One ``gzip`` or ``deflate`` layer, decompressed in pieces of at most :data:`PIECE` bytes."""

    def __init__(self, encoding: str) -> None:
        self._deflate = encoding == "deflate"
        self._first = True
        # gzip; deflate is zlib-wrapped, or raw from some servers (tried on the first error, as httpx does)
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if self._deflate else zlib.MAX_WBITS | 16)

    def decode(self, data: bytes) -> Iterator[bytes]:
        while not self._zlib.eof:
            try:
                piece = self._zlib.decompress(data, PIECE)
            except zlib.error as error:
                if self._deflate and self._first:
                    self._first = False
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise httpx.DecodingError(f"{'deflate' if self._deflate else 'gzip'}: {error}") from None
            self._first = False
            data = self._zlib.unconsumed_tail
            if piece:
                yield piece
            if not data and len(piece) < PIECE:  # all input taken and nothing left pending
                return

    def flush(self) -> Iterator[bytes]:
        yield from self.decode(b"")


class _Identity:
    def decode(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


def _layers(content_encoding: list[str]) -> list[_Inflate | _Identity]:
    """The decoders of a ``Content-Encoding`` list, in the order they apply (the last encoding first)."""
    names = [name.strip().lower() for name in content_encoding if name.strip()]
    return [_Inflate(name) if name in ("gzip", "x-gzip", "deflate") else _Identity() for name in reversed(names)]


def _decode(layers: list[_Inflate | _Identity], data: bytes | None) -> Iterator[bytes]:
    """``data`` through every layer (``None``: the end, each layer flushed in turn), in pieces."""
    pieces: Iterable[bytes] = [data] if data is not None else []
    for layer in layers:
        pieces = _through(layer, pieces, flush=data is None)
    yield from pieces


def _through(layer: _Inflate | _Identity, pieces: Iterable[bytes], *, flush: bool) -> Iterator[bytes]:
    for piece in pieces:
        yield from layer.decode(piece)
    if flush:
        yield from layer.flush()


def read_body(response: httpx.Response, cap: int = BODY_CAP) -> bytes:
    """The body of a streamed ``response``, decompressed; :class:`Oversize` past ``cap`` bytes on the
    wire or decompressed (the rest is never read: closing the response drops the connection)."""
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > cap:
        raise Oversize(f"the answer declares Content-Length: {declared}, over {cap} bytes")
    layers = _layers(response.headers.get_list("content-encoding", split_commas=True))
    body = bytearray()
    wire = 0
    try:
        for chunk in itertools.chain(response.iter_raw(), [None]):
            if chunk is not None:
                wire += len(chunk)
                if wire > cap:
                    raise Oversize(f"the answer is over {cap} bytes")
            for piece in _decode(layers, chunk):
                body += piece
                if len(body) > cap:
                    raise Oversize(f"the answer decompresses to over {cap} bytes ({wire} bytes read)")
    except BaseException:
        body.clear()  # the exception's traceback keeps this frame, and the failure report keeps the exception
        raise
    finally:
        collect_now_and_then(wire + len(body))
    return bytes(body)


_read = {"bytes": 0}
_read_lock = threading.Lock()


def collect_now_and_then(size: int) -> None:
    """Count ``size`` bytes read; past :data:`COLLECT_EVERY` since the last time, collect the garbage."""
    with _read_lock:
        _read["bytes"] += size
        due = _read["bytes"] >= COLLECT_EVERY
        if due:
            _read["bytes"] = 0
    if due:
        gc.collect()
