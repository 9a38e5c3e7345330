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

from conformance import checks, fuzzing, profiles
from conformance.client import Client
from conformance.config import Settings
from conformance.fields import ERRORS, JSON
from conformance.suite.support import fields

if TYPE_CHECKING:  # schemathesis is imported when a test draws its first case, not at collection
    from conformance.fuzzing import Case

#: Example counts relative to the profile's (quick 8, default 30, thorough 300 at weight 1).
WEIGHTS = {"strict": 3.0, "spec": 2.0, "negative": 4.0}


class _Session:
    """Sends the examples of one test, knowing the collection's state between them."""

    def __init__(self, api: Client) -> None:
        self.api = api
        self.known: dict[str, JSON] | None = None

    def read(self) -> dict[str, JSON]:
        return fields(checks.collection("RESP-1", self.api.get(), self.api.settings.collection_id))

    def exercise(self, case: Case, expectation: fuzzing.Expectation) -> None:
        before = self.known or self.read()
        self.known = None  # unknown until this example ends well
        exchange = self.api.send("PATCH", content=expectation.content, content_type=fuzzing.MEDIA_TYPE)
        fuzzing.judge(case, exchange, expectation)
        if exchange.status < 300:
            returned = fields(checks.collection("RESP-1", exchange, self.api.settings.collection_id))
            read = self.api.get()
            stored = fields(checks.collection("RESP-1", read, self.api.settings.collection_id))
            checks.applied(expectation.body or {}, before, returned, stored, exchange, read, soft=False)
        else:
            if exchange.status in ERRORS:
                checks.envelope("RESP-2", exchange)
            if exchange.status == 422 and expectation.body is not None:  # a non-object body: VAL-9, a SHOULD
                checks.error_code("VAL-10", exchange, 422, "a rejected body is a VALIDATION_ERROR")
            read = self.api.get()
            stored = fields(checks.collection("RESP-1", read, self.api.settings.collection_id))
            checks.fields_equal(
                "VAL-12", f"a rejected request (HTTP {exchange.status}) changes nothing", before, stored, exchange, read
            )
        self.known = stored


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

    check()  # a failure hypothesis could not replay still names its rule: see conformance.verdict


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
        except ValueError:  # schemathesis drew a body the field declarations reject: not positive data
            reject()
        session.exercise(case, expectation)

    check()  # a failure hypothesis could not replay still names its rule: see conformance.verdict


@pytest.mark.requirement("RESP-2", "RESP-3", "VAL-1", "VAL-2", "VAL-4", "VAL-5", "VAL-6", "VAL-7", "VAL-8", "VAL-10", "VAL-12")
def test_negative_data_is_rejected_and_changes_nothing(settings: Settings, api: Client) -> None:
    """Bodies that break a rule (wrong types, out-of-range lengths, non-``mtrack_`` ids, non-objects,
    bytes that are not JSON) get the status the rule asks for, the error envelope, and change nothing."""
    session = _Session(api)

    @profiles.property_test(settings, WEIGHTS["negative"])
    @given(case=fuzzing.cases(settings, "negative"))
    @profiles.example
    def check(case: Case) -> None:
        assume(fuzzing.only_body_varies(case) and case.media_type == fuzzing.MEDIA_TYPE)
        expectation = fuzzing.expect_invalid(fuzzing.encode(case.body), settings.track_ids)
        assume(expectation is not None)  # some conformant server could accept this body: not negative data
        assert expectation is not None
        session.exercise(case, expectation)

    check()  # a failure hypothesis could not replay still names its rule: see conformance.verdict
