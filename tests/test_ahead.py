"""Self-tests of ``conformance.ahead``: the cases drawn in a process of their own are exactly those
the run would draw itself, metadata included, usable as they are; a drawing process that fails,
sends garbage or goes silent leaves the drawing to the test; a signal while a test waits for it ends
the run at once; it is told nothing secret; and a run takes its cases from it and leaves no process
behind."""

from __future__ import annotations

import json
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import ahead, drawn, fuzzing
from conformance.config import Secret, Settings

from .conftest import run_suite

TRACKS = ("mtrack_8d2e1f6a3c9b", "mtrack_1b7c4e9d2a05")
KEY = "sk_never_shown_" + uuid.uuid4().hex

needs_two_cores = pytest.mark.skipif(ahead._cores() < 2 or os.name != "posix", reason="draws ahead on 2+ cores, POSIX")


def _settings(tmp_path: Path, seed: int = 3, collection_id: str = "mcoll_1") -> Settings:
    return Settings(
        base_url="http://user:pw_never_shown@127.0.0.1:9", api_key=Secret(KEY), org_id="org_1",
        collection_id=collection_id, track_ids=TRACKS, seed=seed, profile="quick", report_dir=tmp_path,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _no_process_left() -> Iterator[None]:
    yield
    ahead.stop()


def _sent(found: drawn.Drawn) -> list[tuple[object, ...]]:
    """What a case sends and how it is judged: its body, media type, path, expectation and the
    generation mode schemathesis gives it and each of its parts."""
    sent: list[tuple[object, ...]] = []
    for case, expectation in found:
        meta = case.meta
        assert meta is not None
        modes = sorted((location.name, info.mode.value) for location, info in meta.components.items())
        sent.append((case.body, case.media_type, dict(case.path_parameters), expectation, meta.generation.mode, modes))
    return sent


@needs_two_cores
@pytest.mark.parametrize("kind", fuzzing.KINDS)
def test_the_cases_drawn_ahead_are_those_drawn_here_and_can_be_judged(kind: str, tmp_path: Path) -> None:
    # a collection id the spec's pattern does not allow: a case whose metadata came along wrong (its
    # parts' hashes as another process worked them out) is judged again, and its path turns negative
    settings = _settings(tmp_path, collection_id="coll-1")
    assert ahead.start(settings, [kind])
    taken = ahead.take(settings, kind)
    assert taken is not None, "taken from the drawing process"
    for case, _ in taken:
        assert case.operation is fuzzing.operation(kind, TRACKS), "this process' own operation"
        assert case._meta is not None
        assert not case._meta.is_dirty()
        case._check_modifications()
        assert not case._meta.is_dirty(), "the case is as generated: nothing for schemathesis to judge again"
        assert fuzzing.only_body_varies(case), "the path is as pinned, positive"
    here = drawn._draw(settings, kind)
    assert _sent(taken) == _sent(here), "the same cases, metadata and expectations, in the same order"
    assert len(taken) > 1


@needs_two_cores
def test_a_run_draws_each_kind_once_and_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, seed=21)
    assert drawn.draw_ahead(settings, ["strict", "negative"])
    reference = {kind: _sent(drawn._draw(settings, kind)) for kind in ("strict", "negative")}

    def not_here(*args: object, **kwargs: object) -> drawn.Drawn:
        raise AssertionError("drawn here, not ahead")

    monkeypatch.setattr(drawn, "_draw", not_here)
    negative = drawn.examples(settings, "negative")  # taken in any order
    strict = drawn.examples(settings, "strict")
    assert drawn.examples(settings, "negative") is negative
    assert drawn.examples(settings, "strict") is strict
    assert not drawn.draw_ahead(settings, ["strict", "negative"]), "nothing left to draw ahead"
    assert {"strict": _sent(strict), "negative": _sent(negative)} == reference


@needs_two_cores
@pytest.mark.parametrize(
    "program",
    [
        "pass",  # ends at once
        "import sys; sys.stdout.write('strict 5\\nxxxxx'); sys.stdout.flush()",  # not a pickle
        "import sys; sys.stdout.write('other 1\\nx'); sys.stdout.flush()",  # a kind not asked for
        "import time; time.sleep(60)",  # silent
    ],
    ids=["dies", "garbage", "wrong-kind", "silent"],
)
def test_a_drawing_process_that_fails_leaves_the_drawing_to_the_test(
    program: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ahead, "_command", lambda: [sys.executable, "-c", program])
    settings = _settings(tmp_path, seed=22)
    assert ahead.start(settings, ["strict"])
    process = ahead._current.process if ahead._current is not None else None
    assert ahead.take(settings, "strict", silence=1.0) is None
    assert process is not None
    assert process.poll() is not None, "the process is ended and reaped"
    assert _sent(drawn.examples(settings, "strict")) == _sent(drawn._draw(settings, "strict")), "drawn here instead"


@needs_two_cores
def test_a_process_that_says_it_is_alive_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = "import sys, time\nfor _ in range(8):\n    sys.stdout.write('alive 0\\n'); sys.stdout.flush(); time.sleep(0.25)"
    monkeypatch.setattr(ahead, "_command", lambda: [sys.executable, "-c", program])
    settings = _settings(tmp_path, seed=25)
    assert ahead.start(settings, ["spec"])
    drawing = ahead._current
    assert drawing is not None
    assert ahead.take(settings, "spec", silence=1.0) is None
    assert "ended before the spec cases" in drawing.failure, "waited while it spoke, for 2 s with a silence of 1 s"


@needs_two_cores
def test_a_signal_while_a_test_waits_ends_the_run_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance import safety

    signals = safety.Signals()
    monkeypatch.setattr(safety, "PROCESS", signals)
    monkeypatch.setattr(ahead, "_command", lambda: [sys.executable, "-c", "import time; time.sleep(60)"])
    settings = _settings(tmp_path, seed=26)
    assert ahead.start(settings, ["strict"])
    drawing = ahead._current
    assert drawing is not None
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: signals._handle(signal.SIGINT, frame))
    signal.setitimer(signal.ITIMER_REAL, 0.3)  # a SIGINT, as the interpreter delivers it, while take waits
    try:
        with pytest.raises(KeyboardInterrupt):
            ahead.take(settings, "strict", silence=30.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert drawing.process.poll() is not None, "the drawing process is stopped"


def test_the_drawing_process_is_told_nothing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONFORMANCE_API_KEY", "FREDDY_API_KEY", "CONFORMANCE_FOREIGN_API_KEY", "SOME_TOKEN"):
        monkeypatch.setenv(name, KEY)
    monkeypatch.setenv("PYTEST_ADDOPTS", f"--api-key={KEY}")
    assert KEY not in json.dumps(ahead._environment())
    told = json.dumps(ahead._inputs(_settings(tmp_path))) + json.dumps(ahead._command())
    assert KEY not in told, told
    assert "never_shown" not in told, told
    assert "127.0.0.1" not in told, told


@needs_two_cores
def test_the_drawing_process_gets_no_key_in_its_environment_or_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREDDY_API_KEY", KEY)
    monkeypatch.setenv("PYTEST_ADDOPTS", f"--api-key={KEY}")
    dump = tmp_path / "seen.json"
    program = f"import json, os, sys; open({str(dump)!r}, 'w').write(json.dumps([dict(os.environ), sys.argv, sys.stdin.read()]))"
    real = ahead._command()
    monkeypatch.setattr(ahead, "_command", lambda: [*real[:-3], program, *real[-2:]])  # the real flags and path
    settings = _settings(tmp_path, seed=27)
    assert ahead.start(settings, ["strict"])
    assert ahead.take(settings, "strict", silence=10.0) is None
    seen = dump.read_text(encoding="utf-8")
    assert KEY not in seen
    assert json.loads(json.loads(seen)[2])["seed"] == 27, "the dump is the drawing process' own"


def test_other_settings_are_not_served_from_the_drawing_process(tmp_path: Path) -> None:
    settings = _settings(tmp_path, seed=23)
    started = ahead.start(settings, ["spec"])
    assert ahead.take(_settings(tmp_path, seed=24), "spec") is None, "another seed"
    assert ahead.take(settings, "strict") is None, "a kind not drawn ahead"
    assert (ahead.take(settings, "spec") is not None) == started


@pytest.mark.skipif(not Path("/proc/self/environ").exists() or ahead._cores() < 2, reason="reads /proc; 2+ cores")
def test_a_run_takes_its_cases_from_the_drawing_process_and_leaves_none_behind(tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    run = run_suite(
        "-k", "schemathesis", "--profile", "quick", "--seed", "0", "--report-dir", str(tmp_path),
        "--log-cli-level", "INFO", env={"AHEAD_SELF_TEST": token, "PYTHONWARNINGS": f"ignore:{token}"},
    )  # fmt: skip
    assert run.returncode == 0, run.output
    for kind in fuzzing.KINDS:
        assert f"{kind} cases drawn ahead, in a process of their own" in run.output, run.output
    assert "drawing ahead stopped" not in run.output
    assert not _processes_with(f"PYTHONWARNINGS=ignore:{token}"), "a drawing process is left"
    assert not _processes_with(f"AHEAD_SELF_TEST={token}"), "a process of the run is left"


def _processes_with(variable: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if variable.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
