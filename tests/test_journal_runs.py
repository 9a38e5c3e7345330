"""No run loses the collection: real runs, overlapping, killed, restored by hand, against broken servers.

Every test serves a target on loopback (:mod:`tests.journal_targets`) and runs the suite as CI does, in
a separate process with ``--base-url``; the test reads the stored collection directly.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance import journal
from conformance.stub import RunningStub

from .conftest import ROOT, SuiteRun, clean_environ, run_suite
from .journal_targets import CachedReads, Kept, PatchAsPut, RefusesOtherTracks, options


def _start(args: list[str]) -> subprocess.Popen[str]:
    """A run of the suite as its own process (so that SIGKILL reaches the run itself)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT, env=clean_environ(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _finish(process: subprocess.Popen[str], timeout: float = 120) -> SuiteRun:
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return SuiteRun(process.returncode, output, "")


def _conformance_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "conformance: " in line]


def _kill_when(
    process: subprocess.Popen[str], app: Kept, condition: Callable[[], bool], *, after: float, from_first_write: bool = True
) -> float:
    """SIGKILL ``process`` at the first moment, ``after`` seconds after its first PATCH (or its start) or
    later, at which ``condition`` holds of the stored collection; returns the second it was killed at.
    Timed from the first write by default: a loaded machine may take seconds to start a run."""
    started = time.monotonic()
    if from_first_write:
        _wait_for_first_write(process, app)
        started = time.monotonic()
    deadline = started + after + 60
    while time.monotonic() < deadline and process.poll() is None:
        if time.monotonic() - started >= after and condition():
            process.send_signal(signal.SIGKILL)
            at = time.monotonic() - started
            process.communicate(timeout=10)
            return at
        time.sleep(0.005)
    process.kill()
    output, _ = process.communicate()
    pytest.fail(f"the run ended or never left the collection in the state wanted: {output[-2000:]}")


def _wait_for_first_write(process: subprocess.Popen[str], app: Kept, *, within: float = 60) -> None:
    """Wait until ``process`` has sent its first PATCH (a loaded machine may take seconds to start it)."""
    deadline = time.monotonic() + within
    while app.patches() == 0:
        if process.poll() is not None or time.monotonic() > deadline:
            output = _finish(process, timeout=10).output
            pytest.fail(f"the first run never wrote: {output[-2000:]}")
        time.sleep(0.01)


@pytest.mark.parametrize("same_folder", [False, True], ids=["two CI machines", "one machine, one report folder"])
def test_two_runs_a_second_apart_leave_the_collection_as_it_began_and_neither_fails(tmp_path: Path, same_folder: bool) -> None:
    app = Kept(delay=0.002)
    with RunningStub(app) as stub:
        first = _start([*options(app, stub), "--examples", "1", "--report-dir", str(tmp_path / "first")])
        _wait_for_first_write(first, app)  # the first run holds its lock: the second starts a moment later
        second = run_suite(*options(app, stub), "--examples", "1", "--report-dir", str(tmp_path / ("first" if same_folder else "second")), timeout=120)  # fmt: skip
        first_run = _finish(first)
    assert app.fields() == app.original, (first_run.output[-2000:], second.output[-2000:])
    assert first_run.returncode == 0, first_run.output[-3000:]
    assert second.returncode == 3, second.output[-3000:]
    said = _conformance_lines(second.output)
    assert len(said) == 1, second.output[-3000:]
    if same_folder:
        assert "another run against collection" in said[0]
        assert "in progress on this machine" in said[0]
    else:  # what it can see in band: the first run's values, or the collection changing under its eyes
        assert "holds a value this suite writes" in said[0] or "changed while this run watched it" in said[0], said[0]
    assert "nothing was changed" in said[0]


@pytest.mark.parametrize("unmarked", [False, True], ids=["any change", "values that carry no mark"])
def test_a_run_killed_mid_run_is_restored_by_the_next_run_with_the_same_report_folder(tmp_path: Path, unmarked: bool) -> None:
    """The journal's note of the last writes tells the killed run's values apart even when they carry
    no mark (random text of a property test, schemathesis' values) or are longer than the note keeps
    (F16's 68 KiB descriptions). Killed 4 s after it started, or at the first moment 0.5 s into its
    writes that the collection holds only unmarked values (a window of about half a second on the
    reference stub)."""
    app = Kept(delay=0.004)

    def left_changed() -> bool:
        fields = app.fields()
        return fields != app.original and not (unmarked and journal.written_by_suite(fields))

    with RunningStub(app) as stub:
        args = [*options(app, stub), "--report-dir", str(tmp_path)]
        killed = _start([*args, "--examples", "1"])
        _kill_when(killed, app, left_changed, after=0.5 if unmarked else 4, from_first_write=unmarked)
        left = app.fields()
        path = next((tmp_path / journal.FOLDER).glob("*[0-9a-f].json"))
        assert journal.read(path) is not None
        app.delay = 0
        after = run_suite(*args, "--examples", "1", "-k", "test_auth", timeout=120)
    noted = journal.last_path(path).read_text(encoding="utf-8") if journal.last_path(path).exists() else "(no note)"
    assert after.returncode == 0, f"left by the killed run: {left!r}\nits note: {noted[:3000]}\n{after.output[-3000:]}"
    assert app.fields() == app.original, f"left by the killed run: {left!r}"
    assert any("did not finish: its original values were put back first" in line for line in _conformance_lines(after.output))
    assert not path.exists(), "the journal outlived a verified restore"


def test_with_the_report_folder_gone_the_next_run_does_not_adopt_the_killed_runs_values(tmp_path: Path) -> None:
    """Without a journal the originals are unknown: the next run stops, exit 3, and changes nothing.
    It recognises the killed run by its values, so the run is killed (1.5 s into its writes or later) while the
    collection holds one of them."""
    app = Kept(delay=0.004)
    with RunningStub(app) as stub:
        killed = _start([*options(app, stub), "--examples", "1", "--report-dir", str(tmp_path / "gone")])
        _kill_when(killed, app, lambda: journal.written_by_suite(app.fields()), after=1.5)
        left = app.fields()
        shutil.rmtree(tmp_path / "gone")
        patches = app.patches()
        after = run_suite(*options(app, stub), "--examples", "1", "--report-dir", str(tmp_path / "fresh"), timeout=120)
    assert after.returncode == 3, after.output[-3000:]
    assert app.patches() == patches, "the run changed the collection after all"
    assert app.fields() == left
    said = _conformance_lines(after.output)
    assert len(said) == 1, after.output[-3000:]
    assert "holds a value this suite writes" in said[0]
    assert "--adopt-current-state" in said[0]


def test_conformance_restore_puts_a_journal_back_and_verifies_it(tmp_path: Path) -> None:
    app = Kept(delay=0.004)
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        killed = _start([*options(app, stub), "--examples", "1", "--report-dir", str(tmp_path)])
        _kill_when(killed, app, lambda: app.fields() != app.original, after=1.5)
        app.delay = 0
        command = [sys.executable, "-m", "conformance", "restore", "--base-url", seed.base_url, "--org-id", seed.org_id,
                   "--collection-id", seed.collection_id, "--report-dir", str(tmp_path)]  # fmt: skip
        environ = clean_environ({"CONFORMANCE_API_KEY": seed.api_key})
        restored = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False)
        assert app.fields() == app.original, restored.stdout + restored.stderr
        again = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "collection restored and verified" in restored.stdout
    assert repr(app.original) in restored.stdout
    assert seed.api_key not in restored.stdout + restored.stderr
    assert not list((tmp_path / journal.FOLDER).glob("*[0-9a-f].json")), "the journal outlived a verified restore"
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to restore: no journal" in again.stdout


@pytest.mark.parametrize("app_class", [PatchAsPut, CachedReads], ids=["PATCH as PUT", "reads cached for 1 s"])
def test_a_run_against_a_broken_server_restores_and_verifies_the_collection(tmp_path: Path, app_class: type[Kept]) -> None:
    """Both servers break MUST rules (exit 1); neither makes the restore fail (which would be exit 3)."""
    app = app_class()
    with RunningStub(app) as stub:
        run = run_suite(*options(app, stub), "--examples", "1", "--report-dir", str(tmp_path), timeout=180)
    assert app.fields() == app.original, run.output[-3000:]
    assert "collection restored and verified" in run.output, run.output[-3000:]
    assert run.returncode == 1, run.output[-3000:]
    assert not list((tmp_path / journal.FOLDER).glob("*[0-9a-f].json"))


@pytest.mark.parametrize(
    ("status", "track"),
    [(422, "mtrack_0000deadbeef"), (404, "mtrack_f0f0f0f0f0f0")],
    ids=["unknown track, 422", "another organization's, 404"],
)
def test_a_track_the_target_refuses_stops_the_run_before_the_first_test(tmp_path: Path, status: int, track: str) -> None:
    app = RefusesOtherTracks(status=status)
    with RunningStub(app) as stub:
        args = [arg for arg in options(app, stub) if arg not in app.track_ids and arg != "--track-id"]
        run = run_suite(*args, "--track-id", app.track_ids[1], "--track-id", track, "--report-dir", str(tmp_path))
    assert run.returncode == 4, run.output[-3000:]
    said = _conformance_lines(run.output)
    assert len(said) == 1, run.output[-3000:]
    assert f"refused the configured track {track!r} (HTTP {status})" in said[0]
    assert "check --track-id (CONFORMANCE_TRACK_IDS)" in said[0]
    assert " passed" not in run.output, "a test ran"
    assert " failed" not in run.output, "a test ran"
    assert "collection restored and verified" in run.output  # the first track was accepted: it changed the collection
    assert app.fields() == app.original
    assert not list((tmp_path / journal.FOLDER).glob("*[0-9a-f].json"))
