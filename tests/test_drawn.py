"""Self-tests of ``conformance.drawn``: the cases drawn first are exactly those the property test
draws under hypothesis, in order, from the same seed; drawn once per seed, and afresh without one."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import cast

import pytest

from conformance import drawn, fuzzing, profiles
from conformance.config import Secret, Settings
from conformance.fuzzing import Case

TRACKS = ("mtrack_8d2e1f6a3c9b", "mtrack_1b7c4e9d2a05")


def _settings(tmp_path: Path, seed: int | None = 7) -> Settings:
    return Settings(
        base_url="http://127.0.0.1:9", api_key=Secret("sk_never_shown"), org_id="org_1", collection_id="mcoll_1",
        track_ids=TRACKS, seed=seed, profile="quick", report_dir=tmp_path,
    )  # fmt: skip


class _Sent:
    """Stands for the test's session: notes the body of each example it is given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def exercise(self, case: Case, expectation: fuzzing.Expectation) -> None:
        self.bodies.append(expectation.content)


def _as_the_test_draws(settings: Settings, kind: str) -> list[bytes]:
    """The bodies the property test of ``kind`` sends, drawn as the test draws them when it runs under
    hypothesis (``test_schemathesis._under_hypothesis``): one example after another, each judged by
    ``drawn.expectation``."""
    from conformance.suite.test_schemathesis import _Session, _under_hypothesis

    sent = _Sent()
    _under_hypothesis(settings, kind, lambda: cast(_Session, sent))()
    return sent.bodies


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


def test_a_worker_draws_its_first_tests_cases_while_the_watch_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pytest-xdist worker's warm-up (``conformance.warmup.drawing``) draws the cases of the kinds its
    first test draws, once: that test then finds them drawn. A failing draw is left to the test, and
    without a seed (a test draws afresh) nothing is drawn early."""
    from conformance import warmup

    calls: list[str] = []
    real = drawn._draw

    def counted(settings: Settings, kind: str, progress: object = None) -> drawn.Drawn:
        calls.append(kind)
        if kind == "spec":
            raise RuntimeError("a draw that fails")
        return real(settings, kind)

    monkeypatch.setattr(drawn, "_draw", counted)
    settings = _settings(tmp_path, seed=5)
    warmup.drawing(settings, ["negative", "spec"])(0.0)  # a deadline long past: the drawing is done anyway
    assert calls == ["negative", "spec"]
    assert drawn.examples(settings, "negative"), "the test finds its cases drawn"
    assert calls == ["negative", "spec"], "and draws nothing again"
    warmup.drawing(_settings(tmp_path, seed=None), ["negative"])(0.0)
    assert calls == ["negative", "spec"], "nothing drawn early without a seed"
