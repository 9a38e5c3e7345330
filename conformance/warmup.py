"""Work the run needs later, done while it waits anyway: during the preflight's watch for other runs.

The preflight reads the collection, waits :data:`conformance.target.WATCH_SECONDS` and reads it again
(another run's changes show in between). The wait costs no CPU, and the run has CPU work it does at
its first property test anyway: hypothesis' table of Unicode categories (about 0.35 s, worked out
once per process and report folder), and the schemathesis operations the property tests draw from
(about 0.1 s each, and 0.3 s to import schemathesis). :func:`meanwhile` does them
one after another while the watch lasts; the watch then waits only what is left of it. A step that
fails is left to be done (and fail) where it is needed: this only moves work earlier.

A pytest-xdist worker does only :func:`drawing`: the cases of its first test, when that test draws
them (four workers doing the whole warm-up at once on shared cores gained nothing, measured).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from conformance.config import Settings


def steps(settings: Settings) -> list[Callable[[], object]]:
    """The work to do early, most useful first."""
    from conformance import fuzzing, profiles

    def storage() -> None:  # hypothesis' caches go where the run keeps them (see conformance.profiles)
        profiles.prepare_hypothesis(settings)

    def categories() -> object:
        from hypothesis.internal.charmap import charmap

        return charmap()

    operations = [lambda kind=kind: fuzzing.operation(kind, settings.track_ids) for kind in fuzzing.KINDS]
    return [storage, categories, *operations]


def meanwhile(settings: Settings) -> Callable[[float], None]:
    """Do :func:`steps` until ``deadline`` (a :func:`time.monotonic` instant); none is started after it."""

    def work(deadline: float) -> None:
        for step in steps(settings):
            if time.monotonic() >= deadline:
                return
            with contextlib.suppress(Exception):
                step()

    return work


def drawing(settings: Settings, kinds: list[str]) -> Callable[[float], None]:
    """A pytest-xdist worker's warm-up: the cases of ``kinds`` (those its first test draws, which it
    then draws itself: ``conformance.drawn``), drawn while the watch waits. The watch lasts as long
    as the drawing does: that test would draw them right after it anyway."""

    def work(deadline: float) -> None:
        from conformance import drawn

        for kind in kinds if settings.seed is not None else ():  # without a seed, a test draws afresh
            with contextlib.suppress(Exception):
                drawn.examples(settings, kind)

    return work
