"""Signals, whenever they land: at start-up, during the imports, inside hypothesis, mid-request, during
the restore. The run restores the collection, writes every report saying *interrupted*, and exits 2
(1 when a violation was already found): never a pytest traceback, never a report saying *pass*."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.stub import RunningStub

from .conftest import ROOT, clean_environ
from .journal_targets import options
from .test_interrupt import Watched

#: ``conformance run``, with Ctrl-C delivered even when this test process ignores SIGINT (a background
#: job of a non-interactive shell does, and its children inherit that).
_CONFORMANCE_RUN = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from conformance.cli import main; sys.exit(main(sys.argv[1:]))"
)

#: Moments (seconds after the start) a signal lands: during the imports and collection, and at
#: several points of the run (the stub answers slowly, so the run is still going).
MOMENTS = [0.2, 0.8, 2.0, 3.5, 5.0]


def _run_and_signal(app: Watched, tmp_path: Path, at: float, signum: int, *args: str) -> tuple[int, str]:
    with RunningStub(app) as stub:
        process = subprocess.Popen(
            [sys.executable, "-c", _CONFORMANCE_RUN, "run", *options(app, stub),
             "--profile", "quick", "--report-dir", str(tmp_path), *args],
            cwd=ROOT, env=clean_environ(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        time.sleep(at)
        process.send_signal(signum)
        try:
            output, _ = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return process.returncode, output


def _verdict(tmp_path: Path) -> str:
    report = tmp_path / "conformance.json"
    return str(json.loads(report.read_text(encoding="utf-8"))["verdict"]["status"]) if report.exists() else ""


@pytest.mark.parametrize("at", MOMENTS)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_moment_restores_reports_and_exits_2(at: float, signum: int, tmp_path: Path) -> None:
    app = Watched()
    app.delay = 0.01
    code, output = _run_and_signal(app, tmp_path, at, signum)
    assert "INTERNALERROR" not in output, output[-3000:]
    assert "Traceback (most recent call last)" not in output, output[-3000:]
    assert app.fields() == app.original, f"the collection was not restored:\n{output[-3000:]}"
    assert app.other_collections() == app.others
    if code == 0 and _verdict(tmp_path) == "pass":  # the run had finished already: nothing to interrupt
        pytest.skip(f"the run finished before {at} s")
    assert code == 2, output[-3000:]
    if _verdict(tmp_path):  # interrupted after the run started: every report says so
        assert _verdict(tmp_path) == "interrupted"
        for name in ("conformance.md", "conformance.html", "junit.xml"):
            assert (tmp_path / name).exists(), name
        assert "INTERRUPTED" in (tmp_path / "conformance.md").read_text(encoding="utf-8")
    else:  # interrupted before the run started (imports, collection): nothing was read or changed
        assert not app.seen or all(method == "GET" for method, _ in app.seen)


def test_a_signal_inside_a_property_test_ends_the_run(tmp_path: Path) -> None:
    """Hypothesis runs the schemathesis tests' examples; a signal during them is not swallowed."""
    app = Watched()
    app.delay = 0.05  # about 150 requests one after another: the property tests still run 4 s in
    code, output = _run_and_signal(app, tmp_path, 4.0, signal.SIGTERM, "-k", "test_schemathesis or test_stateful")
    assert "INTERNALERROR" not in output, output[-3000:]
    assert "Traceback (most recent call last)" not in output, output[-3000:]
    assert code == 2, output[-3000:]
    assert _verdict(tmp_path) == "interrupted"
    assert app.fields() == app.original


def test_a_signal_is_raised_at_once_only_while_the_main_thread_itself_waits_on_the_network() -> None:
    """While another thread (a batch's) waits on the network, the main thread waits for that thread,
    inside the locks of ``threading``: a signal is noted there, and raised by the waiting thread at its
    next request (``check``), never inside those locks (a run interrupted there hung for good)."""
    import threading

    from conformance.safety import Signals

    signals = Signals()
    inside, leave = threading.Event(), threading.Event()

    def batch_thread() -> None:
        with signals.waiting():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=batch_thread)
    thread.start()
    try:
        assert inside.wait(5)
        try:
            signals._handle(signal.SIGINT, None)  # as the interpreter calls it, in the main thread: noted only
        except KeyboardInterrupt:
            pytest.fail("raised in the main thread while only another thread waited on the network")
        assert signals.received, "the signal is noted"
    finally:
        leave.set()
        thread.join(5)
    with pytest.raises(KeyboardInterrupt):
        signals.check()  # the next safe point, in any thread
    with pytest.raises(KeyboardInterrupt), signals.waiting():  # the main thread's own wait: at once
        pass
