"""Bounds that hold whatever the target sends: time per exchange and per run, memory per answer.

The client is tried in this process against small loopback servers (``tests/misbehaving.py``) that
trickle, stream without end or send compression bombs; then the suite is run as a user runs it, in a
subprocess, and its wall time or peak memory (the child's own ``ru_maxrss``) is measured.
"""

from __future__ import annotations

import functools
import gzip
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import config, transport
from conformance.client import BrokenResponse, Client, Exchange, OutOfTime, Recorder, TargetError
from conformance.stub.app import Request
from conformance.transport import BODY_CAP, Oversize, read_body

from .conftest import ROOT, SuiteRun, clean_environ
from .misbehaving import Misbehaving, Respond, raw, well_formed

MiB = 1024 * 1024
GiB = 1024 * MiB


def head(status: int = 200, headers: dict[str, str] | None = None) -> bytes:
    """A status line and headers (``Connection: close``), no body."""
    lines = [f"HTTP/1.1 {status} X", *(f"{name}: {value}" for name, value in (headers or {}).items()), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def trickle(data: bytes, every: float, first: bytes = b"") -> Iterator[bytes]:
    """``first`` at once, then ``data`` one byte at a time, ``every`` seconds apart (lazily: the server
    sends each byte as it is produced)."""
    if first:
        yield first
    for byte in data:
        time.sleep(every)
        yield bytes([byte])


def endless(first: bytes, piece: bytes = bytes(64 * 1024)) -> Iterator[bytes]:
    """``first``, then ``piece`` again and again, for as long as the client reads."""
    yield first
    while True:
        yield piece


@functools.cache
def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped (about a thousandth of ``size``)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MiB)
    return b"".join([*(compressor.compress(zeros) for _ in range(size // MiB)), compressor.flush()])


def client_for(server: Misbehaving, **options: Any) -> Client:
    seed = server.seed()
    values = {k: seed[k] for k in ("base_url", "api_key", "org_id", "collection_id")}
    return Client(config.load({**values, **{k: str(v) for k, v in options.items()}}, {}))


def timed(call: Any) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as error:
        return error, time.monotonic() - started
    return None, time.monotonic() - started


# ---- time: one exchange ------------------------------------------------------------------------


def test_a_body_trickling_faster_than_the_read_timeout_is_cut_at_the_request_timeout() -> None:
    """A byte every 0.4 s never trips a per-read timeout of 1.5 s; the exchange as a whole is cut at 1.5 s."""
    body = b'{"id": "' + b"x" * 200 + b'"}'

    def answer(request: Request) -> Iterator[bytes]:
        return trickle(body, 0.4, first=head(headers={"Content-Length": str(len(body))}))

    with Misbehaving(respond=answer) as server:
        client = client_for(server, request_timeout=1.5)
        try:
            error, seconds = timed(client.get)
        finally:
            client.close()
    assert isinstance(error, TargetError), error
    assert not isinstance(error, BrokenResponse)
    assert 1.4 < seconds < 2.5, f"{seconds:.2f} s for --request-timeout 1.5"
    assert "no complete answer within --request-timeout 1.5 s" in str(error)
    assert server.base_url in str(error)


def test_trickling_headers_are_cut_at_the_request_timeout_too() -> None:

    def answer(request: Request) -> Iterator[bytes]:
        return trickle(head(headers={"Content-Length": "2"}) + b"{}", 0.3)

    with Misbehaving(respond=answer) as server:
        client = client_for(server, request_timeout=1)
        try:
            error, seconds = timed(client.get)
        finally:
            client.close()
    assert isinstance(error, TargetError), error
    assert 0.9 < seconds < 1.8, f"{seconds:.2f} s for --request-timeout 1"


def test_max_time_cuts_a_request_that_is_under_way() -> None:
    body = b"{" + b" " * 100 + b"}"

    def answer(request: Request) -> Iterator[bytes]:
        return trickle(body, 0.2, first=head(headers={"Content-Length": str(len(body))}))

    with Misbehaving(respond=answer) as server:
        client = client_for(server, request_timeout=30, max_time=1)
        try:
            error, seconds = timed(client.get)
        finally:
            client.close()
    assert isinstance(error, OutOfTime), error
    assert seconds < 1.6, f"{seconds:.2f} s for --max-time 1"
    assert "cut short: --max-time 1 s is spent" in str(error)


def test_a_fresh_budget_lets_the_restore_run_past_max_time_and_still_bounds_it() -> None:
    slow = {"on": False}

    def respond(request: Request) -> Any:
        if slow["on"]:
            return trickle(b" " * 50, 0.1, first=head(headers={"Content-Length": "50"}))
        return well_formed(server.app.handle(request))

    with Misbehaving(respond=respond) as server:
        client = client_for(server, request_timeout=30, max_time=0.3)
        try:
            time.sleep(0.4)
            with pytest.raises(OutOfTime, match=r"not sent: --max-time 0\.3 s is spent"):
                client.get()
            client.fresh_budget(10)
            assert client.get().status == 200
            slow["on"] = True
            client.fresh_budget(0.8)
            error, seconds = timed(client.get)
        finally:
            client.close()
    assert isinstance(error, OutOfTime), error
    assert "the 0.8 s bound of the restore is spent" in str(error)
    assert seconds < 1.4


def test_every_pool_of_the_client_is_bounded_and_an_unknown_transport_is_refused() -> None:
    proxied = httpx.Client(mounts={"http://": httpx.HTTPTransport(proxy="http://127.0.0.1:9")})
    try:
        transport.bound_exchanges(proxied)
        pools = [t._pool for t in [proxied._transport, *proxied._mounts.values()] if t is not None]  # type: ignore[attr-defined]
        assert len(pools) == 2
        assert all(type(pool._network_backend).__name__ == "_Backend" for pool in pools)
    finally:
        proxied.close()
    mocked = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    try:
        with pytest.raises(RuntimeError, match="cannot bound the exchanges of MockTransport"):
            transport.bound_exchanges(mocked)
    finally:
        mocked.close()


# ---- memory: one answer ------------------------------------------------------------------------


def response(body: bytes, encoding: str | None = None, chunk: int = 4096, length: bool = True) -> httpx.Response:
    headers = {"Content-Encoding": encoding} if encoding else {}
    if length:
        headers["Content-Length"] = str(len(body))
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(b"") if not pieces else _Stream(pieces))


class _Stream(httpx.SyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces


TEXT = ("".join(chr(0x20 + (i * 7919) % 0x5F) for i in range(300_000)) + "é🎵").encode()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, lambda data: data),
        ("identity", lambda data: data),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("deflate, gzip", lambda data: gzip.compress(zlib.compress(data))),
        ("br", lambda data: data),  # not asked for, not decoded: kept as sent, as httpx does without brotli
    ],
)
def test_bodies_are_decoded_as_httpx_decodes_them(encoding: str | None, encode: Any) -> None:
    assert read_body(response(encode(TEXT), encoding)) == TEXT


def test_a_broken_gzip_body_is_a_decoding_error() -> None:
    with pytest.raises(httpx.DecodingError):
        read_body(response(b"not gzip at all", "gzip"))


@pytest.mark.parametrize(
    ("body", "encoding", "length", "message"),
    [
        (bytes(BODY_CAP + 1), None, True, "declares Content-Length: 8388609"),
        (bytes(BODY_CAP + 1), None, False, "the answer is over 8388608 bytes"),
        (gzip_bomb(64 * MiB), "gzip", True, "decompresses to over 8388608 bytes"),
        (gzip.compress(gzip_bomb(64 * MiB)), "gzip, gzip", True, "decompresses to over 8388608 bytes"),
    ],
    ids=["declared", "streamed", "gzip bomb", "nested gzip bomb"],
)
def test_an_answer_over_the_cap_is_refused_without_holding_it(
    body: bytes, encoding: str | None, length: bool, message: str
) -> None:
    answer = response(body, encoding, chunk=64 * 1024, length=length)
    tracemalloc.start()
    try:
        with pytest.raises(Oversize, match=message):
            read_body(answer)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * BODY_CAP + 4 * MiB, f"{peak / MiB:.0f} MiB held while refusing it"


def test_a_body_at_the_cap_is_read() -> None:
    assert len(read_body(response(bytes(BODY_CAP), "identity", chunk=MiB))) == BODY_CAP


@pytest.mark.parametrize("declared", [True, False])
def test_the_client_judges_an_answer_over_the_cap_a_broken_answer_at_once(declared: bool) -> None:
    """1 GiB answered to a PATCH: refused after at most the cap, in well under a second or two."""
    headers = {"Content-Type": "application/json", **({"Content-Length": str(GiB)} if declared else {})}
    with Misbehaving(patch=lambda request: endless(head(headers=headers) + b"[")) as server:
        client = client_for(server)
        try:
            error, seconds = timed(lambda: client.patch({"name": "x"}))
        finally:
            client.close()
    assert isinstance(error, BrokenResponse), error
    assert seconds < 10
    assert "the suite reads at most 8 MiB of an answer" in error.render()
    assert "reproduce: curl -sS -X PATCH" in error.render()
    assert ("declares Content-Length: 1073741824" if declared else "the answer is over 8388608 bytes") in str(error)


def test_the_recorder_holds_a_bounded_amount_of_bodies() -> None:
    recorder = Recorder(keep=50, keep_bytes=10 * MiB)
    for index in range(20):
        recorder.add(Exchange("GET", f"/{index}", (), None, 200, (), bytes(3 * MiB), 1.0))
    kept = recorder.take()
    assert [e.url for e in kept] == ["/17", "/18", "/19"]
    recorder.add(Exchange("GET", "/big", (), None, 200, (), bytes(11 * MiB), 1.0))
    assert [e.url for e in recorder.take()] == ["/big"]  # the last one is always kept


# ---- the suite as a process --------------------------------------------------------------------


def run_measured(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path = ROOT
) -> tuple[SuiteRun, float, float]:
    """``python -m pytest conformance ARGS`` in a subprocess: the run, its wall seconds, and its peak
    resident memory in MiB (``ru_maxrss`` of that child alone, from ``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", *args],
            cwd=cwd, env=clean_environ(env), stdout=out, stderr=err,
        )  # fmt: skip
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = SuiteRun(process.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"))
    return run, seconds, usage.ru_maxrss / 1024


def staging_args(server: Misbehaving, report_dir: Path) -> list[str]:
    seed = server.seed()
    return ["--base-url", seed["base_url"], "--api-key", seed["api_key"], "--org-id", seed["org_id"],
            "--collection-id", seed["collection_id"], "--report-dir", str(report_dir)]  # fmt: skip


def test_a_trickling_answer_under_max_time_30_ends_the_run_within_90_s(tmp_path: Path) -> None:
    """Every PATCH is answered a byte every 4 s, under a 5 s request timeout: no read ever times out."""

    def patch(request: Request) -> Iterator[bytes]:
        return trickle(b" " * 4000, 4, first=head(headers={"Content-Type": "application/json", "Content-Length": "4000"}))

    with Misbehaving(patch=patch) as server:
        run, seconds, _ = run_measured(*staging_args(server, tmp_path), "--request-timeout", "5", "--max-time", "30", timeout=150)
    assert seconds < 90, f"{seconds:.0f} s"
    assert run.returncode == 3, run.output[-3000:]
    # it ends on the time bound, or sooner: three answers in a row that never complete are a target down
    assert "--max-time 30 s exceeded" in run.output or "stopped answering" in run.output, run.output[-3000:]
    assert "no complete answer within --request-timeout 5 s" in run.output
    assert "collection unchanged; nothing to restore" in run.output


MEMORY_LIMIT_MIB = 512
#: The PATCH-heavy tests of one module, one example each: a few dozen PATCHes.
SOME = ("-k", "test_responses", "--examples", "1")


def huge_answer(kind: str) -> Respond:
    """How the target answers every PATCH: 1 GiB (declared, or streamed without a length), a gzip bomb
    that inflates to 1 GiB, or a body of just under the cap, which is read, recorded and judged."""
    json_type = {"Content-Type": "application/json"}
    if kind == "just under the cap":
        under = raw(200, b"{" + b" " * (BODY_CAP - 2) + b"}")
        return lambda request: under
    if kind == "1 GiB gzip bomb":
        bomb = gzip_bomb(GiB)
        inflating = head(headers={**json_type, "Content-Encoding": "gzip", "Content-Length": str(len(bomb))}) + bomb
        return lambda request: inflating
    declared = {"Content-Length": str(GiB)} if kind == "1 GiB declared" else {}
    return lambda request: endless(head(headers={**json_type, **declared}) + b'{"name": "')


@pytest.mark.parametrize("kind", ["1 GiB declared", "1 GiB streamed", "1 GiB gzip bomb", "just under the cap"])
def test_huge_answers_to_patch_keep_the_suite_under_512_mib(kind: str, tmp_path: Path) -> None:
    with Misbehaving(patch=huge_answer(kind)) as server:
        run, seconds, peak = run_measured(*staging_args(server, tmp_path), *SOME, timeout=300)
    assert peak < MEMORY_LIMIT_MIB, f"peak {peak:.0f} MiB"
    assert run.returncode == 1, run.output[-3000:]  # a broken answer is a verdict on the target
    assert kind == "just under the cap" or "the suite reads at most 8 MiB of an answer" in run.output
    assert "INTERNALERROR" not in run.output
    print(f"{kind}: peak {peak:.0f} MiB, {seconds:.1f} s")
