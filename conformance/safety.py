"""What keeps a run from doing harm: signals never cut the restore short, logs never show a key.

Signals. CI systems cancel a job with SIGINT or SIGTERM and send another one a few seconds later. The first
signal ends the run (as ``KeyboardInterrupt``, so every ``finally`` runs and the collection is
restored), wherever it lands (see :class:`Signals`); any later one is noted and ignored, since what is
left (tearing down, restoring) is bounded.

Logs. httpcore logs every response's headers at DEBUG (``--log-level DEBUG``, JUnit's captured
logs): a target that echoes the key back would show it there. Every log record of the process, of
any logger and level, is masked when it is created (``conformance.redaction.redact_logs``).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from conformance import redaction

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Signals:
    """SIGINT and SIGTERM during a run, whenever they land.

    The first one ends the run. It is raised as ``KeyboardInterrupt`` at once while the suite waits on
    the network (most of a run), and otherwise at the next safe point (the next request, test or
    hypothesis example; :meth:`check`), so that it never lands inside an import, a hypothesis callback or
    a frame pytest cannot show, and is never swallowed: until the run ends every safe point raises it
    again. During the restore signals are noted, not raised: the restore is bounded, and a second
    signal stops it only once ``abortable()`` says the original values are safe (the journal).
    """

    def __init__(self) -> None:
        self.received: list[str] = []
        #: What was said of each signal noted but not acted on, for the terminal summary.
        self.notes: list[str] = []
        self._waiting = 0  # > 0 while the main thread waits on the network: a signal is raised at once
        self._restoring = ""
        self._during_restore = 0
        self.abortable: Callable[[], bool] = lambda: False

    def install(self) -> None:
        """Handle SIGTERM, and SIGINT unless it is ignored (a background job's). Outside the main thread: nothing."""
        with contextlib.suppress(ValueError):
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                signal.signal(signal.SIGINT, self._handle)
            signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._restoring:
            self._during_restore += 1
            if self._during_restore >= 2 and self.abortable():
                self._note(f"conformance: {name}: the restore stops now; the journal keeps the original values")
                raise KeyboardInterrupt(f"{name} during {self._restoring}")
            self._note(f"conformance: {name} ignored until {self._restoring} is done")
            return
        if self.received:
            self._note(f"conformance: {name} ignored until the restore is done (the run is already ending)")
            return
        self.received.append(name)
        print(
            f"conformance: {name}: the run ends, the collection is restored, the reports are written", file=sys.stderr, flush=True
        )
        if self._waiting and threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt(name)

    def _note(self, line: str) -> None:
        self.notes.append(line)
        print(line, file=sys.stderr, flush=True)

    def check(self) -> None:
        """A safe point: raise the signal received, if any (never during the restore)."""
        if self.received and not self._restoring:
            raise KeyboardInterrupt(f"{self.received[0]} received")

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """The main thread waits on the network: a signal may be raised right here. Another thread's
        wait (a batch's, a lane's) does not count: the main thread is then waiting for that thread,
        inside the locks of ``threading`` and ``concurrent.futures``, and an exception a signal
        handler raises there can leave a lock taken, so that the threads never finish (seen: a run
        hung for good). That thread raises the signal at its next request instead (:meth:`check`),
        and the main thread gets it from the thread's result."""
        self.check()
        main = threading.current_thread() is threading.main_thread()
        if main:
            self._waiting += 1
        try:
            yield
        finally:
            if main:
                self._waiting -= 1

    @contextlib.contextmanager
    def restoring(self, what: str) -> Iterator[None]:
        """Within the block, signals are noted (a second one may stop it, see the class docstring)."""
        self._restoring, self._during_restore = what, 0
        try:
            yield
        finally:
            self._restoring = ""


#: The run's signal handler: signals are process-wide, so there is one, installed by the plugin.
PROCESS = Signals()


def shielded(what: str) -> contextlib.AbstractContextManager[None]:
    """The restore's shield: see :meth:`Signals.restoring`."""
    return PROCESS.restoring(what)


# The masking of log records lives with the rest of the redaction; this name is kept for callers.
redact_logs = redaction.redact_logs
