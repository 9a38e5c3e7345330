"""Self-tests of ``conformance.ahead``: the cases drawn in a process of their own are exactly those
the run would draw itself, usable as they are; a drawing process that fails, sends garbage or is too
slow leaves the drawing to the test; it is told nothing secret; and a run takes its cases from it
and leaves no process behind."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import ahead, drawn, fuzzing
from conformance.config import Secret, Settings

from .conftest import run_suite

TRACKS = ("mtrack_8d2e1f6a3c9b", "mtrack_1b7c4e9d2a05")


def _settings(tmp_path: Path, seed: int = 3) -> Settings:
    return Settings(
        base_url="http://user:pw_never_shown@127.0.0.1:9", api_key=Secret("sk_never_shown"), org_id="org_1",
        collection_id="mcoll_1", track_ids=TRACKS, seed=seed, profile="quick", report_dir=tmp_path,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _no_process_left() -> Iterator[None]:
    yield
    ahead.stop()


def _sent(found: drawn.Drawn) -> list[tuple[object, ...]]:
    return [(case.body, case.media_type, dict(case.path_parameters), expectation) for case, expectation in found]


@pytest.mark.parametrize("kind", fuzzing.KINDS)
def test_the_cases_drawn_ahead_are_those_drawn_here_and_can_be_judged(kind: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert ahead.start(settings, [kind])
    taken = ahead.take(settings, kind)
    assert taken is not None, "taken from the drawing process"
    here = drawn._draw(settings, kind)
    assert _sent(taken) == _sent(here), "the same cases and expectations, in the same order"
    assert len(taken) > 1
    for case, _ in taken:
        assert case.operation is fuzzing.operation(kind, TRACKS), "this process' own operation"
        assert fuzzing.only_body_varies(case), "the case's metadata came along"


def test_a_run_draws_each_kind_once_and_ahead(tmp_path: Path) -> None:
    settings = _settings(tmp_path, seed=21)
    assert drawn.draw_ahead(settings, ["strict", "negative"])
    negative = drawn.examples(settings, "negative")  # taken in any order
    strict = drawn.examples(settings, "strict")
    assert drawn.examples(settings, "negative") is negative
    assert drawn.examples(settings, "strict") is strict
    assert not drawn.draw_ahead(settings, ["strict", "negative"]), "nothing left to draw ahead"
    assert _sent(negative) == _sent(drawn._draw(settings, "negative"))


@pytest.mark.parametrize(
    "program",
    [
        "pass",  # ends at once
        "import sys; sys.stdout.write('strict 5\\nxxxxx'); sys.stdout.flush()",  # not a pickle
        "import sys; sys.stdout.write('other 1\\nx'); sys.stdout.flush()",  # a kind not asked for
        "import time; time.sleep(60)",  # too slow
    ],
    ids=["dies", "garbage", "wrong-kind", "too-slow"],
)
def test_a_drawing_process_that_fails_leaves_the_drawing_to_the_test(
    program: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ahead, "_command", lambda: [sys.executable, "-c", program])
    settings = _settings(tmp_path, seed=22)
    assert ahead.start(settings, ["strict"])
    process = ahead._current.process if ahead._current is not None else None
    assert ahead.take(settings, "strict", patience=1.0) is None
    assert process is not None
    assert process.poll() is not None, "the process is ended and reaped"
    assert _sent(drawn.examples(settings, "strict")) == _sent(drawn._draw(settings, "strict")), "drawn here instead"


def test_other_settings_are_not_served_from_the_drawing_process(tmp_path: Path) -> None:
    settings = _settings(tmp_path, seed=23)
    assert ahead.start(settings, ["spec"])
    assert ahead.take(_settings(tmp_path, seed=24), "spec") is None, "another seed"
    assert ahead.take(settings, "strict") is None, "a kind not drawn ahead"
    assert ahead.take(settings, "spec") is not None


def test_the_drawing_process_is_told_nothing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_API_KEY", "sk_never_shown")
    assert not [name for name in ahead._environment() if name.startswith("CONFORMANCE_")]
    told = repr(ahead._inputs(_settings(tmp_path)))
    assert "never_shown" not in told, told
    assert "127.0.0.1" not in told, told


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_a_run_takes_its_cases_from_the_drawing_process_and_leaves_none_behind(tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    run = run_suite(
        "-k", "schemathesis", "--profile", "quick", "--seed", "0", "--report-dir", str(tmp_path),
        "--log-cli-level", "INFO", env={"AHEAD_SELF_TEST": token},
    )  # fmt: skip
    assert run.returncode == 0, run.output
    for kind in fuzzing.KINDS:
        assert f"{kind} cases drawn ahead, in a process of their own" in run.output, run.output
    assert "drawing ahead stopped" not in run.output
    assert not [pid for pid in _processes_with(f"AHEAD_SELF_TEST={token}") if pid != os.getpid()], "a process is left"


def _processes_with(variable: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if variable.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
