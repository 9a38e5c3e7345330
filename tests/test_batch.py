"""Batches of refused requests: sent together in a bounded pool, the state read once before and once
after, and a change traced back to the exact request that made it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from conformance import config
from conformance.batch import ANSWER, POOL, REJECTION, Batcher, Probe
from conformance.client import Client
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
    todo = {f"t{i}": (REJECTION, [Probe(body={"name": ""}, key=None)]) for i in range(40)}
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
    batcher.run({f"a{i}": (ANSWER, [Probe(content=b"{", key=None)]) for i in range(5)})
    assert app.served == 5
    assert all(a.changed is None for a in batcher.answers.values())


def test_an_error_belongs_to_the_test_of_its_request(target: tuple[Counting, Client]) -> None:
    _app, client = target
    batcher = _batcher(client)
    batcher.run({"bad": (ANSWER, [Probe(method="DELETE")]), "good": (ANSWER, [Probe(body={})])})
    with pytest.raises(Exception, match="DELETE"):
        _ = batcher.answers["bad"].exchange
    assert batcher.answers["good"].exchange.status == 200
