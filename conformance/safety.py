"""What keeps a run from doing harm: signals never cut the restore short, logs never show a key.

Signals. CI systems cancel a job with SIGINT or SIGTERM and send another one a few seconds later. The first
signal ends the run (as ``KeyboardInterrupt``, so every ``finally`` runs and the collection is
restored); any later one is noted and ignored, since what is left (tearing down, restoring) is
bounded by the per-request timeout. The restore ignores signals even when the run ended normally.

Logs. httpcore logs every response's headers at DEBUG (``--log-level DEBUG``, JUnit's captured
logs): a target that echoes the key back would show it there. The HTTP libraries' records pass
through a filter that masks every key the run knows.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

from conformance.redaction import Redactor

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


#: The loggers of httpx and httpcore (a logger's filters see only its own records).
HTTP_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy", "httpcore.socks")


class _Redacting(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.redactor = Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.redactor.text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = _Redacting()


def redact_logs(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in every record of the HTTP libraries' loggers, from now on, in this process."""
    _FILTER.redactor.add(*secrets)
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
