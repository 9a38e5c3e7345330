"""Schemathesis property tests over the spec: strict positive, spec positive and negative data,
pinned to the configured collection, judged by the schemathesis checks that apply and by what each
body allows (see :mod:`conformance.fuzzing`).

Every request goes through the suite's client, so it is recorded, redacted and shown as ``curl``;
the key is never part of a generated case. Accepted bodies change only the configured collection,
which the ``target`` fixture restores at the end of the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given, reject

from conformance import checks, fuzzing, profiles, rules
from conformance.client import Client, Exchange
from conformance.config import Settings
from conformance.rules import JSON
from conformance.suite.support import fields

if TYPE_CHECKING:  # schemathesis is imported when a test draws its first case, not at collection
    from conformance.fuzzing import Case

#: Example counts relative to the profile's (quick 8, default 30, thorough 300 at weight 1).
WEIGHTS = {"strict": 3.0, "spec": 2.0, "negative": 4.0}


class _Session:
    """Sends the examples of one test, knowing the collection's state between them.

    With ``defer``, a refused example is not followed by a read: the state is read once at the end of
    the test and, should it have changed, the refused bodies are sent again one by one from the state
    they started from, between two reads, to name the one that changed it (VAL-12)."""

    def __init__(self, api: Client, *, defer: bool = False) -> None:
        self.api = api
        self.known: dict[str, JSON] | None = None
        self.defer = defer
        self.start: dict[str, JSON] | None = None
        self.refused: list[bytes] = []
        self.accepted = False  # an example was accepted: the state is no longer known

    def read(self) -> dict[str, JSON]:
        return fields(checks.collection("RESP-1", self.api.get(), self.api.settings.collection_id))

    def send(self, content: bytes) -> Exchange:
        return self.api.send("PATCH", content=content, content_type=fuzzing.MEDIA_TYPE)

    def exercise(self, case: Case, expectation: fuzzing.Expectation) -> None:
        before = self.known or self.read()
        if self.defer and self.start is None:
            self.start = before
        self.known = None  # unknown until this example ends well
        exchange = self.send(expectation.content)
        if exchange.status < 400:
            self.accepted = True
        fuzzing.judge(case, exchange, expectation)
        if exchange.status < 300:
            returned = fields(checks.collection("RESP-1", exchange, self.api.settings.collection_id))
            read = self.api.get()
            stored = fields(checks.collection("RESP-1", read, self.api.settings.collection_id))
            checks.applied(expectation.body or {}, before, returned, stored, exchange, read, soft=False)
            self.known = stored
            return
        if exchange.status in rules.ERRORS:
            checks.envelope("RESP-2", exchange)
        if exchange.status == 422 and expectation.body is not None:  # a non-object body: VAL-9, a SHOULD
            checks.error_code("VAL-10", exchange, 422, "a rejected body is a VALIDATION_ERROR")
        if self.defer:
            self.refused.append(expectation.content)
            self.known = before
            return
        read = self.api.get()
        stored = fields(checks.collection("RESP-1", read, self.api.settings.collection_id))
        checks.fields_equal(
            "VAL-12", f"a rejected request (HTTP {exchange.status}) changes nothing", before, stored, exchange, read
        )
        self.known = stored

    def verify_refused(self) -> None:
        """The deferred check of the refused examples: nothing changed, or the one that changed it."""
        if not self.defer or self.accepted or not self.refused or self.start is None:
            return
        start, now = self.start, self.read()
        if now == start:
            checks.holds("VAL-12")
            return
        for content in dict.fromkeys(self.refused):
            changed = {k: v for k, v in start.items() if now.get(k) != v}
            if changed:
                self.api.patch(changed)
            before_exchange = self.api.get()
            before = fields(checks.collection("RESP-1", before_exchange, self.api.settings.collection_id))
            exchange = self.send(content)
            read = self.api.get()
            now = fields(checks.collection("RESP-1", read, self.api.settings.collection_id))
            title = f"a rejected request (HTTP {exchange.status}) changes nothing"
            checks.fields_equal("VAL-12", title, before, now, exchange, read)  # raises: the culprit found
        checks.fail(
            checks.violation(
                "VAL-12",
                f"the collection changed while {len(self.refused)} negative examples were refused, though none changed it "
                "when sent again alone",
                "the collection as before the examples",
                "; ".join(f"{k} = {checks.show(v)}" for k, v in now.items()),
            )
        )


@pytest.mark.requirement("RESP-1", "RESP-3", "VAL-3", "VAL-6", "SEM-1", "SEM-2", "SEM-3", "SEM-4", "SEM-6")
def test_strict_positive_data_is_accepted_and_stored_exactly(settings: Settings, api: Client) -> None:
    """Bodies every conformant server must accept (no freedom taken) get 2xx and the collection
    object, hold exactly what was sent, and persist; the responses match the spec."""
    session = _Session(api)

    @profiles.property_test(settings, WEIGHTS["strict"])
    @given(case=fuzzing.cases(settings, "strict"))
    @profiles.example
    def check(case: Case) -> None:
        if not fuzzing.only_body_varies(case):
            raise RuntimeError(f"the strict generation varied more than the body: {case!r}")
        session.exercise(case, fuzzing.expect_valid(fuzzing.encode(case.body), "strict", settings.track_ids))

    check()  # a failure hypothesis could not replay still names its rule: see conformance.outcomes


@pytest.mark.requirement("RESP-1", "RESP-2", "RESP-3", "VAL-10", "VAL-12", "SEM-1", "SEM-3", "SEM-6")
def test_spec_positive_data_is_accepted_or_refused_as_a_freedom_allows(settings: Settings, api: Client) -> None:
    """Schemathesis' positive data of the open spec (unknown fields, any URL, any track id, any
    characters) gets 2xx, or the 422 (404 for an unknown track) of the freedom the body takes;
    never a 5xx; an accepted body is stored exactly, a refused one changes nothing."""
    session = _Session(api)

    @profiles.property_test(settings, WEIGHTS["spec"])
    @given(case=fuzzing.cases(settings, "spec"))
    @profiles.example
    def check(case: Case) -> None:
        assume(fuzzing.only_body_varies(case) and case.media_type == fuzzing.MEDIA_TYPE)
        try:
            expectation = fuzzing.expect_valid(fuzzing.encode(case.body), "spec", settings.track_ids)
        except ValueError:  # schemathesis drew a body the field rules reject: not positive data
            reject()
        session.exercise(case, expectation)

    check()  # a failure hypothesis could not replay still names its rule: see conformance.outcomes


@pytest.mark.requirement("RESP-2", "RESP-3", "VAL-1", "VAL-2", "VAL-4", "VAL-5", "VAL-6", "VAL-7", "VAL-8", "VAL-10", "VAL-12")
def test_negative_data_is_rejected_and_changes_nothing(settings: Settings, api: Client) -> None:
    """Bodies that break a rule (wrong types, out-of-range lengths, non-``mtrack_`` ids, non-objects,
    bytes that are not JSON) get the status the rule asks for, the error envelope, and change nothing
    (read once at the end: see ``_Session``)."""
    session = _Session(api, defer=True)

    @profiles.property_test(settings, WEIGHTS["negative"])
    @given(case=fuzzing.cases(settings, "negative"))
    @profiles.example
    def check(case: Case) -> None:
        assume(fuzzing.only_body_varies(case) and case.media_type == fuzzing.MEDIA_TYPE)
        expectation = fuzzing.expect_invalid(fuzzing.encode(case.body), settings.track_ids)
        assume(expectation is not None)  # some conformant server could accept this body: not negative data
        assert expectation is not None
        session.exercise(case, expectation)

    try:
        check()  # a failure hypothesis could not replay still names its rule: see conformance.outcomes
    finally:
        session.verify_refused()
