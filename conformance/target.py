"""The target of a run: the bundled stub or a staging URL, its preflight, snapshot and restore.

Staging is someone's data. Before the first change the preflight

1. takes the lock of this target and collection on this machine (a run in progress holds it);
2. reads the collection, and when a killed run left a journal, puts that run's original values back
   first (when the collection still holds what that run wrote), or stops;
3. refuses a collection that holds values this suite writes, or that changes while it watches it
   for a moment: another run is at work on it, or was killed before it could restore;
4. snapshots the four fields and writes them to the journal (:mod:`conformance.journal`);
5. tries each configured track, so that a track the target refuses is a configuration error now,
   not a false failure later.

At the end (pass, fail or interrupt) :meth:`Target.restore` writes the fields back, verifies them,
and only then removes the journal. Against the bundled stub (in-process: its data dies with the run)
there is no journal, no lock and no watch.

Exceptions, each with a one-line message: :class:`NotJudged` and its :class:`InUse` (exit 3),
:class:`conformance.config.ConfigError` (exit 4), :class:`RestoreFailed` (a failed restore).
"""

from __future__ import annotations

import contextlib
import json
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from conformance import fields, journal
from conformance.client import MISSING, BrokenResponse, Client, Exchange, OutOfTime, TargetError
from conformance.config import ConfigError, Settings
from conformance.fields import JSON
from conformance.stub import RunningStub, create

#: The restore's own bound, in seconds, whatever ``--max-time`` has left (each request is bounded
#: by ``--request-timeout`` as well).
RESTORE_SECONDS = 30.0
#: After a write-back, reads again after these pauses before calling it failed: a read cache
#: may serve the old values for a while (3.75 s in all).
SETTLE_PAUSES = (0.25, 0.5, 1.0, 2.0)
#: How long the preflight watches the collection for another run's changes.
WATCH_SECONDS = 0.4


class NotJudged(Exception):
    """The target cannot be judged (unreachable, wrong key or ids); the message is one line. Exit 3."""


class InUse(NotJudged):
    """Another run is at work on the collection, or was killed and left it changed; nothing was
    changed by this run. The message is one line saying what was seen and what to do. Exit 3."""


class RestoreFailed(Exception):
    """The collection could not be put back as it was; the message names the original values and,
    when a journal keeps them, the ``conformance restore`` command."""


def start_stub(fault: str | None) -> tuple[RunningStub, dict[str, Any]]:
    """Serve the bundled stub (or its named fault) on a free loopback port; returns it and its seed."""
    stub = RunningStub(create(fault))
    return stub, stub.app.seed(stub.base_url).as_dict()


def _fields(document: Mapping[str, JSON]) -> dict[str, JSON]:
    return {name: document.get(name) for name in fields.FIELD_NAMES}


class Target:
    """Settings, client and the collection's original state for one run."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self.snapshot: dict[str, JSON] | None = None
        self.journal: journal.Journal | None = None
        #: What the preflight did besides reading (a killed run's values put back, a journal set aside).
        self.notes: list[str] = []
        self.identity = journal.RunIdentity.current()
        self.journal_path = journal.journal_path(settings.report_dir, settings.base_url, settings.org_id, settings.collection_id)
        self._lock = journal.Lock(journal.lock_path(self.journal_path))
        self._written = threading.Lock()
        self._last_writes: journal.LastWrites | None = None
        #: What :meth:`restore` did, once it did it; a PATCH accepted since makes it ``None`` again.
        self._outcome: str | RestoreFailed | None = None
        #: A PATCH of the collection was accepted: a read that shows the original values may be a cached one.
        self.changed = False
        #: Work to do while the preflight watches the collection, given the instant the watch ends
        #: (``conformance.warmup``); the watch then waits what is left.
        self.meanwhile: Callable[[float], None] | None = None

    # ---- before the first change ---------------------------------------------------------------

    def preflight(self) -> dict[str, JSON]:
        """Make sure the run may change the collection, snapshot it, journal it; returns the snapshot.

        Raises :class:`NotJudged` (unreachable, wrong key or ids), :class:`InUse` (another run's
        values or changes; a killed run's journal that cannot be applied), :class:`ConfigError` (a
        configured track the target refuses: the collection is back as it was). Exit 3, 3 and 4."""
        if self.settings.stub:
            self.snapshot = _fields(self._read())
            return self.snapshot
        self._take_lock()
        try:
            document = self._read(writable=False)  # a killed run may have left what cannot be written back
            found = self._journal_found()
            if found is not None:
                document = self._settle(found, document)
            elif not self.settings.adopt_current_state:
                self._refuse_suite_values(_fields(document))
            document = self._watch(document)
            self.snapshot = _fields(document)
            self.journal = journal.Journal(
                self.journal_path, journal.public_url(self.settings.base_url), self.settings.org_id,
                self.settings.collection_id, self.snapshot, document.get("updated_at"), self.identity,
            )  # fmt: skip
            journal.write(self.journal)
        except journal.JournalError as error:
            self._lock.release()
            raise ConfigError(f"{error}: the suite changes nothing it cannot put back; check --report-dir") from None
        except BaseException:
            self._lock.release()
            raise
        self._note_writes()
        self._try_tracks()
        return self.snapshot

    def _take_lock(self) -> None:
        try:
            self._lock.acquire(self.identity)
        except journal.Busy as holder:
            raise InUse(
                f"another run against collection {self.settings.collection_id} is in progress on this machine: {holder} "
                f"holds {self._lock.path}; nothing was changed: run again when it has ended"
            ) from None
        except journal.JournalError as error:
            raise ConfigError(f"{error}: check --report-dir") from None

    def _read(self, *, writable: bool = True) -> dict[str, JSON]:
        """GET the collection; the document, or :class:`NotJudged` saying why it cannot be had (with
        ``writable``, also when its fields hold values a PATCH could not write back)."""
        where = f"{journal.public_url(self.settings.base_url)}{self.client.path()}"
        try:
            exchange = self.client.get()
        except BrokenResponse as error:
            raise NotJudged(f"cannot read the collection to snapshot it: {error}") from None
        except OutOfTime as error:
            raise NotJudged(f"{error}") from None
        except TargetError as error:
            raise NotJudged(f"target unreachable: {error}") from None
        if exchange.status == 401:
            raise NotJudged(f"the API key was rejected (HTTP 401) by {where}; check {_hint('api_key')}")
        if exchange.status == 404:
            raise NotJudged(
                f"the collection was not found (HTTP 404) at {where}; check {_hint('org_id')} and {_hint('collection_id')}"
            )
        try:
            document = exchange.json()
            if exchange.status != 200 or not isinstance(document, dict) or not set(fields.FIELD_NAMES) <= set(document):
                raise ValueError
        except ValueError:
            raise NotJudged(
                f"cannot read the collection to snapshot it: GET {where} answered HTTP {exchange.status} {exchange.text[:200]!r}"
            ) from None
        unrestorable = fields.body_errors(_fields(document)) if writable else []
        if unrestorable:
            raise NotJudged(
                f"the collection at {where} holds values a PATCH cannot write back ({unrestorable[0].message}), "
                "so the suite could not restore it: use a collection whose fields keep today's rules"
            )
        return document

    def _journal_found(self) -> journal.Journal | None:
        try:
            return journal.read(self.journal_path)
        except journal.JournalError as error:
            raise InUse(f"{error}; nothing was changed: look at it, put its values back by hand, then remove it") from None

    def _settle(self, found: journal.Journal, document: dict[str, JSON]) -> dict[str, JSON]:
        """A run that did not finish left ``found``: put its originals back when the collection still
        holds what it wrote; returns the collection as it now is. Raises :class:`InUse`."""
        current = _fields(document)
        who = found.run.describe()
        if current == found.original:
            journal.remove(found.path)
            self.notes.append(f"{who} did not finish, but the collection holds its original values: its journal was removed")
            return document
        written = journal.written_values(found.path, found.run.run_id)
        if journal.holds_only_written(current, found.original, written) or journal.written_by_suite(current):
            try:
                done = self._put_back(found.original, force_write=True, keeping=found)
            except RestoreFailed as error:
                raise InUse(f"{who} did not finish and left the collection changed; {error}") from None
            journal.remove(found.path)
            self.notes.append(f"{who} did not finish: its original values were put back first ({done}): {found.original!r}")
            return self._read()
        if self.settings.adopt_current_state:
            kept = journal.set_aside(found.path, found.run.run_id)
            self.notes.append(
                f"{who} did not finish; its journal (original values {found.original!r}) was set aside as {kept}, "
                f"since {_hint('adopt_current_state')} takes the current values as the original ones"
            )
            return document
        raise InUse(
            f"{who} did not finish, and the collection now holds values it did not write, so its journal "
            f"{found.path} was not applied and nothing was changed; put its original values {found.original!r} back with "
            f"`{restore_command(self.settings)}`, or keep the current ones with {_hint('adopt_current_state')}"
        )

    def _refuse_suite_values(self, current: dict[str, JSON]) -> None:
        field = journal.suite_field(current)
        if field is not None:
            raise InUse(
                f"the collection holds a value this suite writes ({field} {_short(current[field])}): another run is in "
                "progress or was killed before it could restore; nothing was changed. If that run's report FOLDER is left, "
                f"`{restore_command(self.settings, report_dir='FOLDER')}` puts its values back; if no run is at work "
                f"and these values are fine, re-run with {_hint('adopt_current_state')}"
            )

    def _watch(self, document: dict[str, JSON]) -> dict[str, JSON]:
        """Read again after a moment: a collection that changes meanwhile is someone else's work in progress."""
        started = time.monotonic()
        deadline = started + WATCH_SECONDS
        if self.meanwhile is not None:  # at least WATCH_SECONDS, longer when the work takes longer
            self.meanwhile(deadline)
        time.sleep(max(0.0, deadline - time.monotonic()))
        again = self._read()
        watched = time.monotonic() - started
        moved = [name for name in fields.FIELD_NAMES if again.get(name) != document.get(name)]
        if _instant(again.get("updated_at")) != _instant(document.get("updated_at")):
            moved.append("updated_at")
        if moved:
            raise InUse(
                f"the collection changed while this run watched it for {watched:.1f} s ({', '.join(moved)}): another "
                "run or someone else is changing it; nothing was changed: run again when it is left alone"
            )
        return again

    def _note_writes(self) -> None:
        """From now on, the values of every PATCH of the collection are noted in the journal's ``.last``
        file before it is sent (and the fields of every accepted one when it is answered), so that a
        run that finds this journal tells the values this run left from anyone else's."""
        try:
            self._last_writes = journal.LastWrites(self.journal_path, self.identity.run_id)
        except OSError as error:
            self.notes.append(f"could not note the values written ({error}); the journal is intact")
        send, add = self.client.send, self.client.recorder.add

        def sending(method: str, **kwargs: Any) -> Exchange:
            if method == "PATCH" and self._is_ours(kwargs.get("org_id"), kwargs.get("collection_id")):
                self._note(_sent(kwargs.get("body", MISSING), kwargs.get("content")), stored=False)
            return send(method, **kwargs)

        def recording(exchange: Exchange) -> None:
            add(exchange)
            self._answered(exchange)

        self.client.send = sending  # type: ignore[method-assign]
        self.client.recorder.add = recording  # type: ignore[method-assign]

    def _is_ours(self, org_id: str | None, collection_id: str | None) -> bool:
        """Whether a request with these path ids goes to the configured collection (``None``: the configured id)."""
        return org_id in (None, self.settings.org_id) and collection_id in (None, self.settings.collection_id)

    def _note(self, values: Mapping[str, JSON], *, stored: bool) -> None:
        notes = self._last_writes
        if notes is None or not values:
            return
        try:
            notes.note(values, stored=stored)
        except (OSError, ValueError) as error:  # not fatal: the mark of suite values still tells them apart
            self._last_writes = None
            self.notes.append(f"could not note the values written ({error}); the journal is intact")

    def _answered(self, exchange: Exchange) -> None:
        if exchange.method != "PATCH" or exchange.status != 200:
            return
        try:
            document = exchange.json()
        except ValueError:
            return
        if not isinstance(document, dict) or document.get("id") != self.settings.collection_id:
            return
        with self._written:
            self.changed = True
            self._outcome = None
        self._note(_fields(document), stored=True)

    def _try_tracks(self) -> None:
        """PATCH each configured track once: a refusal (404 or 422, freedom F4) means the option is
        wrong, not the target; the collection is then put back and :class:`ConfigError` raised."""
        assert self.snapshot is not None
        try:
            for track in dict.fromkeys(self.settings.track_ids):
                if track == self.snapshot.get("cover_track_id"):
                    continue  # stored already: the target knows it
                try:
                    answer = self.client.patch({"cover_track_id": track})
                except TargetError:
                    return  # not an answer about the track; the tests meet the same target and say so
                if answer.status in (404, 422):
                    why = f"the target refused the configured track {track!r} (HTTP {answer.status})"
                    try:
                        self.restore()
                    except RestoreFailed as error:
                        raise NotJudged(f"{why}; {error}") from None
                    raise ConfigError(
                        f"{why}: check {_hint('track_ids')} names tracks of organization {self.settings.org_id} "
                        "(the collection is back as it was)"
                    )
        except (NotJudged, ConfigError):
            raise
        except BaseException:  # interrupted here: restore now, whether or not the caller's restore covers the preflight
            self._restore_quietly()
            raise

    def _restore_quietly(self) -> None:
        with contextlib.suppress(RestoreFailed):  # kept: the fixture's own call of restore() raises it again
            self.restore()

    # ---- at the end ----------------------------------------------------------------------------

    def restore(self) -> str:
        """Put the snapshot back when it changed, verify it, and remove the journal; returns what was
        done ("" when the collection was never read: the preflight stopped before its snapshot).

        Safe to call whatever the preflight did: when the preflight restored already (a refused
        track, an interrupt while it tried the tracks), this returns (or raises) that outcome again.
        Bounded by :data:`RESTORE_SECONDS` (and each request by ``--request-timeout``); SIGINT and
        SIGTERM are ignored while it works. Raises :class:`RestoreFailed`: the journal stays."""
        from conformance.safety import shielded

        if isinstance(self._outcome, RestoreFailed):
            raise self._outcome
        if self._outcome is not None:
            return self._outcome
        if self.snapshot is None:
            self._let_go()
            return ""
        try:
            with shielded("the restore"):
                done = self._put_back(self.snapshot, force_write=self.changed, keeping=self.journal)
            if self.journal is not None:
                try:
                    journal.remove(self.journal.path)
                    self.journal = None
                except journal.JournalError as error:
                    done = f"{done}; but {error}: remove it by hand"
            self._outcome = done
            return done
        except RestoreFailed as error:
            self._outcome = error
            raise
        finally:
            self._let_go()

    def _let_go(self) -> None:
        notes, self._last_writes = self._last_writes, None
        if notes is not None:
            notes.close()
        self._lock.release()

    def restore_journal(self) -> str:
        """``conformance restore``: put back the values of this target's journal, verify, remove it.

        Raises :class:`InUse` (a run in progress holds the lock, or the journal is unreadable),
        :class:`NotJudged`, :class:`RestoreFailed`."""
        self._take_lock()
        try:
            found = self._journal_found()
            if found is None:
                return (
                    f"nothing to restore: no journal of collection {self.settings.collection_id} at "
                    f"{journal.public_url(self.settings.base_url)} in {self.journal_path.parent}"
                )
            done = self._put_back(found.original, force_write=True, keeping=found)
            journal.remove(found.path)
            return f"{done}: the original values of {found.run.describe()}, {found.original!r}"
        finally:
            self._lock.release()

    def _put_back(self, original: dict[str, JSON], *, force_write: bool, keeping: journal.Journal | None) -> str:
        """Write ``original`` back and verify it, trying again on transport errors, within :data:`RESTORE_SECONDS`."""
        deadline = time.monotonic() + RESTORE_SECONDS
        previous = self.client.deadline
        self.client.fresh_budget(RESTORE_SECONDS)  # its own bound, past --max-time: every request within it
        why = ""
        try:
            for attempt in range(1, 4):
                try:
                    return self._put_back_once(original, force_write, deadline, keeping)
                except OutOfTime:
                    why = f"the restore's bound of {RESTORE_SECONDS:g} s is spent"
                    break
                except TargetError as error:
                    why = f"{type(error).__name__}: {error}"
                pause = 0.5 * attempt
                if attempt == 3 or time.monotonic() + pause >= deadline:
                    break
                time.sleep(pause)
        finally:
            self.client.deadline = previous
        raise RestoreFailed(self._failure(why, original, keeping))

    def _put_back_once(
        self, original: dict[str, JSON], force_write: bool, deadline: float, keeping: journal.Journal | None
    ) -> str:
        """Write the fields that differ; when that does not hold (a PATCH that clears what it was not
        sent, a read cache), all four at once. A transport failure propagates (and is tried again)."""
        before = self._stored()
        if before == original and not force_write:
            return "collection unchanged; nothing to restore"
        changed = {name: value for name, value in original.items() if before is None or before.get(name) != value}
        tried = ""
        if changed and len(changed) < len(original):
            answer = self.client.patch(changed)
            if answer.status == 200 and self._settles(original, deadline, stale=before):
                return "collection restored and verified"
            tried = f"writing back {', '.join(changed)} alone answered HTTP {answer.status} and did not hold; "
        answer = self.client.patch(dict(original))
        if answer.status == 200 and self._settles(original, deadline, stale=None):
            return "collection restored and verified" + (" (all four fields written at once)" if tried else "")
        raise RestoreFailed(
            self._failure(
                f"{tried}writing all four answered HTTP {answer.status}, read back {self._stored()!r}", original, keeping
            )
        )

    def _settles(self, original: dict[str, JSON], deadline: float, *, stale: dict[str, JSON] | None) -> bool:
        """Read until ``original`` shows, backing off (a read cache may serve old values for a while).
        With ``stale`` (the values before the write), a read that shows neither ends the wait: the
        write took effect, wrongly, and no cache will change that."""
        for pause in (0.0, *SETTLE_PAUSES):
            if pause:
                if time.monotonic() + pause >= deadline:
                    return False
                time.sleep(pause)
            seen = self._stored()
            if seen == original:
                return True
            if stale is not None and seen != stale:
                return False
        return False

    def _stored(self) -> dict[str, JSON] | None:
        """The four fields as a read shows them; ``None`` when the read is not a collection."""
        exchange = self.client.get()
        try:
            document = exchange.json()
        except ValueError:
            return None
        return _fields(document) if exchange.status == 200 and isinstance(document, dict) else None

    def originals(self) -> str:
        """Where the original values are, for a message that says to put them back."""
        where = f"; the journal {self.journal.path} keeps them" if self.journal is not None else ""
        return f"the original fields of collection {self.settings.collection_id} were {self.snapshot!r}{where}"

    def _failure(self, why: str, original: dict[str, JSON], keeping: journal.Journal | None) -> str:
        text = (
            f"RESTORE FAILED for collection {self.settings.collection_id} at {journal.public_url(self.settings.base_url)}: "
            f"{why}. Its original fields were {original!r}"
        )
        if keeping is None:
            return text + "; put them back by hand."
        return text + f"; the journal {keeping.path} keeps them: put them back with `{restore_command(self.settings)}`"


def restore_command(settings: Settings, *, report_dir: str | None = None) -> str:
    """The ``conformance restore`` command that puts this target's journal back (it reads the key
    from the environment, as the run did: no key is ever printed)."""
    parts = ["conformance", "restore", "--base-url", journal.public_url(settings.base_url)]
    parts += ["--org-id", settings.org_id, "--collection-id", settings.collection_id]
    parts += ["--report-dir", report_dir or str(settings.report_dir)]
    return " ".join(shlex.quote(part) for part in parts)


def _sent(body: JSON, content: bytes | None) -> dict[str, JSON]:
    """The valid values of the four fields a PATCH carries (a JSON body, or raw bytes that decode as
    one). Invalid ones are left out: a conformant target stores none, and the validation tests send
    so many that they would push the values that are stored out of the note."""
    if body is MISSING and content is not None:
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
            return {}
    if not isinstance(body, dict):
        return {}
    return {
        name: body[name] for name in fields.FIELD_NAMES if name in body and fields.FIELDS_BY_NAME[name].error(body[name]) is None
    }


def _short(value: JSON) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "...'"


def _instant(value: JSON) -> JSON:
    """A timestamp as an instant (F8: the same one may be spelt ``Z`` or ``+00:00``), else as it is."""
    if isinstance(value, str) and fields.is_rfc3339(value):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return value
    return value


def _hint(dest: str) -> str:
    from conformance.config import describe

    return describe(dest)
