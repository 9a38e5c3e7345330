"""Where a run's requests go: a pytest plugin that ``scripts/benchmark.py --breakdown`` loads into a
suite run (``-p breakdown_plugin``). For every test it notes the requests sent while it ran (its
setup included: a batch goes out in the setup of the first test that asks for it), the longest
sequential chain among them, its wall and CPU time, and the rules it names; at the end it writes them
as JSON to ``$BENCHMARK_BREAKDOWN``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import plugin, timeline

_ROWS: list[dict[str, object]] = []


def _spans(config: pytest.Config, start: int = 0) -> list[tuple[float, float]]:
    run = plugin.run_of(config)
    return [] if run is None or run.target is None else run.target.client.recorder.spans(start)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    first, started, cpu = len(_spans(item.config)), time.monotonic(), time.process_time()
    try:
        return (yield)
    finally:
        spans = _spans(item.config, first)
        rules = sorted({rule for mark in item.iter_markers("requirement") for rule in mark.args})
        _ROWS.append({
            "test": item.nodeid.split("[", 1)[0].split("@", 1)[0], "requests": len(spans),
            "chain": timeline.longest_chain(spans), "wall": time.monotonic() - started,
            "cpu": time.process_time() - cpu, "rules": rules,
        })  # fmt: skip


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get("BENCHMARK_BREAKDOWN")
    if out:
        Path(out).write_text(json.dumps(_ROWS), encoding="utf-8")
