"""Self-tests of ``conformance.drawn``: the cases drawn ahead are exactly those the property test
draws under hypothesis, in order, from the same seed; drawn once per seed, and afresh without one."""

from __future__ import annotations

import ast
import dataclasses
import gc
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from conformance import drawn, fuzzing, profiles, warmup
from conformance.config import Secret, Settings
from conformance.fuzzing import Case

TRACKS = ("mtrack_8d2e1f6a3c9b", "mtrack_1b7c4e9d2a05")


def _settings(tmp_path: Path, seed: int | None = 7) -> Settings:
    return Settings(
        base_url="http://127.0.0.1:9", api_key=Secret("sk_never_shown"), org_id="org_1", collection_id="mcoll_1",
        track_ids=TRACKS, seed=seed, profile="quick", report_dir=tmp_path,
    )  # fmt: skip


def _as_the_test_draws(settings: Settings, kind: str) -> list[bytes]:
    """The bodies the property test of ``kind`` sends, drawn as the test draws them: under hypothesis,
    one example after another, each judged by ``drawn.expectation``."""
    sent: list[bytes] = []

    @profiles.property_test(settings, drawn.WEIGHTS[kind])
    @given(case=fuzzing.cases(settings, kind))
    @profiles.example
    def check(case: Case) -> None:
        sent.append(drawn.expectation(settings, kind, case).content)

    check()
    return sent


@pytest.mark.parametrize("kind", list(drawn.WEIGHTS))
def test_the_cases_drawn_ahead_are_those_the_test_draws(kind: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ahead = [expectation.content for _, expectation in drawn.examples(settings, kind)]
    assert len(ahead) >= profiles.examples(settings, drawn.WEIGHTS[kind]) // 2, "most drawn cases are sent"
    assert ahead == _as_the_test_draws(settings, kind), "the same cases, in the same order"
    assert len(set(ahead)) > 1, "the cases vary"


def test_cases_are_drawn_once_per_seed_and_afresh_without_one(tmp_path: Path) -> None:
    settings = _settings(tmp_path, seed=11)
    first = drawn.examples(settings, "negative")
    assert drawn.examples(settings, "negative") is first, "drawn once for a seed"
    assert drawn.examples(dataclasses.replace(settings, seed=12), "negative") is not first
    unseeded = _settings(tmp_path, seed=None)
    assert drawn.examples(unseeded, "negative") is not drawn.examples(unseeded, "negative")


def test_drawing_waits_for_the_warm_up_and_the_warm_up_draws_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up draws the cases in its own thread; a test asking for them waits for it, and gets
    what it drew (no two threads draw at once)."""
    settings = _settings(tmp_path, seed=23)
    threads: list[str] = []
    original = drawn._draw

    def recording(settings: Settings, kind: str) -> drawn.Drawn:
        threads.append(threading.current_thread().name)
        return original(settings, kind)

    monkeypatch.setattr(drawn, "_draw", recording)
    monkeypatch.setattr(ast, "parse", ast.parse)  # the original, put back after the test
    warmup.meanwhile(settings, drawn.WEIGHTS)()
    got = drawn.examples(settings, "strict")
    assert threads == ["conformance-warmup"] * len(drawn.WEIGHTS), "each kind drawn once, ahead, by the warm-up"
    assert [e.content for _, e in got] == _as_the_test_draws(settings, "strict")


def test_the_warm_up_and_the_tests_never_parse_python_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython 3.11 shares the depth of the syntax tree it builds between threads (gh-106905): with a
    garbage collector callback (hypothesis installs one) and quick thread switches, two threads that
    parse at once fail with ``SystemError: AST constructor recursion depth mismatch``. Once the
    warm-up has started, ``ast.parse`` takes turns."""
    source = Path(warmup.__file__).with_name("target.py").read_text()
    failed: list[BaseException] = []

    def parse_a_lot() -> None:
        for _ in range(60):
            try:
                ast.parse(source)
            except SystemError as error:
                failed.append(error)

    monkeypatch.setattr(ast, "parse", ast.parse)  # the original, put back after the test
    monkeypatch.setattr(warmup, "steps", lambda settings, kinds: [parse_a_lot])
    callback = lambda phase, info: sum(range(50))  # noqa: E731 - Python code run inside a collection
    threshold = gc.get_threshold()
    gc.callbacks.append(callback)
    gc.set_threshold(50)
    try:
        settings: Any = None  # the steps, replaced, take none
        warmup.meanwhile(settings)()
        parse_a_lot()
        warmup.wait()
    finally:
        gc.callbacks.remove(callback)
        gc.set_threshold(*threshold)
    assert failed == []
