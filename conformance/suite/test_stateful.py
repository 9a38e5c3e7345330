"""A model-based test: valid and invalid PATCHes and reads in any order; after every step the
target and a model of the collection must agree (SEM-1…SEM-7, SEM-9, VAL-12).

A failure shrinks to the shortest sequence of requests and shows it as a list.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from conformance import checks, evidence, plugin, profiles, strategies
from conformance.checks import Violation
from conformance.client import Client, Exchange
from conformance.config import Settings
from conformance.fields import JSON, timestamp
from conformance.strategies import InvalidBody, Patch
from conformance.suite.support import fields, latest, repair_identity, reset_document, stable


def _step(exchange: Exchange) -> str:
    body = (exchange.request_body or b"").decode("utf-8", "replace")
    if len(body) > 100:
        body = body[:90] + f"...({len(body)} chars)"
    return f"{exchange.method} {body} -> {exchange.status}" if body else f"{exchange.method} -> {exchange.status}"


def _rule_for(patch: Patch, model: dict[str, JSON], document: dict[str, JSON]) -> str:
    """The rule a 200 body that disagrees with the model breaks: an omitted field changed (SEM-1),
    a null did not clear (SEM-2), or the body is not the state after the update (SEM-6)."""
    if any(document.get(f) != model.get(f) for f in patch.omitted):
        return "SEM-1"
    if any(document.get(f) is not None for f in patch.nulled):
        return "SEM-2"
    return "SEM-6"


def machine(api: Client, settings: Settings) -> type[RuleBasedStateMachine]:
    """The state machine class, bound to this run's client and tracks."""

    class CollectionModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # every run starts from the same kind of state, so a failure replays
            self.document = reset_document(api, "SEM-6")
            self.steps: list[str] = ["PATCH <fresh values for the four fields> -> 200", _step(api.recorder.last or _nothing())]
            self.last_rule = "SEM-6"  # what a disagreement after the last step violates
            self.model = fields(self.document)
            self.fixed = stable(self.document)
            self.last_was_read = True  # the last request was a read: the invariant has nothing new to read

        def _read(self, rule_id: str) -> dict[str, JSON]:
            self.last_was_read = True
            exchange = api.get()
            self.steps.append(_step(exchange))
            return checks.collection(rule_id, exchange, settings.collection_id)

        def _fail(self, error: Violation) -> Violation:
            steps = "\n".join(f"{i}. {s}" for i, s in enumerate(self.steps, 1))
            return Violation(
                error.rule_id,
                f"{error.title} (after {len(self.steps)} requests)",
                expected=error.expected,
                received=f"{error.received}\nrequests, oldest first:\n{steps}",
                exchanges=error.exchanges,
            )

        def _check(self, rule_id: str, title: str, document: dict[str, JSON], exchange: Exchange) -> None:
            try:
                checks.fields_equal(rule_id, title, self.model, fields(document), exchange)
                checks.fields_equal(
                    "SEM-5", "id, created_at and track_count never change", self.fixed, stable(document), exchange
                )
                checks.require(
                    "SEM-7", timestamp(document["updated_at"]) >= timestamp(self.document["updated_at"]),
                    "updated_at moved backwards", f">= {self.document['updated_at']}", str(document["updated_at"]), exchange,
                )  # fmt: skip
                checks.require(
                    "SEM-7", timestamp(document["updated_at"]) >= timestamp(document["created_at"]),
                    "updated_at is before created_at", f">= {document['created_at']}", str(document["updated_at"]), exchange,
                )  # fmt: skip
            except Violation as error:
                raise self._fail(error) from None
            self.document = document

        @rule(patch=strategies.patches(tracks=settings.track_ids))
        def patch_valid(self, patch: Patch) -> None:
            self.last_was_read = False
            exchange = api.patch(patch.body)
            self.steps.append(_step(exchange))
            try:
                document = checks.collection("SEM-6", exchange, settings.collection_id)
            except Violation as error:
                raise self._fail(error) from None
            rule_id = _rule_for(patch, self.model, document)
            self.model.update(patch.body)
            self.last_rule = "SEM-6"
            self._check(rule_id, "the 200 body is the model after the update", document, exchange)

        @rule(case=strategies.invalid_bodies())
        def patch_invalid(self, case: InvalidBody) -> None:
            self.last_was_read = False
            exchange = api.send("PATCH", content=case.raw) if case.raw is not None else api.patch(case.body)
            self.steps.append(_step(exchange))
            self.last_rule = "VAL-12"
            try:
                checks.expect_status(
                    case.rule if case.rule in ("VAL-7", "VAL-8") else "VAL-10",
                    exchange,
                    range(400, 500),
                    f"{case.why} is rejected",
                )
            except Violation as error:
                raise self._fail(error) from None

        @rule(body=strategies.read_only_bodies())
        def patch_read_only(self, body: dict[str, Any]) -> None:
            self.last_was_read = False
            exchange = api.patch(body)
            self.steps.append(_step(exchange))
            self.last_rule = "SEM-1"  # the body omits all four fields: they must stay
            try:
                checks.expect_status("SEM-5", exchange, {200, 422}, "read-only fields are ignored or rejected (F3)")
                repair_identity(api, "SEM-5", self.document, exchange)  # applied ones are SEM-5's, and put back
            except Violation as error:
                raise self._fail(error) from None

        @invariant()
        def target_agrees_with_model(self) -> None:
            if not self.last_was_read:  # after the reset's read, nothing was sent: that read stands
                document = self._read("SEM-6")
                self._check(self.last_rule, "the stored collection is the model", document, api.recorder.last or _nothing())
            evidence.flush()  # an envelope or shape violation of this step fails it, and shrinks

    return CollectionModel


def _nothing() -> Exchange:  # pragma: no cover - a read always records an exchange first
    raise RuntimeError("no exchange recorded")


#: The share of the profile's examples the model runs (each is a sequence of up to STEPS requests).
WEIGHT = 0.3


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A profile with many examples (thorough) runs the model in parts (``conformance.profiles.parts``):
    each its own test, on a worker of its own under ``-n``. Otherwise the ``part`` fixture: the whole."""
    if "part" in metafunc.fixturenames:
        split = plugin.parts(metafunc.config, WEIGHT)
        if len(split) > 1:
            metafunc.parametrize("part", split, ids=[p.id for p in split])


@pytest.fixture
def part() -> profiles.Part:
    return profiles.Part()


@pytest.mark.long(200)  # requests one after another, default profile (each part, when split)
@pytest.mark.requirement("SEM-1", "SEM-2", "SEM-5", "SEM-6", "SEM-7", "VAL-12")
def test_target_follows_the_model(api: Client, settings: Settings, part: profiles.Part) -> None:
    options = profiles.hypothesis_settings(
        settings, WEIGHT, stateful_step_count=profiles.STEPS[settings.profile],
        max_examples=part.examples(profiles.examples(settings, WEIGHT)),
    )  # fmt: skip
    model = machine(api, settings)
    if settings.seed is not None:
        model = hypothesis.seed(part.seed(settings.seed))(model)
    before = latest(api, "SEM-5")
    try:
        run_state_machine_as_test(model, settings=options)
    finally:  # read-only fields a broken target applied are put back, so that later tests judge on their own
        repair_identity(api, "SEM-5", before)
