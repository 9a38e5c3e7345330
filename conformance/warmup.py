"""Work the run needs later, done while it waits anyway: from the preflight's watch for other runs on.

The preflight reads the collection, waits :data:`conformance.target.WATCH_SECONDS` and reads it again
(another run's changes show in between); then the first tests send their requests together and wait
for the answers. Those waits cost no CPU, and the run has CPU work it does at its first property test
anyway: hypothesis' table of Unicode categories (about 0.35 s, worked out once per process and report
folder), and the schemathesis operations the property tests draw from (about 0.1 s each, and 0.3 s to
import schemathesis). :func:`meanwhile` starts them in a thread of their own when the watch begins and
returns at once; :func:`wait` (before each test's call) lets no test run before they are done, so that
no test ever does them at the same time. A step that fails is left to be done (and fail) where it is
needed: this only moves work earlier.
"""

from __future__ import annotations

import contextlib
import threading
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


_started: threading.Thread | None = None


def meanwhile(settings: Settings) -> Callable[[], None]:
    """Start :func:`steps` in a thread of their own (one after another, past any that fails); returns at once."""

    def work() -> None:
        for step in steps(settings):
            with contextlib.suppress(Exception):
                step()

    def start() -> None:
        global _started
        _started = threading.Thread(target=work, name="conformance-warmup", daemon=True)
        _started.start()

    return start


def wait() -> None:
    """Return once the work :func:`meanwhile` started is done (at once when none was started)."""
    global _started
    started, _started = _started, None
    if started is not None and started is not threading.current_thread():
        started.join()
