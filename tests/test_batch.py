"""Batches of refused requests: sent together in a bounded pool, the state read once before and once
after, and a change traced back to the exact request that made it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from conformance import config
from conformance.batch import ANSWER, IGNORED, LANE, POOL, REJECTION, Batcher, Probe
from conformance.client import Client, Exchange, TargetError
from conformance.config import Secret
from conformance.evidence import CannotJudge
from conformance.stub import RunningStub, StubApp
from conformance.stub.app import Reply, Request
from conformance.suite.support import put_back, read_state


class Counting(StubApp):
    """The reference stub, counting requests and the most it ever served at once; a request with
    the key ``sk_writes_anyway`` is refused (401) but its body is stored all the same (an AUTH-6 fault)."""

    name = "counting"

    def __init__(self) -> None:
        super().__init__()
        self.count_lock = threading.Lock()
        self.in_flight = self.most = self.served = 0

    def handle(self, request: Request) -> Reply:
        with self.count_lock:
            self.in_flight += 1
            self.served += 1
            self.most = max(self.most, self.in_flight)
        try:
            time.sleep(0.02)  # a remote server: requests in flight overlap
            if request.headers.get("x-api-key") == "sk_writes_anyway":
                collection = self.collections[self.collection_id]
                self.apply(collection, self.parse(request))
                return self.error(401, "Missing or invalid authorization header", {})
            return super().handle(request)
        finally:
            with self.count_lock:
                self.in_flight -= 1


@pytest.fixture
def target() -> Iterator[tuple[Counting, Client]]:
    app = Counting()
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url).as_dict()
        settings = config.load({k: seed[k] for k in ("base_url", "api_key", "org_id", "collection_id")}, {})
        client = Client(settings)
        try:
            yield app, client
        finally:
            client.close()


def _batcher(client: Client) -> Batcher:
    return Batcher(client, lambda: read_state(client), lambda before, now: put_back(client, None, before, now))


def test_refused_requests_go_together_between_two_reads(target: tuple[Counting, Client]) -> None:
    app, client = target
    todo = {f"t{i}": (REJECTION, [Probe(body={"name": ""}, key=None, headers={"X-Probe": str(i)})]) for i in range(40)}
    batcher = _batcher(client)
    batcher.run(todo)
    assert app.served == 40 + 2, "one read before, the requests, one read after"
    assert 1 < app.most <= POOL
    assert all(batcher.answers[f"t{i}"].exchange.status == 401 for i in range(40))
    assert all(batcher.answers[f"t{i}"].changed is False for i in range(40))


def test_a_change_is_traced_to_the_exact_request(target: tuple[Counting, Client]) -> None:
    app, client = target
    todo = {f"t{i}": (REJECTION, [Probe(body={"description": f"probe {i}"}, key=None)]) for i in range(30)}
    todo["t17"] = (REJECTION, [Probe(body={"description": "written anyway"}, key="sk_writes_anyway")])
    batcher = _batcher(client)
    original = app.collections[app.collection_id].description
    batcher.run(todo)
    changed = [n for n, a in batcher.answers.items() if a.changed]
    assert changed == ["t17"]
    assert "collection.description" in batcher.answers["t17"].difference
    assert app.collections[app.collection_id].description == original, "what the batch changed is put back"


def test_even_a_request_that_writes_what_it_wrote_before_is_found(target: tuple[Counting, Client]) -> None:
    """Sent again, the same write changes nothing unless the state it started from is put back first."""
    _app, client = target
    todo = {f"t{i}": (REJECTION, [Probe(body={"name": "same"}, key="sk_writes_anyway" if i == 3 else None)]) for i in range(8)}
    batcher = _batcher(client)
    batcher.run(todo)
    assert [n for n, a in batcher.answers.items() if a.changed] == ["t3"]


def test_answers_are_judged_alone_with_no_read(target: tuple[Counting, Client]) -> None:
    app, client = target
    batcher = _batcher(client)
    batcher.run({f"a{i}": (ANSWER, [Probe(content=b"{" + b" " * i, key=None)]) for i in range(5)})
    assert app.served == 5
    assert all(a.changed is None for a in batcher.answers.values())


def test_an_error_belongs_to_the_test_of_its_request(target: tuple[Counting, Client]) -> None:
    _app, client = target
    batcher = _batcher(client)
    batcher.run({"bad": (ANSWER, [Probe(method="DELETE")]), "good": (ANSWER, [Probe(body={})])})
    with pytest.raises(Exception, match="DELETE"):
        _ = batcher.answers["bad"].exchange
    assert batcher.answers["good"].exchange.status == 200


def test_the_same_request_is_sent_once_and_answers_every_test_that_sends_it(target: tuple[Counting, Client]) -> None:
    """Tests that send the same request share its one answer; requests that differ in anything a
    server could tell apart (key order, ``1`` and ``1.0``, another key object) are each sent."""
    app, client = target
    secret = Secret("sk_not_a_key", "a made-up key")
    todo = {
        "same-1": (ANSWER, [Probe(body={"name": 5}, key=None)]),
        "same-2": (ANSWER, [Probe(body={"name": 5}, key=None)]),
        "order-a": (ANSWER, [Probe(body={"name": 1, "description": 2}, key=None)]),
        "order-b": (ANSWER, [Probe(body={"description": 2, "name": 1}, key=None)]),
        "float": (ANSWER, [Probe(body={"name": 5.0}, key=None)]),
        "true": (ANSWER, [Probe(body={"name": True}, key=None)]),
        "secret-1": (ANSWER, [Probe(body={}, key=secret)]),
        "secret-2": (ANSWER, [Probe(body={}, key=secret)]),
        "secret-new": (ANSWER, [Probe(body={}, key=Secret("sk_not_a_key", "a made-up key"))]),
        "configured-key": (ANSWER, [Probe(body={})]),
        "empty-key": (ANSWER, [Probe(body={}, key="")]),
    }
    batcher = _batcher(client)
    batcher.run(todo)
    assert app.served == 9, "same-2 and secret-2 are the requests of same-1 and secret-1"
    assert batcher.sent == 9
    assert batcher.answers["configured-key"].exchange.status == 200
    assert batcher.answers["empty-key"].exchange.status == 401
    answers = batcher.answers
    assert answers["same-1"].exchange is answers["same-2"].exchange
    assert answers["secret-1"].exchange is answers["secret-2"].exchange
    distinct = {id(answers[n].exchange) for n in ("same-1", "order-a", "order-b", "float", "true", "secret-1", "secret-new")}
    assert len(distinct) == 7
    assert answers["order-a"].exchange.request_body != answers["order-b"].exchange.request_body


def test_a_lane_sends_the_same_patch_once(target: tuple[Counting, Client]) -> None:
    app, client = target
    batcher = _batcher(client)
    same = Probe(body={"description": "twice"}, lane="description")
    batcher.run({"first": (LANE, [same]), "second": (LANE, [Probe(body={"description": "twice"}, lane="description")])})
    assert app.served == 2, "one PATCH and the read after it"
    assert batcher.answers["first"].exchanges == batcher.answers["second"].exchanges


class Ticking(Counting):
    """Every accepted PATCH moves ``updated_at`` a second on, even one that applies nothing (F6)."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0

    def now(self) -> datetime:
        self.ticks += 1
        return super().now() + timedelta(seconds=self.ticks)


def test_ignored_requests_may_move_updated_at_but_a_field_they_change_is_traced() -> None:
    """An ``ignored`` request (an unknown look-alike field) may be accepted, and an accepted PATCH
    may move ``updated_at`` (F6): that is no change; a field it changes is, traced to the exact request."""
    app = Ticking()
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url).as_dict()
        client = Client(config.load({k: seed[k] for k in ("base_url", "api_key", "org_id", "collection_id")}, {}))
        try:
            _look_alikes_and_a_write(app, client)
        finally:
            client.close()


def _look_alikes_and_a_write(app: Ticking, client: Client) -> None:
    moved = app.collections[app.collection_id].updated_at
    todo = {f"look-alike {i}": (IGNORED, [Probe(body={f"Name{i}": "x"})]) for i in range(6)}
    todo["writes"] = (IGNORED, [Probe(body={"description": "applied"}, key="sk_writes_anyway")])
    batcher = _batcher(client)
    original = app.collections[app.collection_id].description
    batcher.run(todo)
    assert [n for n, a in batcher.answers.items() if a.changed] == ["writes"]
    assert all(batcher.answers[f"look-alike {i}"].exchange.status == 200 for i in range(6))
    assert all(batcher.answers[f"look-alike {i}"].changed is False for i in range(6))
    assert set(batcher.answers["writes"].difference) == {"collection.description"}
    assert app.collections[app.collection_id].description == original, "what the batch changed is put back"
    assert app.collections[app.collection_id].updated_at > moved, "the accepted look-alikes moved updated_at"


def test_a_refused_batch_that_changes_nothing_hands_its_last_read_to_the_next(target: tuple[Counting, Client]) -> None:
    """Rejections, then ignored requests: the read after the first batch is the read before the
    second (nothing was sent in between); after a change it is read again."""
    app, client = target
    batcher = _batcher(client)
    todo = {f"r{i}": (REJECTION, [Probe(body={"name": f"r{i}"}, key=None)]) for i in range(4)}
    todo.update({f"i{i}": (IGNORED, [Probe(body={f"Name{i}": "x"})]) for i in range(3)})
    batcher.run(todo)
    assert app.served == 4 + 3 + 3, "a read before, one between, one after"
    assert not any(a.changed for a in batcher.answers.values())
    assert batcher.answers["i0"].evidence[0] is batcher.answers["r0"].evidence[-1]


def test_a_batch_whose_state_after_cannot_be_read_is_not_judged(target: tuple[Counting, Client]) -> None:
    """Without the read after, what the batch changed is not known: neither "changed" nor "unchanged"."""
    _app, client = target
    reads: list[int] = []

    def read_once() -> tuple[dict[str, object], list[Exchange]]:
        reads.append(1)
        if len(reads) > 1:
            raise TargetError("the read after timed out")
        return read_state(client)

    batcher = Batcher(client, read_once, lambda before, now: put_back(client, None, before, now))
    batcher.run({f"t{i}": (REJECTION, [Probe(body={"name": f"t{i}"}, key=None)]) for i in range(3)})
    for answer in batcher.answers.values():
        assert answer.changed is None
        with pytest.raises(CannotJudge, match="after the batch could not be read"):
            answer.unchanged("VAL-12", "a refused request changes nothing")
