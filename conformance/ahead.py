"""The schemathesis cases of a run, drawn in a process of their own while the run goes on.

Drawing the property tests' cases is CPU work (about 0.5 s of a quick run, 1.3 s of a default one)
that depends only on the seed and the configured ids (``conformance.drawn``). Once its tests are
collected, a run starts a Python process of its own interpreter running this module's :func:`main`;
that process draws the cases of every kind the run's tests need and hands each kind over as soon as
it is drawn, while the run sends its first requests on another core (with a single core it is not
started). Nothing is shared but a pipe:

- The process is given the seed, the profile, the ids and the report folder (hypothesis' storage),
  never a key or the target's address: its environment keeps only what Python and hypothesis read
  (:func:`_environment`), its command line the run's interpreter flags and module path. It sends no
  request.
- It ignores SIGINT (a Ctrl-C is the run's to handle) and dies with SIGTERM; when the run has gone,
  its next write fails and it ends.
- The run takes a kind when its test first needs it (:func:`take`). While it waits, a signal ends the
  run at once; the process says it is alive after every case it draws, and the run waits as long as
  it does (until :data:`SILENCE` seconds pass without a word). Anything else (the process could not
  start, died, sent what cannot be read, went silent) and the test draws the kind itself, as it would
  without this: the same cases, in the same order (a self-test compares them, and their metadata).
- The run stops the process at its end, whatever state it is in.

The cases are pickled with the schemathesis operation they were drawn from left out (it holds
modules): the run puts its own operation of that kind in its place, and works out again the hashes a
case keeps of its generated parts (Python's hashes differ from one process to another: left as they
came, every case would look modified, and schemathesis would judge its generation mode again).
Only POSIX systems draw ahead (the wait selects on a pipe).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import logging
import os
import pickle
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.config import Settings
    from conformance.drawn import Drawn

LOG = logging.getLogger(__name__)
#: The longest a test waits for a word from the drawing process (a kind, or that it is alive)
#: before drawing its kind itself.
SILENCE = 20.0
#: What the process says after each case drawn, now and then: ``alive`` frames carry nothing.
ALIVE = b"alive 0\n"
#: Whether a run draws ahead. A plugin of a run that stops at its first failure (the mutation
#: self-test's runs against a fault) turns it off: such a run seldom gets to the property tests.
ENABLED = True


def _inputs(settings: Settings) -> dict[str, Any]:
    """What the drawing process is told: what the cases depend on, nothing secret."""
    return {
        "seed": settings.seed,
        "profile": settings.profile,
        "examples": settings.examples,
        "org_id": settings.org_id,
        "collection_id": settings.collection_id,
        "track_ids": list(settings.track_ids),
        "report_dir": str(settings.report_dir),
    }


@dataclass
class _Drawing:
    """The drawing process of a run, and what it has handed over so far."""

    settings: Settings
    process: subprocess.Popen[bytes]
    errors: IO[bytes]
    pending: set[str]
    buffer: bytearray = field(default_factory=bytearray)
    received: dict[str, bytes] = field(default_factory=dict)
    failure: str = ""

    def receive(self, kind: str, silence: float) -> bytes | None:
        """The pickled cases of ``kind``, reading the pipe until they came (``None``: they will not)."""
        from conformance.safety import PROCESS

        stdout = self.process.stdout
        assert stdout is not None
        heard = time.monotonic()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(stdout.fileno(), selectors.EVENT_READ)
                while kind not in self.received and not self.failure:
                    left = heard + silence - time.monotonic()
                    if left <= 0:
                        self.fail(f"no word from it for {silence:g} s while a test waited for its {kind} cases")
                        break
                    with PROCESS.waiting():  # the main thread waits on a pipe: a signal ends the run right here
                        ready = selector.select(left)
                    if not ready:
                        continue
                    chunk = os.read(stdout.fileno(), 1 << 20)
                    if not chunk:
                        self.fail(f"it ended before the {kind} cases (exit {self.process.wait()}): {self._stderr()}")
                        break
                    heard = time.monotonic()
                    self.buffer += chunk
                    self._frames()
        except (OSError, ValueError) as error:  # the pipe cannot be waited on or read: the test draws
            self.fail(f"its pipe failed: {type(error).__name__}: {error}")
        except BaseException:
            self.fail("the run was interrupted")
            raise
        return self.received.pop(kind, None)

    def _frames(self) -> None:
        """Split the buffer into frames: a line ``KIND LENGTH`` and that many bytes."""
        while True:
            end = self.buffer.find(b"\n")
            if end < 0:
                return
            kind, _, length = self.buffer[:end].decode("ascii", "replace").partition(" ")
            if kind == "alive" and length == "0":
                del self.buffer[: end + 1]
                continue
            if kind not in self.pending or not length.isdigit():
                self.fail(f"it sent {bytes(self.buffer[:40])!r}")
                return
            size = int(length)
            if len(self.buffer) < end + 1 + size:
                return
            self.received[kind] = bytes(self.buffer[end + 1 : end + 1 + size])
            self.pending.discard(kind)
            del self.buffer[: end + 1 + size]

    def fail(self, why: str) -> None:
        self.failure = why
        LOG.info("drawing ahead stopped (the tests draw their cases themselves): %s", why)
        self.stop()

    def _stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read()[-2000:].decode("utf-8", "replace").strip() or "nothing on stderr"

    def stop(self) -> None:
        """End the process (it may still be drawing) and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stdin, self.errors):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


_current: _Drawing | None = None


#: The environment variables the drawing process keeps: what Python, the C library and hypothesis
#: read. Nothing else of the run's environment reaches it (keys may be set under any name).
_KEPT = ("PYTHON", "HYPOTHESIS_", "LC_", "LANG")
_KEPT_NAMES = frozenset({"PATH", "HOME", "TMPDIR", "TEMP", "TMP", "TZ", "VIRTUAL_ENV", "SYSTEMROOT"})


def _environment() -> dict[str, str]:
    """The environment of the drawing process: only :data:`_KEPT` of the run's."""
    return {name: value for name, value in os.environ.items() if name in _KEPT_NAMES or name.startswith(_KEPT)}


def _command() -> list[str]:
    """The drawing process: this run's interpreter with its flags, importing this very package (however
    the run found it) and everything else from the run's own module path, so that it draws what the
    run would draw."""
    package = str(Path(__file__).resolve().parent.parent)
    code = (
        "import json, sys; path = json.loads(sys.argv[1]); sys.path[:] = [sys.argv[2], *path]; "
        "import conformance.ahead as a; sys.path[:] = path; a.main()"
    )
    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]  # as multiprocessing does
    return [sys.executable, *flags, "-c", code, json.dumps(sys.path), package]


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start(settings: Settings, kinds: Iterable[str]) -> bool:
    """Start drawing the cases of ``kinds`` for ``settings`` in a process of their own; ``False``
    when there is nothing to draw or it cannot start (the tests then draw themselves)."""
    global _current
    stop()
    wanted = list(dict.fromkeys(kinds))  # the order the tests need them in
    if not ENABLED or not wanted or settings.seed is None or not sys.executable or os.name != "posix":
        return False
    if _cores() < 2:
        return False  # one core: the process would only compete with the run
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
    try:
        process = subprocess.Popen(_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=_environment())
    except OSError as error:
        errors.close()
        LOG.info("drawing ahead did not start (the tests draw their cases themselves): %s", error)
        return False
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps({**_inputs(settings), "kinds": wanted}).encode())
        process.stdin.close()
    except OSError:
        pass  # it died at once: the first take says so
    _current = _Drawing(settings, process, errors, set(wanted))
    return True


def take(settings: Settings, kind: str, silence: float = SILENCE) -> Drawn | None:
    """The cases of ``kind`` drawn ahead for these ``settings``, or ``None``: not drawn ahead (another
    kind, other settings, a process that failed), and the caller draws them."""
    drawing = _current
    if drawing is None or kind not in drawing.pending | drawing.received.keys():
        return None
    if _inputs(drawing.settings) != _inputs(settings):
        return None
    data = drawing.receive(kind, silence)
    if data is None:
        return None
    from schemathesis.core import NOT_SET

    from conformance import fuzzing

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            if pid == ("not set",):
                return NOT_SET  # schemathesis tells it by identity
            if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "operation" and pid[1] in fuzzing.KINDS:
                return fuzzing.operation(pid[1], settings.track_ids)
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")

    try:
        found: Drawn = Unpickler(io.BytesIO(data)).load()
    except Exception as error:  # a pickle this process cannot read: draw here
        drawing.fail(f"the {kind} cases could not be read: {type(error).__name__}: {error}")
        return None
    LOG.info("%d %s cases drawn ahead, in a process of their own", len(found), kind)
    if not drawing.pending and not drawing.received:
        stop()  # every kind taken: the process has ended, reap it
    return found


def stop() -> None:
    """Stop the drawing process, if any."""
    global _current
    drawing, _current = _current, None
    if drawing is not None:
        drawing.stop()


atexit.register(stop)


# ---- the drawing process ------------------------------------------------------------------------


def _case(slots: dict[str, Any]) -> Any:
    """A schemathesis case from the values of its slots, set as its constructor sets them (a case's
    ``__setattr__`` marks its metadata: pickle's own way fails on a case whose metadata is not set yet),
    with the hashes of its generated parts worked out again in this process, as its constructor does:
    they came from another process, where Python hashes the same values differently."""
    from schemathesis.generation.case import Case

    case = Case.__new__(Case)
    for name, value in slots.items():
        object.__setattr__(case, name, value)
    meta = case._meta
    if meta is not None:
        meta._initial_hashes.clear()
        meta._last_validated_hashes.clear()
        case._init_hashes()
    return case


def _draw_all(inputs: dict[str, Any]) -> None:
    from schemathesis.core import NOT_SET
    from schemathesis.generation.case import Case

    from conformance import drawn, fuzzing, profiles
    from conformance.config import Secret, Settings

    settings = Settings(
        base_url="", api_key=Secret(""), org_id=inputs["org_id"], collection_id=inputs["collection_id"],
        track_ids=tuple(inputs["track_ids"]), report_dir=Path(inputs["report_dir"]), profile=inputs["profile"],
        examples=inputs["examples"], seed=inputs["seed"],
    )  # fmt: skip
    profiles.prepare_hypothesis(settings)  # before anything may write to hypothesis' storage
    frames: list[bytes | None] = []
    ready = threading.Condition()

    def send(frame: bytes | None) -> None:
        with ready:
            frames.append(frame)
            ready.notify()

    def write() -> None:  # the run reads a kind when a test needs it: drawing goes on meanwhile
        while True:
            with ready:
                ready.wait_for(lambda: bool(frames))
                frame = frames.pop(0)
            if frame is None:
                return
            view = memoryview(frame)
            while view:  # unbuffered: no lock of sys.stdout is held should this process end meanwhile
                view = view[os.write(1, view) :]

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    said = time.monotonic()

    def alive() -> None:
        nonlocal said
        if time.monotonic() - said > 0.5 and len(frames) < 2:
            said = time.monotonic()
            send(ALIVE)

    for kind in inputs["kinds"]:  # in the order the run's tests need them
        operation = fuzzing.operation(kind, settings.track_ids)

        class Pickler(pickle.Pickler):
            def persistent_id(self, obj: Any, kind: str = kind, operation: Any = operation) -> Any:
                if obj is NOT_SET:
                    return ("not set",)
                return ("operation", kind) if obj is operation else None

            def reducer_override(self, obj: Any) -> Any:
                if type(obj) is Case:  # its __setattr__ needs its metadata set first: see _case
                    return _case, ({name: getattr(obj, name) for name in Case.__slots__ if hasattr(obj, name)},)
                return NotImplemented

        found = drawn.examples(settings, kind, progress=alive)
        buffer = io.BytesIO()
        Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(found)
        send(f"{kind} {len(buffer.getvalue())}\n".encode("ascii") + buffer.getvalue())
        if not writer.is_alive():
            return  # the run has gone
    send(None)
    writer.join()


def main() -> None:
    """The drawing process: the inputs on stdin, the frames on stdout; it always ends with ``os._exit``
    (no interpreter shutdown while its writer may hold a lock)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the run's: it stops this process itself
    code = 0
    try:
        _draw_all(json.loads(sys.stdin.buffer.read() or b"{}"))
    except BrokenPipeError:
        pass  # the run has gone
    except BaseException:  # the run draws itself; what happened is on stderr, which it shows in its log
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        sys.stderr.flush()
        profiles = sys.modules.get("conformance.profiles")
        if profiles is not None:  # what its atexit would remove (see conformance.profiles)
            import shutil

            shutil.rmtree(profiles._UNTIL_KNOWN, ignore_errors=True)
    os._exit(code)
