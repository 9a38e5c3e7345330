"""Nothing lost: the collection is restored after a failing run, Ctrl-C and SIGTERM; nothing else changes.

The stub is served over loopback by the test itself, so the test reads its stored state directly;
the suite runs in a subprocess against it with ``--base-url``, as it would against staging.
"""

from __future__ import annotations

import copy
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conformance import fields
from conformance.client import PROBE_METHODS
from conformance.stub import RunningStub, StubApp
from conformance.stub.app import Reply, Request

from .conftest import ROOT, clean_environ, run_suite
from .journal_targets import options

#: Runs pytest with Ctrl-C delivered as KeyboardInterrupt even when this test process ignores SIGINT
#: (a background job of a non-interactive shell does, and its children inherit that).
_WITH_SIGINT = (
    "import signal, sys, pytest; signal.signal(signal.SIGINT, signal.default_int_handler); sys.exit(pytest.main(sys.argv[1:]))"
)


class Watched(StubApp):
    """The reference stub, noting every request; it can hold its answer to the first PATCH that changes
    the configured collection (so the run is caught mid-change), fail empty PATCHes, and answer slowly."""

    name = "watched"

    def __init__(self, *, hold: bool = False, fail_empty_patch: bool = False) -> None:
        super().__init__()
        self.hold = hold
        self.fail_empty_patch = fail_empty_patch
        self.seen: list[tuple[str, str]] = []
        self.probe_bodies: list[bytes] = []
        self.changed = threading.Event()
        self.release = threading.Event()
        self.delay = 0.0
        self.original = self.fields()
        self.others = self.other_collections()

    def fields(self) -> dict[str, Any]:
        with self.lock:
            stored = self.collections[self.collection_id]
            return {name: getattr(stored, name) for name in fields.FIELD_NAMES}

    def other_collections(self) -> dict[str, Any]:
        with self.lock:
            return {cid: copy.deepcopy(c) for cid, c in self.collections.items() if cid != self.collection_id}

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.seen.append((request.method, request.path))
            if request.method not in ("GET", "PATCH"):
                self.probe_bodies.append(request.body)
        time.sleep(self.delay)
        if self.fail_empty_patch and request.method == "PATCH" and request.body.strip() == b"{}":
            return Reply(500, b'{"success": false, "error": {"code": "INTERNAL_ERROR"}}')
        reply = super().handle(request)
        if request.method == "PATCH" and not self.changed.is_set() and self.fields() != self.original:
            self.changed.set()
            if self.hold:
                self.release.wait(60)
        return reply


def test_a_failing_full_run_restores_the_collection_changes_nothing_else_and_sends_only_get_patch_and_probes(
    tmp_path: Path,
) -> None:
    app = Watched(fail_empty_patch=True)
    with RunningStub(app) as stub:
        run = run_suite(*options(app, stub), "--examples", "1", "--report-dir", str(tmp_path), timeout=180)
    assert run.returncode == 1, run.output  # the empty-PATCH fault fails the run...
    assert app.changed.is_set(), "the run never changed the collection, so this test proves nothing"
    assert app.fields() == app.original  # ...and the collection is back as it was
    assert "collection restored and verified" in run.output
    assert app.other_collections() == app.others  # the foreign collection, and any other, untouched
    methods = {method for method, _ in app.seen}
    allowed = {"GET", "PATCH", *PROBE_METHODS}  # the probes of the HTTP layer (RESP-4): HEAD, OPTIONS, TRACE, an unknown token
    assert methods <= allowed, f"the suite sent {sorted(methods - allowed)}"
    assert not methods & {"PUT", "POST", "DELETE"}
    assert app.probe_bodies, "no probe of the HTTP layer was sent, so this test proves nothing of them"
    assert set(app.probe_bodies) == {b""}, "a probe carried a body"
    assert ("PATCH", f"/v1/music/{app.foreign_org_id}/collections/{app.foreign_collection_id}") in app.seen


def _start(app: Watched, stub: RunningStub, tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WITH_SIGINT, "conformance", "-p", "no:cacheprovider", *options(app, stub),
         "--examples", "1", "--request-timeout", "60", "--report-dir", str(tmp_path)],
        cwd=ROOT, env=clean_environ(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _finish(process: subprocess.Popen[str], app: Watched) -> str:
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        app.release.set()
        if process.poll() is None:
            process.kill()
            process.communicate()
    return output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_restores_the_collection(signum: signal.Signals, tmp_path: Path) -> None:
    app = Watched(hold=True)
    with RunningStub(app) as stub:
        process = _start(app, stub, tmp_path)
        try:
            assert app.changed.wait(90), "the run never changed the collection"
            assert app.fields() != app.original
            process.send_signal(signum)
            app.release.set()  # the held answer goes out (the run may be waiting for it in another thread)
        finally:
            output = _finish(process, app)
    assert process.returncode == 2, output
    assert app.fields() == app.original, output
    assert "collection restored and verified" in output
    assert app.other_collections() == app.others


def test_a_second_signal_during_the_restore_is_ignored_until_it_is_done(tmp_path: Path) -> None:
    """As a CI system cancels: SIGINT, then SIGTERM a moment later, while the run winds down and restores."""
    app = Watched(hold=True)
    with RunningStub(app) as stub:
        process = _start(app, stub, tmp_path)
        try:
            assert app.changed.wait(90), "the run never changed the collection"
            app.delay = 0.3  # every request from now on takes a while
            before = len(app.seen)
            process.send_signal(signal.SIGINT)
            app.release.set()
            deadline = time.monotonic() + 30
            while len(app.seen) == before and time.monotonic() < deadline:  # a request after the first signal
                time.sleep(0.01)
            process.send_signal(signal.SIGTERM)
        finally:
            output = _finish(process, app)
    assert app.fields() == app.original, output
    assert "SIGTERM ignored until the restore is done" in output
    assert "collection restored and verified" in output
    assert process.returncode == 2, output
