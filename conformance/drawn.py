"""The examples of the schemathesis property tests: drawn first, then sent.

The cases a test sends depend only on its seed: hypothesis draws the same cases from the same seed
for as long as every example passes. So a test draws them first and then sends them one after
another, outside hypothesis' engine, whose work per example then never sits between two requests.
Should one break a rule, the test runs again under hypothesis, which draws them again (same seed),
finds the failure and shrinks it.

:func:`expectation` is the one place that says which drawn cases a test sends and what each must
get; the drawing and the test's own hypothesis run both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hypothesis import assume, given, reject

from conformance import fuzzing, profiles
from conformance.config import Settings

if TYPE_CHECKING:  # schemathesis is imported when the first case is drawn, not at collection
    from conformance.fuzzing import Case, Expectation

#: Example counts relative to the profile's (quick 8, default 30, thorough 300 at weight 1).
WEIGHTS = {"strict": 3.0, "spec": 2.0, "negative": 4.0}

Drawn = list[tuple["Case", "Expectation"]]

_drawn: dict[tuple[object, ...], Drawn] = {}


def expectation(settings: Settings, kind: str, case: Case) -> Expectation:
    """What ``case`` of ``kind`` must get; a case the test does not send is rejected (hypothesis draws
    another): a negative case some conformant server could accept, a ``spec`` case the field
    declarations refuse, one that varies more than the body."""
    if kind == "strict":
        if not fuzzing.only_body_varies(case):
            raise RuntimeError(f"the strict generation varied more than the body: {case!r}")
        return fuzzing.expect_valid(fuzzing.encode(case.body), "strict", settings.track_ids)
    assume(fuzzing.only_body_varies(case) and case.media_type == fuzzing.MEDIA_TYPE)
    if kind == "spec":
        try:
            return fuzzing.expect_valid(fuzzing.encode(case.body), "spec", settings.track_ids)
        except ValueError:  # schemathesis drew a body the field declarations reject: not positive data
            reject()
    found = fuzzing.expect_invalid(fuzzing.encode(case.body), settings.track_ids)
    assume(found is not None)  # some conformant server could accept this body: not negative data
    assert found is not None
    return found


def _key(settings: Settings, kind: str) -> tuple[object, ...]:
    return (kind, settings.seed, profiles.examples(settings, WEIGHTS[kind]), settings.track_ids, settings.org_id,
            settings.collection_id)  # fmt: skip


def examples(settings: Settings, kind: str, progress: Callable[[], None] = lambda: None) -> Drawn:
    """The cases the property test of ``kind`` sends, in order, each with its expectation: drawn once
    per seed and profile (ahead, when :func:`draw_ahead` started it), afresh on every call when the
    run has no seed."""
    if settings.seed is None:
        return _draw(settings, kind, progress)
    key = _key(settings, kind)
    if key not in _drawn:
        from conformance import ahead

        found = ahead.take(settings, kind)
        _drawn[key] = _draw(settings, kind, progress) if found is None else found
    return _drawn[key]


def draw_ahead(settings: Settings, kinds: list[str]) -> bool:
    """Start drawing the cases of ``kinds`` (in the order the run needs them) in a process of their
    own (``conformance.ahead``), but for those this process has drawn already."""
    from conformance import ahead

    return ahead.start(settings, [kind for kind in kinds if settings.seed is not None and _key(settings, kind) not in _drawn])


def _draw(settings: Settings, kind: str, progress: Callable[[], None] = lambda: None) -> Drawn:
    """The cases hypothesis draws for ``kind``; ``progress`` is called after each (the drawing process
    says it is alive: ``conformance.ahead``)."""
    from conformance.safety import PROCESS

    found: Drawn = []

    @profiles.property_test(settings, WEIGHTS[kind])
    @given(case=fuzzing.cases(settings, kind))
    def draw(case: Case) -> None:
        PROCESS.check()  # a signal received ends the run here
        progress()
        found.append((case, expectation(settings, kind, case)))

    draw()
    return found
