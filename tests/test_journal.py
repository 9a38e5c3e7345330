"""The journal, the lock, the mark of suite values, and the restore on broken servers, in this process.

The targets are real HTTP servers on loopback (:mod:`tests.journal_targets`); the suite's own
:class:`~conformance.target.Target` talks to them as it would to staging. The end-to-end runs (real
``pytest`` and ``conformance restore`` processes, killed ones among them) are in ``test_journal_runs.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance import config, journal
from conformance.client import MISSING, Client, TargetError
from conformance.strategies import URL_PREFIX
from conformance.stub import RunningStub
from conformance.stub.app import Reply, Request
from conformance.suite.support import unique
from conformance.target import RESTORE_SECONDS, InUse, RestoreFailed, Target

from .conftest import ROOT, clean_environ
from .journal_targets import CachedReads, Kept, NeverKept, PatchAsPut

# ---- the mark of values this suite writes ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        unique("baseline name"),
        unique("round 3 description"),
        URL_PREFIX + unique("round-3").replace(" ", "-") + ".png",
        URL_PREFIX + unique("baseline").replace(" ", "-") + ".png",
        "prefix " + unique("x") + " suffix",
    ],
)
def test_values_the_suite_writes_are_recognised(value: str) -> None:
    for field in ("name", "description", "cover_image_url"):
        assert journal.written_by_suite({field: value}), (field, value)
        assert journal.suite_field({"name": "Deep Work", field: value}) == field


@pytest.mark.parametrize(
    "value",
    [
        "Deep Work",
        "https://cdn.example.com/covers/deep-work.png",  # the stub's own original, under the suite's URL prefix
        "conformance",
        "conformance test suite",
        "Conformance Baseline 0123456789ab",  # the mark is lower case
        "conformance baseline 0123456789abc",  # 13 hex digits: not the mark
        "nonconformance x 0123456789ab",
        None,
    ],
)
def test_values_of_a_real_collection_are_not_taken_for_the_suites(value: str | None) -> None:
    assert not journal.written_by_suite({"name": value, "description": value, "cover_image_url": value})


# ---- the journal file --------------------------------------------------------------------------


def test_public_url_drops_credentials_query_and_fragment() -> None:
    assert (
        journal.public_url("https://user:hunter2@Staging.Example.com:8443/api/?x=1#f") == "https://staging.example.com:8443/api"
    )
    assert journal.public_url("http://[::1]:8000") == "http://[::1]:8000"


def test_one_journal_per_target_and_collection_whatever_the_credentials(tmp_path: Path) -> None:
    a = journal.journal_path(tmp_path, "https://u:p@staging.example.com/", "org_1", "mcoll_1")
    assert a == journal.journal_path(tmp_path, "https://staging.example.com", "org_1", "mcoll_1")
    assert a != journal.journal_path(tmp_path, "https://staging.example.com", "org_1", "mcoll_2")
    assert a != journal.journal_path(tmp_path, "https://staging.example.com", "org_2", "mcoll_1")
    assert a != journal.journal_path(tmp_path, "https://other.example.com", "org_1", "mcoll_1")
    assert a.parent == tmp_path / ".conformance-state"


@contextmanager
def serving(app: Kept) -> Iterator[Callable[..., Target]]:
    """Serve ``app`` on loopback; yields a maker of :class:`Target` objects for it (a report folder and
    options each), their base URL carrying a password."""
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        base_url = seed.base_url.replace("http://", "http://tester:hunter2-password@")
        values = {"base_url": base_url, "api_key": seed.api_key, "org_id": seed.org_id, "collection_id": seed.collection_id}
        clients: list[Client] = []

        def make(report_dir: Path, **extra: str) -> Target:
            settings = config.load({**values, "report_dir": str(report_dir), "track_ids": list(seed.track_ids), **extra}, {})
            clients.append(Client(settings))
            return Target(settings, clients[-1])

        try:
            yield make
        finally:
            for client in clients:
                client.close()


@contextmanager
def target_for(app: Kept, report_dir: Path, **extra: str) -> Iterator[Target]:
    with serving(app) as make:
        yield make(report_dir, **extra)


def test_the_journal_holds_the_originals_and_who_wrote_it_and_no_secret(tmp_path: Path) -> None:
    app = Kept()
    with target_for(app, tmp_path) as target:
        target.preflight()
        assert target.journal is not None
        text = target.journal.path.read_text()
        written = json.loads(text)
        assert written["original"] == app.original
        assert written["run"]["pid"] == os.getpid()
        assert written["target"]["base_url"].startswith("http://127.0.0.1:")
        for secret in (app.api_key, app.foreign_api_key, "hunter2-password", "tester"):
            assert secret not in text
            assert secret not in journal.lock_path(target.journal.path).read_text()
        assert app.fields()["cover_track_id"] == app.track_ids[-1], "the tracks were not tried"
        assert target.restore() == "collection restored and verified"
        assert not target.journal_path.exists(), "the journal outlived a verified restore"
    assert app.fields() == app.original


def test_a_journal_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / ".conformance-state" / "x.json"
    record = journal.Journal(path, "http://h", "o", "c", dict.fromkeys(("name", "description", "cover_track_id", "cover_image_url")), None, journal.RunIdentity.current())  # fmt: skip
    journal.write(record)
    assert journal.read(path) == record
    assert [p.name for p in path.parent.iterdir()] == ["x.json"], "a temporary file was left"
    path.write_text('{"format": "conformance-journal/1", "original": {"name": "half')
    with pytest.raises(journal.JournalError, match="cannot read the journal"):
        journal.read(path)


def test_an_unreadable_journal_stops_the_run_before_any_change(tmp_path: Path) -> None:
    app = Kept()
    with target_for(app, tmp_path) as target:
        target.journal_path.parent.mkdir(parents=True)
        target.journal_path.write_text("not json")
        with pytest.raises(InUse, match=r"cannot read the journal .*nothing was changed"):
            target.preflight()
    assert app.patches() == 0


# ---- the lock ----------------------------------------------------------------------------------

_HOLD = """
import sys, time
from pathlib import Path
from conformance import journal
journal.Lock(Path(sys.argv[1])).acquire(journal.RunIdentity.current())
print("held", flush=True)
time.sleep(60)
"""


def test_the_lock_names_its_live_holder_and_a_killed_one_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "state" / "x.lock"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(path)], cwd=ROOT, env=clean_environ(), stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(journal.Busy, match=rf"pid {holder.pid} on "):
            journal.Lock(path).acquire(journal.RunIdentity.current())
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        lock = journal.Lock(path)
        lock.acquire(journal.RunIdentity.current())  # the kernel released the killed holder's lock
        assert lock.held
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate()


# ---- the restore on broken servers -------------------------------------------------------------


def _changed_by_a_test(target: Target, app: Kept) -> None:
    """What a run does between preflight and restore: change every field, through the target."""
    target.preflight()
    answer = target.client.patch(
        {"name": unique("n"), "description": unique("d"), "cover_track_id": None, "cover_image_url": None}
    )
    assert answer.status == 200
    assert app.fields() != app.original


def test_a_patch_that_acts_as_put_is_restored_by_writing_all_four_fields(tmp_path: Path) -> None:
    app = PatchAsPut()
    with target_for(app, tmp_path) as target:
        target.preflight()
        kept = {name: app.original[name] for name in ("cover_track_id", "cover_image_url")}
        assert target.client.patch({"name": unique("n"), "description": unique("d"), **kept}).status == 200
        assert target.client.patch({"name": unique("n")}).status == 200
        assert app.fields()["cover_track_id"] is None  # the fault: what was not sent was cleared
        assert target.client.patch({"name": unique("n"), "description": unique("d"), **kept}).status == 200
        done = target.restore()  # name and description differ: writing them alone clears the other two
    assert done == "collection restored and verified (all four fields written at once)"
    assert app.fields() == app.original
    assert not target.journal_path.exists()


def test_the_restore_waits_out_a_read_cache_before_it_verifies(tmp_path: Path) -> None:
    app = CachedReads(ttl=1.0)
    with target_for(app, tmp_path) as target:
        _changed_by_a_test(target, app)
        time.sleep(1.1)
        assert target.client.get().json()["name"] != app.original["name"]  # the cache now holds the test's values
        started = time.monotonic()
        done = target.restore()
        seconds = time.monotonic() - started
    assert done.startswith("collection restored and verified"), done
    assert app.fields() == app.original
    assert 0.9 < seconds < 6, f"{seconds:.2f} s: the verification did not wait for the cache (about 1 s)"


def test_a_cached_read_showing_the_originals_is_not_taken_for_a_restored_collection(tmp_path: Path) -> None:
    """The cache was filled before the test changed the collection: the first read of the restore shows
    the originals, but the run wrote, so it writes them back anyway."""
    app = CachedReads(ttl=5.0)
    with target_for(app, tmp_path) as target:
        _changed_by_a_test(target, app)  # the preflight's reads filled the cache with the originals
        assert target.client.get().json()["name"] == app.original["name"]
        assert target.restore().startswith("collection restored and verified")
    assert app.fields() == app.original


def test_a_restore_that_cannot_verify_fails_within_its_bound_keeps_the_journal_and_says_how_to_restore(
    tmp_path: Path,
) -> None:
    app = NeverKept()
    with target_for(app, tmp_path) as target:
        target.preflight()
        with app.lock:  # what a test changed, as the server stores it (this server stores no PATCH)
            app.collections[app.collection_id].name = unique("changed")
        started = time.monotonic()
        with pytest.raises(RestoreFailed) as failed:
            target.restore()
        seconds = time.monotonic() - started
        message = str(failed.value)
    assert seconds < RESTORE_SECONDS, f"{seconds:.1f} s"
    assert "\n" not in message
    assert repr(app.original) in message
    assert f"conformance restore --base-url {target.settings.base_url.replace('tester:hunter2-password@', '')}" in message
    assert "hunter2" not in message
    assert app.api_key not in message
    assert journal.read(target.journal_path) is not None, "the journal of a failed restore was removed"


# ---- what a run finds before its snapshot -------------------------------------------------------


def _abandon(target: Target) -> None:
    """What a SIGKILL leaves: the journal and the last writes on disk, the lock released, no restore."""
    target._let_go()


def test_a_journal_is_put_back_when_the_collection_holds_what_its_run_last_wrote(tmp_path: Path) -> None:
    app = Kept()
    with serving(app) as make:
        killed = make(tmp_path)
        killed.preflight()
        unmarked = {"name": "x" * 40, "description": None, "cover_track_id": None, "cover_image_url": None}
        assert killed.client.patch(unmarked).status == 200  # values no mark tells apart
        _abandon(killed)
        target = make(tmp_path)
        assert target.preflight() == app.original
        assert any("did not finish: its original values were put back first" in note for note in target.notes)
        target.restore()
    assert app.fields() == app.original


class AnswersLate(Kept):
    """Stores each PATCH, then (once ``late``) takes 2 s to answer it: a run killed meanwhile never saw the answer."""

    late = False

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if request.method == "PATCH" and self.late:
            time.sleep(2)
        return reply


#: Longer than any value the note keeps as it is (F16's long descriptions are 68 KiB).
LONG = "no mark in 68 KiB " * 4096


@pytest.mark.parametrize(
    ("body", "raw"),
    [({"name": "y" * 30, "description": "no mark here"}, False), ({"description": LONG}, False), ({"description": LONG}, True)],
    ids=["short values", "a 68 KiB value", "a 68 KiB value in raw bytes"],
)
def test_a_journal_is_put_back_when_its_run_was_killed_with_a_patch_in_flight(
    tmp_path: Path, body: dict[str, str], raw: bool
) -> None:
    """The note is written before the PATCH is sent; a long value is noted by its digest, so the next
    run still tells it from anyone else's."""
    app = AnswersLate()
    with serving(app) as make:
        killed = make(tmp_path, request_timeout="0.5")
        killed.preflight()
        app.late = True
        content = json.dumps(body).encode() if raw else None
        with pytest.raises(TargetError):  # stored, but the answer never came (as if the run was killed)
            killed.client.send("PATCH", body=MISSING if raw else body, content=content)
        assert {name: app.fields()[name] for name in body} == body
        assert len(journal.last_path(killed.journal_path).read_bytes()) < 8192, "the note keeps a digest, not a long value"
        _abandon(killed)
        app.late = False
        target = make(tmp_path)
        assert target.preflight() == app.original
        target.restore()
    assert app.fields() == app.original


def test_a_long_value_is_noted_by_digest_and_length_and_others_as_they_are() -> None:
    assert len(LONG) > journal.LONGEST
    long = "\ud800" + "x" * journal.LONGEST  # a lone surrogate too: the note is written whatever a field holds
    digest = journal.noted(long)
    assert isinstance(digest, dict)
    assert digest["length"] == journal.LONGEST + 1
    assert journal.noted(long[:-1] + "y") != digest
    assert journal.noted("x" * journal.LONGEST) == "x" * journal.LONGEST
    assert journal.noted(None) is None


def test_a_journal_is_put_back_when_its_run_left_what_the_target_answered_not_what_it_sent(tmp_path: Path) -> None:
    """PATCH as PUT clears what was not sent: the values left are those of the 200's body."""
    app = PatchAsPut()
    with serving(app) as make:
        killed = make(tmp_path)
        killed.preflight()
        assert killed.client.patch({"name": "z" * 20}).status == 200
        assert app.fields()["description"] is None
        _abandon(killed)
        target = make(tmp_path)
        assert target.preflight() == app.original
        target.restore()
    assert app.fields() == app.original


def test_a_journal_is_not_applied_over_values_its_run_did_not_write(tmp_path: Path) -> None:
    app = Kept()
    with serving(app) as make:
        killed = make(tmp_path)
        killed.preflight()
        assert killed.client.patch({"name": unique("n")}).status == 200
        _abandon(killed)
        with app.lock:  # someone else's change since the run was killed
            app.collections[app.collection_id].name = "Renamed by a person"
        patches = app.patches()
        target = make(tmp_path)
        with pytest.raises(InUse) as stopped:
            target.preflight()
    message = str(stopped.value)
    assert app.patches() == patches
    assert "did not finish, and the collection now holds values it did not write" in message
    assert repr(app.original) in message
    assert f"conformance restore --base-url {target.settings.base_url.replace('tester:hunter2-password@', '')}" in message
    assert "--adopt-current-state" in message
    assert journal.read(target.journal_path) is not None


def test_adopting_the_current_state_sets_a_journal_aside_and_keeps_the_values(tmp_path: Path) -> None:
    app = Kept()
    with serving(app) as make:
        killed = make(tmp_path)
        killed.preflight()
        _abandon(killed)
        with app.lock:
            app.collections[app.collection_id].name = "Renamed by a person"
        current = app.fields()
        target = make(tmp_path, adopt_current_state="1")
        assert target.preflight() == current
        assert list(target.journal_path.parent.glob("*.superseded-*.json")), "the old journal was lost"
        target.restore()
    assert app.fields() == current


def test_a_collection_holding_the_suites_values_is_refused_unless_adopted(tmp_path: Path) -> None:
    app = Kept()
    with app.lock:
        app.collections[app.collection_id].description = unique("left by a killed run")
    with target_for(app, tmp_path / "a") as target, pytest.raises(InUse, match=r"holds a value this suite writes \(description"):
        target.preflight()
    assert app.patches() == 0
    with target_for(app, tmp_path / "b", adopt_current_state="1") as target:
        assert target.preflight()["description"] == app.fields()["description"]
        target.restore()


def test_the_watch_does_the_work_given_and_waits_only_what_is_left(tmp_path: Path) -> None:
    """The preflight's watch hands its wait to the work given (``conformance.warmup``): the whole watch
    lasts about its 0.4 s, not 0.4 s and the work; work longer than the watch makes it longer."""
    from conformance.target import WATCH_SECONDS

    for work, least, most in ((0.25, WATCH_SECONDS, WATCH_SECONDS + 0.2), (0.7, 0.7, 0.9)):
        app = Kept()
        with target_for(app, tmp_path / str(work)) as target:
            given: list[float] = []

            def meanwhile(deadline: float, work: float = work, given: list[float] = given) -> None:
                given.append(deadline)
                time.sleep(work)

            target.meanwhile = meanwhile
            document = target._read()
            started = time.monotonic()
            target._watch(document)
            took = time.monotonic() - started
        assert len(given) == 1
        assert given[0] == pytest.approx(started + WATCH_SECONDS, abs=0.05)
        assert least <= took < most, f"work of {work} s: the watch took {took:.2f} s"


def test_the_warmup_starts_no_step_after_the_deadline_and_outlives_a_failing_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance import warmup

    done: list[str] = []

    def step(name: str, seconds: float = 0.0, fail: bool = False) -> Callable[[], None]:
        def run() -> None:
            done.append(name)
            time.sleep(seconds)
            if fail:
                raise RuntimeError(name)

        return run

    monkeypatch.setattr(warmup, "steps", lambda settings: [step("a", fail=True), step("b", 0.2), step("c")])
    settings: Any = None  # the steps, replaced, take none
    warmup.meanwhile(settings)(time.monotonic() + 0.1)
    assert done == ["a", "b"], "a failing step stops nothing; no step starts after the deadline"
    done.clear()
    warmup.meanwhile(settings)(time.monotonic() + 5)
    assert done == ["a", "b", "c"]


def test_a_collection_changing_while_watched_is_refused(tmp_path: Path) -> None:
    app = Kept()
    stop = threading.Event()

    def someone_else() -> None:
        while not stop.wait(0.05):
            with app.lock:
                app.collections[app.collection_id].name = f"edited at {time.monotonic()}"

    with target_for(app, tmp_path) as target:
        thread = threading.Thread(target=someone_else)
        thread.start()
        try:
            with pytest.raises(InUse, match=r"changed while this run watched it for \d+\.\d s \(name\)"):
                target.preflight()
        finally:
            stop.set()
            thread.join()
    assert app.patches() == 0


def test_conformance_restore_waits_for_no_run_and_says_when_there_is_nothing_to_restore(tmp_path: Path) -> None:
    app = Kept()
    with serving(app) as make:
        running = make(tmp_path)
        running.preflight()  # a run in progress: it holds the lock
        with pytest.raises(InUse, match="in progress on this machine"):
            make(tmp_path).restore_journal()
        assert running.restore() == "collection restored and verified"
        assert make(tmp_path).restore_journal().startswith("nothing to restore: no journal of collection")
    assert app.fields() == app.original
