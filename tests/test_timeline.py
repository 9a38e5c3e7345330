"""The measuring aids of scripts/benchmark.py: the longest sequential chain, the stub's latency and traffic count."""

from __future__ import annotations

import http.client
import itertools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.cli import build_parser
from conformance.client import Exchange, Recorder
from conformance.stub import RunningStub, StubApp
from conformance.timeline import Span, longest_chain


def _brute_force(spans: list[Span]) -> int:
    """The size of the largest subset whose spans are pairwise disjoint (each ends before the other starts)."""
    for size in range(len(spans), 0, -1):
        for subset in itertools.combinations(spans, size):
            ordered = sorted(subset)
            if all(a[1] < b[0] for a, b in itertools.pairwise(ordered)):
                return size
    return 0


_SPANS = st.lists(
    st.tuples(st.integers(0, 20), st.integers(0, 6)).map(lambda pair: (float(pair[0]), float(pair[0] + pair[1]))),
    max_size=8,
)


@given(_SPANS)
def test_longest_chain_is_the_largest_set_of_requests_one_after_another(spans: list[Span]) -> None:
    assert longest_chain(spans) == _brute_force(spans)


def test_longest_chain_of_known_timelines() -> None:
    assert longest_chain([]) == 0
    assert longest_chain([(0, 1), (2, 3), (4, 5)]) == 3  # sequential
    assert longest_chain([(0, 10), (1, 2), (3, 4), (5, 6)]) == 3  # one long request beside three short ones
    assert longest_chain([(0, 5), (1, 6), (2, 7)]) == 1  # all at once
    assert longest_chain([(0, 1), (1, 2)]) == 1  # touching is overlapping: no time between them


def _exchange(elapsed_ms: float) -> Exchange:
    return Exchange("GET", "http://target/", (), None, 200, (), b"{}", elapsed_ms)


def test_recorder_counts_sequential_requests_as_a_chain_and_overlapping_ones_as_one() -> None:
    recorder = Recorder()
    for _ in range(3):  # each one answered before the next was sent
        time.sleep(0.002)
        recorder.add(_exchange(1))
    assert recorder.longest_chain() == 3
    for _ in range(4):  # four long requests whose times overlap the three above and each other
        recorder.add(_exchange(60_000))
    assert (recorder.total, recorder.longest_chain()) == (7, 3)


def _request(base_url: str, method: str, path: str) -> tuple[int, bytes, float]:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    started = time.monotonic()
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        connection.close()


def _traffic(stub: RunningStub) -> dict[str, int]:
    status, body, _ = _request(stub.base_url, "GET", "/_stub/traffic")
    assert status == 200
    counts: dict[str, int] = json.loads(body)
    return counts


def test_stub_latency_delays_every_answer_and_concurrent_requests_wait_concurrently() -> None:
    latency = 0.3
    with RunningStub(StubApp(), latency_ms=latency * 1000) as stub:
        path = "/v1/music/org_none/collections/mcoll_none"
        for method in ("GET", "TRACE"):  # two answers of the app: every method token reaches it
            status, _, took = _request(stub.base_url, method, path)
            assert status in (401, 405)
            assert took >= latency
        started = time.monotonic()
        with ThreadPoolExecutor(5) as pool:
            statuses = list(pool.map(lambda _: _request(stub.base_url, "GET", path)[0], range(5)))
        took = time.monotonic() - started
        assert statuses == [401] * 5
        assert latency <= took < 3 * latency, "five concurrent requests must wait out the latency together"
        assert _traffic(stub) == {"requests": 7, "longest_chain": 3}  # two one after another, then five at once


def test_stub_traffic_is_counted_until_reset_and_the_count_is_not_counted() -> None:
    with RunningStub(StubApp()) as stub:
        assert _traffic(stub) == {"requests": 0, "longest_chain": 0}
        for _ in range(3):
            _request(stub.base_url, "GET", "/v1/music/a/collections/b")
        assert _traffic(stub) == {"requests": 3, "longest_chain": 3}
        assert _request(stub.base_url, "DELETE", "/_stub/traffic")[0] == 204
        assert _traffic(stub) == {"requests": 0, "longest_chain": 0}
        assert _request(stub.base_url, "PATCH", "/_stub/traffic")[0] == 405


def test_stub_command_takes_a_latency_and_refuses_a_negative_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["stub", "--latency-ms", "20"]).latency_ms == 20
    assert build_parser().parse_args(["stub"]).latency_ms == 0
    for wrong in ("-1", "soon", "nan"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["stub", "--latency-ms", wrong])
        assert "--latency-ms" in capsys.readouterr().err
    with pytest.raises(ValueError, match="latency_ms"):
        RunningStub(StubApp(), latency_ms=-5)
