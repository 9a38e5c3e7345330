"""Schemathesis property tests over the spec: strict positive, spec positive and negative data,
pinned to the configured collection, judged by the schemathesis checks that apply and by what each
body allows (see :mod:`conformance.fuzzing`).

Every request goes through the suite's client, so it is recorded, redacted and shown as ``curl``;
the key is never part of a generated case. Accepted bodies change only the configured collection,
which the ``target`` fixture restores at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from hypothesis import given

from conformance import checks, drawn, evidence, fuzzing, profiles
from conformance.batch import REJECTION, Batcher, Probe
from conformance.checks import Violation
from conformance.client import Client, Exchange
from conformance.config import Settings
from conformance.fields import ERRORS, JSON
from conformance.suite.support import fields

if TYPE_CHECKING:  # schemathesis is imported when a test draws its first case, not at collection
    from conformance.fuzzing import Case


class _Session:
    """Sends the examples of one test, knowing the collection's state between them.

    With ``fast``, an example costs one request: its 200 body must be the state expected (the state
    before, with what was sent), and one read at the end (:meth:`settle`) shows the last state
    persists. Anything else makes it a *suspect*, and the test runs the examples again one by one,
    each followed by a read, so that the rule broken is named exactly and hypothesis shrinks it."""

    def __init__(self, api: Client, *, fast: bool = False) -> None:
        self.api = api
        self.known: dict[str, JSON] | None = None
        self.fast = fast
        self.suspect: Exchange | None = None
        self.last: Exchange | None = None

    def read(self) -> dict[str, JSON]:
        return fields(checks.collection("RESP-1", self.api.get(), self.api.settings.collection_id))

    def exercise(self, case: Case, expectation: fuzzing.Expectation) -> None:
        if self.suspect is not None:
            return  # the examples run again one by one: see settle
        before = self.known or self.read()
        self.known = None  # unknown until this example ends well
        exchange = self.api.send("PATCH", content=expectation.content, content_type=fuzzing.MEDIA_TYPE)
        if exchange.status >= 300:
            _refused(case, exchange, expectation)
        else:
            fuzzing.judge(case, exchange, expectation)
        if self.fast:
            if exchange.status >= 300:  # refused: the next 200, or the read at the end, shows it changed nothing
                self.known = before
                return
            returned = fields(checks.collection("RESP-1", exchange, self.api.settings.collection_id))
            sent = {k: v for k, v in (expectation.body or {}).items() if k in before}
            if returned != {**before, **sent}:
                self.suspect = exchange
                return
            self.known, self.last = returned, exchange
            return
        read = self.api.get()
        stored = fields(checks.collection("RESP-1", read, self.api.settings.collection_id))
        if exchange.status < 300:
            returned = fields(checks.collection("RESP-1", exchange, self.api.settings.collection_id))
            checks.applied(expectation.body or {}, before, returned, stored, exchange, read, soft=False)
        else:
            checks.fields_equal(
                "VAL-12", f"a rejected request (HTTP {exchange.status}) changes nothing", before, stored, exchange, read
            )
        self.known = stored

    def settle(self) -> Exchange | None:
        """After the fast examples: the read that shows the last state persists; returns the exchange
        that did not add up (``None``: every example did)."""
        if self.suspect is None and self.known is not None:
            read = self.api.get()
            stored = fields(checks.collection("RESP-1", read, self.api.settings.collection_id))
            if stored != self.known:
                self.suspect = self.last or read
        return self.suspect


def _under_hypothesis(settings: Settings, kind: str, session: Callable[[], _Session]) -> Callable[[], None]:
    """The property test of ``kind`` as hypothesis runs it: every example it draws (the cases of
    ``conformance.drawn``, from the same seed) sent through ``session()``, and shrunk should one fail."""

    @profiles.property_test(settings, drawn.WEIGHTS[kind])
    @given(case=fuzzing.cases(settings, kind))
    @profiles.example
    def check(case: Case) -> None:
        session().exercise(case, drawn.expectation(settings, kind, case))

    return check


def _run_fast_then_exact(settings: Settings, api: Client, kind: str, title: str) -> None:
    """The examples of ``kind`` drawn ahead (``conformance.drawn``), sent fast; if one broke a rule or
    did not add up, the property test (:func:`_under_hypothesis`, which draws the same examples) runs
    them again one by one with a read after each, and hypothesis shrinks what it finds. A violation
    that does not show again stands as it was found; a discrepancy that does not show one by one is
    still a violation of SEM-6 (the 200 body is the state, and persists). A failure hypothesis could
    not replay still names its rule: see ``conformance.outcomes``."""
    from conformance.safety import PROCESS

    sessions = [_Session(api, fast=True)]
    examples = drawn.examples(settings, kind)
    check = _under_hypothesis(settings, kind, lambda: sessions[-1])

    try:
        for case, expectation in examples:
            PROCESS.check()
            sessions[-1].exercise(case, expectation)
            evidence.flush()  # a soft violation of this example counts as one
    except (Violation, evidence.Violations):
        sessions.append(_Session(api))
        check()  # hypothesis finds it again, one by one, and shrinks it
        raise  # it did not show again: the violation found fast stands
    suspect = sessions[-1].settle()
    if suspect is None:
        checks.holds("SEM-6")
        return
    sessions.append(_Session(api))
    check()
    raise checks.violation(
        "SEM-6", f"{title}: an answer was not the state expected, though no example showed it when sent again one by one",
        "each 200 body the state before with what was sent, and a later read the same", suspect.describe(), suspect,
    )  # fmt: skip


@pytest.mark.draws("strict")  # drawn ahead, in a process of its own (conformance.ahead)
@pytest.mark.long(90)  # requests one after another, default profile
@pytest.mark.requirement("RESP-1", "RESP-3", "VAL-3", "VAL-6", "SEM-1", "SEM-2", "SEM-3", "SEM-4", "SEM-6")
def test_strict_positive_data_is_accepted_and_stored_exactly(settings: Settings, api: Client) -> None:
    """Bodies every conformant server must accept (no freedom taken) get 2xx and the collection
    object, hold exactly what was sent, and persist; the responses match the spec."""
    _run_fast_then_exact(settings, api, "strict", "strict positive data")


@pytest.mark.draws("spec")  # drawn ahead, in a process of its own (conformance.ahead)
@pytest.mark.long(60)  # requests one after another, default profile
@pytest.mark.requirement("RESP-1", "RESP-2", "RESP-3", "VAL-10", "VAL-12", "SEM-1", "SEM-3", "SEM-6")
def test_spec_positive_data_is_accepted_or_refused_as_a_freedom_allows(settings: Settings, api: Client) -> None:
    """Schemathesis' positive data of the open spec (unknown fields, any URL, any track id, any
    characters) gets 2xx, or the 422 (404 for an unknown track) of the freedom the body takes;
    never a 5xx; an accepted body is stored exactly, a refused one changes nothing."""
    _run_fast_then_exact(settings, api, "spec", "spec positive data")


@pytest.mark.draws("negative")  # drawn ahead, in a process of its own (conformance.ahead)
@pytest.mark.long(20)  # requests one after another, default profile
@pytest.mark.requirement("RESP-2", "RESP-3", "VAL-1", "VAL-2", "VAL-4", "VAL-5", "VAL-6", "VAL-7", "VAL-8", "VAL-10", "VAL-12")
def test_negative_data_is_rejected_and_changes_nothing(settings: Settings, api: Client, batcher: Batcher) -> None:
    """Bodies that break a rule (wrong types, out-of-range lengths, non-``mtrack_`` ids, non-objects,
    bytes that are not JSON) get the status the rule asks for, the error envelope, and change nothing.

    Their answers do not depend on the collection changing in between, so the examples hypothesis draws
    are sent together (``conformance.batch``: the state read before and after, a change traced to its
    request). Should one break a rule, the examples are run again one by one, so that hypothesis
    shrinks the failure to its smallest body."""
    examples = drawn.examples(settings, "negative")  # drawn ahead (conformance.drawn)
    keys = [f"negative example {i}" for i in range(len(examples))]
    probes = {
        key: (REJECTION, [Probe(content=e.content, content_type=fuzzing.MEDIA_TYPE)])
        for key, (_, e) in zip(keys, examples, strict=True)
    }
    batcher.run(probes)
    try:
        for key, (case, expectation) in zip(keys, examples, strict=True):
            answer = batcher.answers.pop(key)
            _refused(case, answer.exchange, expectation)
            answer.unchanged("VAL-12", f"a rejected request (HTTP {answer.exchange.status}) changes nothing")
    except Violation:
        _one_by_one(settings, api)  # hypothesis finds it again, and shrinks it
        raise  # it did not replay one by one: the violation found together stands


def _refused(case: Case, exchange: Exchange, expectation: fuzzing.Expectation) -> None:
    """The answer to a negative example: the status its rule asks for, the envelope, the code."""
    fuzzing.judge(case, exchange, expectation)
    if exchange.status in ERRORS:
        checks.envelope("RESP-2", exchange)
    if exchange.status == 422 and expectation.body is not None:  # a non-object body: VAL-9, a SHOULD
        checks.error_code("VAL-10", exchange, 422, "a rejected body is a VALIDATION_ERROR")


def _one_by_one(settings: Settings, api: Client) -> None:
    """The negative examples again, each followed by the read that shows what it changed."""
    session = _Session(api)
    _under_hypothesis(settings, "negative", lambda: session)()
