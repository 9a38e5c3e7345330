"""Requests whose judgement does not depend on the collection changing in between, sent together.

Most of the suite's requests are answers to be judged on their own: a wrong key, a missing or foreign
id, an invalid or malformed body, an odd input. Sent one by one, each costs a round trip to a staging
server 20 ms away, and so does the read of the state before and after it. A :class:`Batcher` sends
them concurrently instead, in a bounded pool (``--rate-limit`` still holds: every request goes through
the client's pacer), with one read of the state before and one after the batch:

- **rejections** are requests a conformant target must refuse, and a refused request changes nothing
  (VAL-12, AUTH-6, OWN-2...OWN-4). When the state after the batch differs from the state before, the
  batch is split in halves, each sent again between two reads, down to the single requests that
  change the collection, so that the exact request is named;
- **ignored** are requests a conformant target may accept or refuse but must not let change the
  collection (an unknown look-alike field): sent like rejections, with the state compared without
  ``updated_at``, which an accepted PATCH may move;
- **answers** are requests judged by their answer only (odd bodies, content types, paths, methods):
  no state is read around them;
- **lanes** are PATCHes of one field each, judged by their answer and a read right after: one lane
  per field, each lane's requests one after another, the lanes side by side. Only a target seen to
  apply concurrent PATCHes of different fields (SEM-8) gets them side by side; any other gets them
  one lane at a time, so that a lost update is never blamed on another rule.

Each test still judges its own answers, with its own evidence (``conformance.suite`` tests declare
their requests with ``@pytest.mark.probe(factory)`` and read them from the ``answer`` fixture).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from conformance import checks
from conformance.client import MISSING, Client, Exchange
from conformance.config import Secret
from conformance.evidence import CannotJudge
from conformance.fields import JSON, is_rfc3339, timestamp

#: Requests in flight at once: a few, so that a staging server sees a handful of clients, not a flood.
POOL = 8

#: Bytes of answer bodies kept for the tests still to read them; past it, a body over :data:`KEPT_BODY`
#: is kept cut short, so that a target answering every request of a batch with megabytes cannot fill
#: the memory (each answer is read whole first, within the client's cap).
KEPT_BYTES = 32 * 2**20
KEPT_BODY = 64 * 2**10

#: The kinds of batch.
REJECTION, IGNORED, ANSWER, LANE = "rejection", "ignored", "answer", "lane"
#: What an ``ignored`` request may change: ``updated_at``, forward only (a PATCH the target accepts
#: may move it, even one that applies nothing: F6).
MAY_MOVE = {IGNORED: frozenset({"collection.updated_at"})}


@dataclass(frozen=True)
class Probe:
    """One request, as :meth:`conformance.client.Client.send` takes it."""

    method: str = "PATCH"
    body: JSON = MISSING
    content: bytes | None = None
    org_id: str | None = None
    collection_id: str | None = None
    key: Secret | str | None = MISSING
    key_header: str = "X-API-Key"
    content_type: str | None = "application/json"
    headers: Mapping[str, str] | None = None
    #: The path sent exactly as written (dot segments, escapes), instead of ``org_id``/``collection_id``.
    raw_path: str | None = None
    #: For a lane batch: the one field this PATCH sets.
    lane: str | None = None

    def send(self, client: Client) -> Exchange:
        if isinstance(self.key, Secret):  # a key made from a configured one is a secret too
            client.redactor.add(self.key.reveal())
        kwargs: dict[str, Any] = {"org_id": self.org_id, "collection_id": self.collection_id, "key": self.key}
        kwargs.update(key_header=self.key_header, content_type=self.content_type, headers=self.headers)
        if self.raw_path is not None:
            kwargs["raw_path"] = self.raw_path
        if self.method not in ("GET", "PATCH"):  # a bodiless probe of the HTTP layer
            return client.send(self.method, **kwargs)
        if self.content is not None:
            return client.send(self.method, content=self.content, **kwargs)
        return client.send(self.method, body=self.body, **kwargs)

    @functools.cached_property
    def identity(self) -> tuple[object, ...]:
        """What makes two probes the same request: tests that send the same request share one answer
        (a 401 is judged for its envelope by one test and for changing nothing by another). A key is
        told apart by the object it is (a ``Secret`` made afresh is never merged), a body by its JSON
        text (key order, ``1`` and ``1.0`` and ``true`` stay apart); a body JSON cannot write is its own."""
        try:
            body = "" if self.body is MISSING else json.dumps(self.body, allow_nan=True)
        except (TypeError, ValueError):
            body = f"unwritten {id(self)}"
        if isinstance(self.key, Secret):
            key: tuple[object, ...] = ("secret", id(self.key))
        else:
            key = ("configured",) if self.key is MISSING else ("as is", self.key)
        headers = tuple((self.headers or {}).items())
        return (self.method, body, self.body is MISSING, self.content, self.org_id, self.collection_id, key,
                self.key_header, self.content_type, headers, self.raw_path, self.lane)  # fmt: skip


State = dict[str, Any]


@dataclass
class Answer:
    """What a test's probes got: an exchange per probe (or the error that prevented it), and for a
    rejection batch whether the state changed, with the exchanges that show it."""

    exchanges: list[Exchange | BaseException]
    kind: str
    changed: bool | None = None  # None: no state read around it (an answer, a lane), or not judged
    #: The reads around the request(s) that prove it: before and after.
    evidence: list[Exchange] = field(default_factory=list)
    #: What changed, ``field: (before, after)``, when it did.
    difference: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: Why the state could not be judged, when it could not.
    unjudged: str = ""
    #: Where each error in ``exchanges`` was raised (its traceback as caught, by index).
    origins: dict[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.origins = {i: e.__traceback__ for i, e in enumerate(self.exchanges) if isinstance(e, BaseException)}

    @property
    def exchange(self) -> Exchange:
        """The first (usually only) exchange; the error that kept it from being sent is raised."""
        return self.get(0)

    def get(self, index: int) -> Exchange:
        found = self.exchanges[index]
        if isinstance(found, BaseException):  # shared by the tests that sent the same request: raised
            raise found.with_traceback(self.origins.get(index))  # from where it happened, not another test's raise
        return found

    def unchanged(self, rule_id: str, title: str) -> None:
        """Record, under ``rule_id``, that the request(s) changed nothing (or what they changed): a refused
        one nothing at all, an ignored one nothing but ``updated_at``, forward."""
        if self.changed is None:
            if self.unjudged:
                raise CannotJudge(self.unjudged)
            return
        received = "; ".join(f"{k} = {checks.show(a)} (was {checks.show(b)})" for k, (b, a) in self.difference.items())
        shown = [e for e in [*self.evidence, *(x for x in self.exchanges if isinstance(x, Exchange))] if e is not None]
        checks.require(rule_id, not self.changed, title, "the collection exactly as before", received or "(unchanged)", *shown)


Reader = Callable[[], tuple[State, list[Exchange]]]
Writer = Callable[[State, State], None]


class Batcher:
    """Sends the probes of many tests together and keeps each test's answer until it asks for it.

    ``read_state`` reads what a refused request must leave as it was; ``put_back(before, now)`` writes
    ``before`` back where ``now`` differs (a request that changed it is sent again from the same state,
    so that even one that writes the value it wrote before shows; and a foreign collection a broken
    target let the suite change is put back at once)."""

    def __init__(
        self,
        client: Client,
        read_state: Reader,
        put_back: Writer,
        *,
        prepare: Callable[[], object] = lambda: None,
        side_by_side: Callable[[], bool] = lambda: False,
        pool: int = POOL,
    ) -> None:
        self.client = client
        self.read_state = read_state
        self.put_back = put_back
        #: Called before a batch of refusals: gives the collection a state in which any applied field shows.
        self.prepare = prepare
        #: Whether lanes may run side by side (the target was seen to keep SEM-8).
        self.side_by_side = side_by_side
        self.pool = pool
        self.answers: dict[str, Answer] = {}
        self.sent = 0
        self._kept = 0  # bytes of bodies kept so far (see KEPT_BYTES)
        self._ignore: frozenset[str] = frozenset()  # what the batch being judged may move
        self._carried: tuple[State, list[Exchange]] | None = None  # the state the last batch left, just read
        self._lock = threading.Lock()

    def run(self, todo: Mapping[str, tuple[str, Sequence[Probe]]]) -> None:
        """Send the probes of every test in ``todo`` (node id -> kind and probes), one batch per kind."""
        self._carried = None
        for kind in (REJECTION, IGNORED, ANSWER, LANE):
            chosen = {nodeid: list(probes) for nodeid, (k, probes) in todo.items() if k == kind and nodeid not in self.answers}
            if chosen and kind == LANE:
                self._carried = None
                self._lanes(chosen)
            elif chosen:
                self._batch(kind, chosen)

    def _cut(self, exchange: Exchange) -> Exchange:
        """``exchange``, its body cut short when it is large and :data:`KEPT_BYTES` are kept already."""
        size = len(exchange.response_body)
        with self._lock:
            cut = self._kept + size > KEPT_BYTES and size > KEPT_BODY
            self._kept += KEPT_BODY if cut else size
        if cut:
            note = (
                f"... (cut short by the suite, which keeps {KEPT_BYTES // 2**20} MiB of a batch's answers: {size} bytes in all)"
            )
            exchange = dataclasses.replace(exchange, response_body=exchange.response_body[:KEPT_BODY] + note.encode())
        return exchange

    def _lanes(self, chosen: Mapping[str, list[Probe]]) -> None:
        lanes: dict[str, list[tuple[str, Probe]]] = {}
        for nodeid, probes in chosen.items():
            for probe in probes:
                lanes.setdefault(probe.lane or "", []).append((nodeid, probe))

        def run(lane: list[tuple[str, Probe]]) -> None:
            sent: dict[tuple[object, ...], list[Exchange | BaseException]] = {}  # the same PATCH is sent once
            for nodeid, probe in lane:
                if probe.identity in sent:
                    self.answers[nodeid] = Answer(sent[probe.identity], LANE)
                    continue
                got = sent[probe.identity] = []
                try:
                    got.append(self._cut(probe.send(self.client)))
                    self.sent += 1
                    if isinstance(got[0], Exchange) and got[0].status < 300:
                        got.append(self._cut(Probe(method="GET").send(self.client)))
                        self.sent += 1
                except Exception as error:  # kept for the test it belongs to
                    got.append(error)
                self.answers[nodeid] = Answer(got, LANE)

        if self.side_by_side() and len(lanes) > 1:
            with ThreadPoolExecutor(max_workers=len(lanes)) as workers:
                list(workers.map(run, lanes.values()))
        else:
            for lane in lanes.values():
                run(lane)

    def _send_all(self, probes: Sequence[tuple[str, int, Probe]]) -> dict[tuple[str, int], Exchange | BaseException]:
        """Send each distinct request of ``probes`` once (see :meth:`Probe.identity`); every probe gets its answer."""

        def one(probe: Probe) -> Exchange | BaseException:
            try:
                return self._cut(probe.send(self.client))  # at once: a batch of large answers never piles up
            except Exception as error:  # kept for the test it belongs to, which raises it
                return error

        distinct: dict[tuple[object, ...], Probe] = {}
        for _, _, probe in probes:
            distinct.setdefault(probe.identity, probe)
        self.sent += len(distinct)
        with ThreadPoolExecutor(max_workers=max(1, min(self.pool, len(distinct)))) as workers:
            results = dict(zip(distinct, workers.map(one, distinct.values()), strict=True))
        return {(nodeid, index): results[probe.identity] for nodeid, index, probe in probes}

    def _batch(self, kind: str, chosen: Mapping[str, list[Probe]]) -> None:
        flat = [(nodeid, index, probe) for nodeid, probes in chosen.items() for index, probe in enumerate(probes)]
        carried, self._carried = self._carried, None
        self._ignore = MAY_MOVE.get(kind, frozenset())  # what this batch's requests may move
        if kind == ANSWER:
            got = self._send_all(flat)
            for nodeid, probes in chosen.items():
                self.answers[nodeid] = Answer([got[(nodeid, i)] for i in range(len(probes))], kind)
            return
        try:
            if carried is None:
                self.prepare()
                before, reads = self._read_twice()
            else:  # the read after the batch before, with nothing sent since
                before, reads = carried
        except Exception as error:  # the first test recorded what the target answered, if it was a violation
            got = self._send_all(flat)
            for nodeid, probes in chosen.items():
                self.answers[nodeid] = Answer(
                    [got[(nodeid, i)] for i in range(len(probes))], kind, unjudged=f"the state could not be read: {error}"
                )
            return
        got = self._send_all(flat)
        after, after_reads = self._read_or(before)
        if not after_reads:  # the state after could not be read: what the batch changed is not known
            for nodeid, probes in chosen.items():
                self.answers[nodeid] = Answer(
                    [got[(nodeid, i)] for i in range(len(probes))], kind, unjudged="the state after the batch could not be read"
                )
            return
        changed = self._difference(before, after)
        culprits: dict[str, tuple[dict[str, tuple[Any, Any]], list[Exchange]]] = {}
        if changed:
            self._bisect(list(chosen), chosen, before, after, culprits)
            self._put_back(before, self._read_or(before)[0])
        for nodeid, probes in chosen.items():
            found = culprits.get(nodeid)
            answer = Answer([got[(nodeid, i)] for i in range(len(probes))], kind, changed=found is not None)
            answer.evidence = found[1] if found else [*reads[:1], *after_reads[:1]]  # the collection's own reads
            answer.difference = found[0] if found else {}
            self.answers[nodeid] = answer
        if changed and not culprits:  # changed when sent together, by no request sent again alone
            self._unattributed(chosen, changed, [*reads[:1], *after_reads[:1]])
        if not changed and all(isinstance(g, Exchange) for g in got.values()):
            self._carried = (after, after_reads)  # the next batch starts from this state (no request left unanswered)

    def _unattributed(
        self, chosen: Mapping[str, list[Probe]], changed: dict[str, tuple[Any, Any]], reads: list[Exchange]
    ) -> None:
        """The batch changed the collection but no request alone did when sent again (a timestamp of
        whole seconds, say). The requests the target did not refuse are the ones that may change it;
        when every request was refused, none of them can be judged."""
        accepted = [
            n for n in chosen if any(isinstance(e, Exchange) and not 400 <= e.status < 500 for e in self.answers[n].exchanges)
        ]
        for nodeid in chosen:
            answer = self.answers[nodeid]
            if accepted:
                answer.changed = nodeid in accepted
                answer.difference = changed if answer.changed else {}
                answer.evidence = reads
            else:
                answer.changed = None
                answer.unjudged = (
                    f"not judged: the collection changed ({', '.join(changed)}) while {len(chosen)} refused requests were "
                    "sent together, and no single one changed it when sent again alone"
                )

    def _read_twice(self) -> tuple[State, list[Exchange]]:
        """The state, read again once should the first read fail (a passing fault is not the batch's)."""
        try:
            return self.read_state()
        except Exception:
            return self.read_state()

    def _read_or(self, fallback: State) -> tuple[State, list[Exchange]]:
        try:
            return self.read_state()
        except Exception:
            return fallback, []

    def _put_back(self, before: State, now: State) -> None:
        if self._difference(before, now):
            with contextlib.suppress(Exception):  # the final restore tries again; no test is to blame for it
                self.put_back(before, now)

    def _step(
        self, nodeids: list[str], chosen: Mapping[str, list[Probe]], origin: State, now: State
    ) -> tuple[State, State, list[Exchange]]:
        """From the state of ``origin``, send the probes of ``nodeids``; returns the state before, after, and the reads."""
        self._put_back(origin, now)
        before, reads = self._read_or(origin)
        self._send_all([(n, i, p) for n in nodeids for i, p in enumerate(chosen[n])])
        after, after_reads = self._read_or(before)
        return before, after, [*reads[:1], *after_reads[:1]]

    def _bisect(
        self,
        nodeids: list[str],
        chosen: Mapping[str, list[Probe]],
        origin: State,
        now: State,
        culprits: dict[str, tuple[dict[str, tuple[Any, Any]], list[Exchange]]],
    ) -> State:
        """Send the probes of ``nodeids`` again in halves, each from the state ``origin`` and between two
        reads, down to the tests whose probes alone change the collection; returns the state last read."""
        if len(nodeids) == 1:
            before, after, reads = self._step(nodeids, chosen, origin, now)
            difference = self._difference(before, after)
            if difference:
                culprits[nodeids[0]] = (difference, reads)
            return after
        half = len(nodeids) // 2
        for part in (nodeids[:half], nodeids[half:]):
            before, after, _ = self._step(part, chosen, origin, now)
            now = self._bisect(part, chosen, origin, after, culprits) if self._difference(before, after) else after
        return now

    def _difference(self, before: State, after: State) -> dict[str, tuple[Any, Any]]:
        """What differs, but for a timestamp the kind of the batch being judged may move forward
        (:data:`MAY_MOVE`)."""
        keys = sorted(set(before) | set(after))
        return {
            k: (before.get(k), after.get(k))
            for k in keys
            if before.get(k) != after.get(k) and not (k in self._ignore and _forward(before.get(k), after.get(k)))
        }


def _forward(before: Any, after: Any) -> bool:
    """Whether the timestamp ``after`` is the same instant as ``before`` or later."""
    return is_rfc3339(before) and is_rfc3339(after) and timestamp(after) >= timestamp(before)
