"""The journal of a run: the collection's original values on disk before the first change, and a lock.

Staging is someone's data, and a run can die at any moment (a CI hard kill, the OOM killer): the
restore in a ``finally`` never runs then. So before its first change a run writes the collection's
original values and who it is (host, pid, start time, a run id; never a key or a password) to a
journal in a state folder, ``<report-dir>/.conformance-state/<digest>.json``, one per target URL,
organization and collection. It is written atomically (a temporary file, fsync, rename, fsync of
the folder) and removed only after a verified restore, so a killed run leaves it behind for the
next run (or ``conformance restore``) to put the values back.

Next to it, ``<digest>.last.json`` notes the values the run last wrote into each field (noted
before each PATCH is sent, cheaply: it must survive the process, not the machine; see :class:`LastWrites`),
and ``<digest>.lock`` is held with ``flock`` for the run's lifetime: a live run holds it, a killed
one has released it (the kernel does) but left its journal.

Runs on other machines share no folder; what they can see of each other is in band: values this
suite writes carry a mark (:func:`marked`), which :func:`written_by_suite` recognises.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.fields import BODY_FIELDS, FIELD_NAMES, FREE_TEXT_LIMIT, JSON

FORMAT = "conformance-journal/1"
#: The state folder's name, inside ``--report-dir``.
FOLDER = ".conformance-state"


# ---- values this suite writes ------------------------------------------------------------------

#: The mark of a value this suite writes: ``conformance <label> <12 hex digits>``, anywhere in a
#: field (a URL carries it with dashes: ``.../covers/conformance-round-3-0123456789ab.png``).
MARK = re.compile(r"(?<![0-9A-Za-z])conformance[ -](?:[^\n]{0,200}?[ -])?[0-9a-f]{12}(?![0-9A-Za-z])")


def marked(label: str) -> str:
    """A value no server holds yet, carrying the suite's mark: ``conformance <label> <12 hex>``.

    ``support.unique`` returns it; a URL helper makes ``URL_PREFIX + marked(label).replace(" ", "-")
    + ".png"``. Both are recognised by :func:`written_by_suite`."""
    return f"conformance {label} {secrets.token_hex(6)}"


def suite_field(fields: Mapping[str, JSON]) -> str | None:
    """The first of the four fields whose value carries the suite's mark, or ``None``."""
    for name in FIELD_NAMES:
        value = fields.get(name)
        if isinstance(value, str) and MARK.search(value):
            return name
    return None


def written_by_suite(fields: Mapping[str, JSON]) -> bool:
    """Whether the collection holds a value this suite writes (the mark of :func:`marked`)."""
    return suite_field(fields) is not None


# ---- who a run is, and where its journal lives -------------------------------------------------


@dataclass(frozen=True)
class RunIdentity:
    """Who wrote a journal or holds a lock: no secret, only what tells one run from another."""

    run_id: str
    host: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> RunIdentity:
        started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls(secrets.token_hex(8), socket.gethostname(), os.getpid(), started)

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, started {self.started})"

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "host": self.host, "pid": self.pid, "started": self.started}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunIdentity:
        return cls(str(data["run_id"]), str(data["host"]), int(data["pid"]), str(data["started"]))


def public_url(url: str) -> str:
    """``url`` without credentials (``user:pass@``), a query or a fragment, and no trailing slash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


def journal_path(report_dir: Path, base_url: str, org_id: str, collection_id: str) -> Path:
    """Where the journal of this target and collection lives (a digest: ids and URLs make poor file names)."""
    digest = hashlib.sha256(f"{public_url(base_url)}\n{org_id}\n{collection_id}".encode()).hexdigest()[:24]
    return report_dir / FOLDER / f"{digest}.json"


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name.removesuffix(".json") + suffix)


def last_path(path: Path) -> Path:
    return _sibling(path, ".last.json")


def lock_path(path: Path) -> Path:
    return _sibling(path, ".lock")


# ---- the journal -------------------------------------------------------------------------------


class JournalError(Exception):
    """A journal exists but cannot be read or written; the message names the file."""


@dataclass(frozen=True)
class Journal:
    """What a run must be able to put back: the four fields as they were, where, and who changed them."""

    path: Path
    base_url: str  # without credentials
    org_id: str
    collection_id: str
    original: dict[str, JSON]
    updated_at: JSON  # as read with the original values, to recognise them later
    run: RunIdentity

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "target": {"base_url": self.base_url, "org_id": self.org_id, "collection_id": self.collection_id},
            "original": self.original,
            "updated_at": self.updated_at,
            "run": self.run.as_dict(),
        }


def write(journal: Journal) -> None:
    """Write ``journal`` so that it is on disk, whole, before this returns. Raises :class:`JournalError`."""
    try:
        _write_atomically(journal.path, json.dumps(journal.as_dict(), indent=1), durable=True)  # ASCII: lone surrogates too
    except OSError as error:
        raise JournalError(f"cannot write the journal {journal.path}: {error.strerror or error}") from None


def read(path: Path) -> Journal | None:
    """The journal at ``path``; ``None`` when there is none. Raises :class:`JournalError` when it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise JournalError(f"cannot read the journal {path}: {error}") from None
    try:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
        original = data["original"]
        if not isinstance(original, dict) or set(original) != set(FIELD_NAMES):
            raise ValueError("its original values are not the four fields")
        target = data["target"]
        return Journal(
            path, str(target["base_url"]), str(target["org_id"]), str(target["collection_id"]),
            {name: original[name] for name in FIELD_NAMES}, data.get("updated_at"), RunIdentity.from_dict(data["run"]),
        )  # fmt: skip
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise JournalError(f"cannot read the journal {path}: {error}") from None


def remove(path: Path) -> None:
    """Remove the journal at ``path`` (and what its run last wrote), durably. Raises :class:`JournalError`."""
    try:
        for file in (last_path(path), path):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
        _sync_folder(path.parent)
    except OSError as error:
        raise JournalError(f"cannot remove the journal {path}: {error.strerror or error}") from None


def set_aside(path: Path, run_id: str) -> Path:
    """Keep a journal the user chose not to restore (``--adopt-current-state``) under another name; returns it."""
    kept = _sibling(path, f".superseded-{run_id}.json")
    try:
        os.replace(path, kept)
        with contextlib.suppress(FileNotFoundError):
            last_path(path).unlink()
    except OSError as error:
        raise JournalError(f"cannot set the journal {path} aside: {error.strerror or error}") from None
    return kept


#: How many values a run last wrote are kept per field: PATCHes sent in parallel may be applied
#: in another order than they were sent or answered in.
RECENT = 16
#: Longer values are noted by their digest and length (:func:`noted`), so the note stays small
#: whatever a run writes (F16's long descriptions are 68 KiB).
LONGEST = max(2048, FREE_TEXT_LIMIT, *(spec.max_length or 0 for spec in BODY_FIELDS))


def noted(value: JSON) -> JSON:
    """``value`` as the note keeps it: ``None`` and strings up to :data:`LONGEST` characters as they
    are, longer strings as ``{"sha256": ..., "length": ...}`` (a field's value is never an object,
    so the two cannot be confused); any other value as it is (a conformant target stores none)."""
    if isinstance(value, str) and len(value) > LONGEST:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        return {"sha256": digest, "length": len(value)}
    return value


class LastWrites:
    """``<digest>.last.json``: per field, the values the run last sent in a PATCH of the collection,
    and those it read back from accepted ones.

    A value is noted *before* the PATCH that carries it is sent, so a run killed with a PATCH in
    flight (the target may have stored it, the answer never came) has noted what it may have left.
    Values read back from a 200 are kept apart: the many values sent and refused (what a target may
    refuse, F10) never push a stored one out of the note.

    The note is rewritten often, so it must be cheap: one ``pwrite`` of the whole record at offset 0
    into a file kept open, padded with spaces (JSON white space) to the longest record so far, so
    that no truncation is needed. A process killed at any moment leaves a whole record (a small
    write is not cut by a signal); a power cut may lose it, and then :func:`written_by_suite` is
    what is left to recognise the run's values. (A rename per PATCH would cost milliseconds: the
    file system flushes a file renamed over another.) Thread-safe."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = last_path(path)
        self.run_id = run_id
        self._values: dict[str, dict[str, list[JSON]]] = {kind: {name: [] for name in FIELD_NAMES} for kind in ("sent", "stored")}
        self._size = 0
        self._lock = threading.Lock()
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def note(self, fields: Mapping[str, JSON], *, stored: bool) -> None:
        """Note the values ``fields`` holds for any of the four fields (``stored``: read back from a
        200, else about to be sent); on disk when this returns."""
        with self._lock:
            values = self._values["stored" if stored else "sent"]
            new = False
            for name, given in fields.items():
                kept = values.get(name)
                if kept is None or not (given is None or isinstance(given, str)):
                    continue
                value = noted(given)
                if value in kept:
                    kept.remove(value)
                else:
                    new = True
                kept.append(value)
                del kept[:-RECENT]
            if new and self._descriptor >= 0:
                data = json.dumps({"run_id": self.run_id, **self._values}).encode()  # ASCII: lone surrogates too
                self._size = max(self._size, len(data))
                os.pwrite(self._descriptor, data.ljust(self._size), 0)

    def close(self) -> None:
        with self._lock:
            if self._descriptor >= 0:
                os.close(self._descriptor)
                self._descriptor = -1


def written_values(path: Path, run_id: str) -> dict[str, list[JSON]]:
    """Per field, the values run ``run_id`` last sent or read back (see :class:`LastWrites`); empty when none."""
    try:
        data = json.loads(last_path(path).read_text(encoding="utf-8"))
        if data["run_id"] != run_id:
            return {}
        return {name: [*data["sent"][name], *data["stored"][name]] for name in FIELD_NAMES}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def holds_only_written(current: Mapping[str, JSON], original: Mapping[str, JSON], written: Mapping[str, list[JSON]]) -> bool:
    """Whether every field of ``current`` holds its original value or one the run wrote there."""
    return all(
        current.get(name) == original.get(name) or noted(current.get(name)) in written.get(name, ()) for name in FIELD_NAMES
    )


def _write_atomically(path: Path, text: str, *, durable: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
        if durable:
            file.flush()
            os.fsync(file.fileno())
    os.replace(temporary, path)
    if durable:
        _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# ---- the lock ----------------------------------------------------------------------------------


class Busy(Exception):
    """Another live process on this machine holds the lock; the message says who, when known."""


class Lock:
    """An ``flock`` on ``<digest>.lock`` for a run's lifetime; the file says who holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = None

    def acquire(self, identity: RunIdentity) -> None:
        """Take the lock without waiting. Raises :class:`Busy` (someone holds it) or :class:`JournalError`."""
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise JournalError(f"cannot create the lock {self.path}: {error.strerror or error}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(descriptor)
            os.close(descriptor)
            raise Busy(holder) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(identity.as_dict()).encode(), 0)
        self._descriptor = descriptor

    def release(self) -> None:
        """Let go (closing the file releases the flock); the file stays, so no one locks a removed one."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    @property
    def held(self) -> bool:
        return self._descriptor is not None


def _holder(descriptor: int) -> str:
    try:
        return RunIdentity.from_dict(json.loads(os.pread(descriptor, 4096, 0) or b"{}")).describe()
    except (OSError, ValueError, KeyError, TypeError):
        return "a run that has not said who it is yet"
