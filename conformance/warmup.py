"""Work the run needs later, done while it waits anyway: from the preflight's watch for other runs on.

The preflight reads the collection, waits :data:`conformance.target.WATCH_SECONDS` and reads it again
(another run's changes show in between); then the first tests send their requests together and wait
for the answers. Those waits cost no CPU, and the run has CPU work it does at its first property test
anyway: hypothesis' table of Unicode categories (about 0.35 s, worked out once per process and report
folder), the schemathesis operations the property tests draw from (about 0.1 s each, and 0.3 s to
import schemathesis), and the cases of the schemathesis tests (``conformance.drawn``: about a second at
the default profile). :func:`meanwhile` starts them in a thread of their own when the watch begins
and returns at once; the tests that judge answers run meanwhile, and :func:`wait` (called before
hypothesis is used: ``profiles.hypothesis_settings``, ``drawn.examples``) lets no code that draws run
beside it. A step that fails is left to be done (and fail) where it is needed: this only moves work
earlier.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
from collections.abc import Callable, Collection
from typing import Any

from conformance.config import Settings


def steps(settings: Settings, kinds: Collection[str] = ()) -> list[Callable[[], object]]:
    """The work to do early, most useful first; ``kinds``: the schemathesis tests of the run, whose
    cases are drawn ahead (``conformance.drawn``)."""
    from conformance import drawn, fuzzing, profiles

    def storage() -> None:  # hypothesis' caches go where the run keeps them (see conformance.profiles)
        profiles.prepare_hypothesis(settings)

    def categories() -> object:
        from hypothesis.internal.charmap import charmap

        return charmap()

    operations = [lambda kind=kind: fuzzing.operation(kind, settings.track_ids) for kind in fuzzing.KINDS]
    # the same cases only from the same seed: without one, each test draws its own
    chosen = [kind for kind in drawn.WEIGHTS if kind in kinds] if settings.seed is not None else []
    return [storage, categories, *operations, *(lambda kind=kind: drawn.examples(settings, kind) for kind in chosen)]


#: While the warm-up works, a thread that waited for an answer gets the interpreter back within this
#: many seconds (Python's default is 5 ms): the requests in flight meanwhile are not slowed.
SWITCH_INTERVAL = 0.0005


class Stopped(BaseException):
    """The run ends: the warm-up stops where it is (see :func:`stop`). Not an ``Exception``, so that
    hypothesis, drawing, does not take it for a failure to shrink."""


_guard = threading.Lock()
_started: threading.Thread | None = None
_stop = threading.Event()


def meanwhile(settings: Settings, kinds: Collection[str] = ()) -> Callable[[], None]:
    """Start :func:`steps` in a thread of their own (one after another, past any that fails, until
    :func:`stop`); returns at once."""

    def work() -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)  # an answer that arrives meanwhile is handled at once
        try:
            for step in steps(settings, kinds):
                if _stop.is_set():
                    return
                try:
                    step()
                except Stopped:
                    return
                except Exception:  # left to be done (and fail) where it is needed
                    continue
        finally:
            sys.setswitchinterval(interval)

    def start() -> None:
        global _started
        parse = ast.parse
        if not getattr(parse, "one_at_a_time", False):
            ast.parse = _one_at_a_time(parse)  # type: ignore[assignment]  # from now on: threads that parse
        wait()  # one warm-up at a time
        with _guard:
            _stop.clear()
            _started = threading.Thread(target=work, name=THREAD, daemon=True)
            _started.start()

    return start


#: The name of the warm-up's thread.
THREAD = "conformance-warmup"


def stopping() -> bool:
    """Whether the warm-up is to stop (asked by the warm-up's own long steps, between examples)."""
    return _stop.is_set() and threading.current_thread().name == THREAD


def stop() -> None:
    """The run ends (before the restore): the warm-up stops at its next example or step."""
    _stop.set()


_PARSING = threading.Lock()


def _one_at_a_time(parse: Callable[..., ast.AST]) -> Callable[..., ast.AST]:
    """``ast.parse``, one thread at a time. CPython 3.11 counts the depth of the syntax tree it builds
    in state every thread shares (gh-106905): when a thread switch lands inside a parse (through a
    garbage collector callback, which hypothesis installs), the other thread's parse fails with
    ``SystemError: AST constructor recursion depth mismatch``. Hypothesis parses in the warm-up (the
    source of lambdas, for its reprs) while pytest parses in the main thread (the source shown in a
    traceback); a self-test reproduces the failure without the lock."""

    @functools.wraps(parse)
    def parsed(*args: Any, **kwargs: Any) -> ast.AST:
        with _PARSING:
            return parse(*args, **kwargs)

    parsed.one_at_a_time = True  # type: ignore[attr-defined]
    return parsed


def wait() -> None:
    """Return once the work :func:`meanwhile` started is done (at once when none was started, or when
    called from that work itself). A signal received meanwhile ends the wait, as one received while
    the run waits on the network does (``conformance.safety``)."""
    from conformance.safety import PROCESS

    global _started
    with _guard:
        started = _started
    if started is None or started is threading.current_thread():
        return
    with PROCESS.waiting():
        started.join()
    with _guard:
        if _started is started:
            _started = None
