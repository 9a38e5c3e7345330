"""What keeps a run from doing harm: signals never cut the restore short, logs never show a key.

Signals. CI systems cancel a job with SIGINT or SIGTERM and send another one a few seconds later. The first
signal ends the run (as ``KeyboardInterrupt``, so every ``finally`` runs and the collection is
restored); any later one is noted and ignored, since what is left (tearing down, restoring) is
bounded by the per-request timeout. The restore ignores signals even when the run ended normally.

Logs. httpcore logs every response's headers at DEBUG (``--log-level DEBUG``, JUnit's captured
logs): a target that echoes the key back would show it there. Every log record of the process, of
any logger and level, is masked when it is created (``conformance.redaction.redact_logs``).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from conformance import redaction

SIGNALS = (signal.SIGINT, signal.SIGTERM)


#: What was said of each signal ignored in this run, for the terminal summary (pytest captures
#: stderr while fixtures are torn down, so the line printed at once may not be seen).
IGNORED: list[str] = []


def _note(what: str) -> Callable[[int, FrameType | None], None]:
    def note(signum: int, frame: FrameType | None) -> None:
        line = f"conformance: {signal.Signals(signum).name} ignored until {what} is done"
        IGNORED.append(line)
        print(line, file=sys.stderr, flush=True)

    return note


def end_run_on_signals() -> None:
    """SIGTERM, and SIGINT unless it is ignored, end the run as ``KeyboardInterrupt``; from then on
    both are ignored. Outside the main thread: nothing (signals go there)."""
    IGNORED.clear()

    def end(signum: int, frame: FrameType | None) -> None:
        for number in SIGNALS:
            signal.signal(number, _note("the restore"))
        raise KeyboardInterrupt(f"signal {signum}")

    with contextlib.suppress(ValueError):
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, end)
        signal.signal(signal.SIGTERM, end)


@contextlib.contextmanager
def shielded(what: str) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are noted and ignored; afterwards the previous handlers
    are back. Outside the main thread this does nothing."""
    previous: dict[int, Any] = {}
    with contextlib.suppress(ValueError):  # not the main thread
        for number in SIGNALS:
            previous[number] = signal.signal(number, _note(what))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# The masking of log records lives with the rest of the redaction; this name is kept for callers.
redact_logs = redaction.redact_logs
