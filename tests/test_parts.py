"""The stateful model in parts: a profile with many examples (thorough) runs it as up to four tests,
each its share of the examples from a seed of its own, so that pytest-xdist runs them side by side
instead of one worker running the whole model while the others wait."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import profiles
from conformance.distributed import group_of
from conformance.suite.test_stateful import WEIGHT

from .conftest import Marked, run_suite


def test_quick_and_default_keep_the_model_whole() -> None:
    assert profiles.parts("quick", None, WEIGHT) == [profiles.Part()]
    assert profiles.parts("default", None, WEIGHT) == [profiles.Part()]
    assert profiles.parts("thorough", 10, WEIGHT) == [profiles.Part()], "--examples overrides the profile"


def test_thorough_runs_every_example_in_parts() -> None:
    split = profiles.parts("thorough", None, WEIGHT)
    assert len(split) == profiles.MAX_PARTS
    total = profiles.count("thorough", None, WEIGHT)
    assert sum(part.examples(total) for part in split) == total
    for total in range(1, 200):
        for count in range(1, profiles.MAX_PARTS + 1):
            shares = [profiles.Part(index, count).examples(total) for index in range(count)]
            assert sum(shares) == total, (total, count, shares)
            assert max(shares) - min(shares) <= 1, (total, count, shares)
    assert len(profiles.parts("quick", 140, WEIGHT)) == 2, "one part for every 20 examples"


def test_each_part_draws_from_a_seed_of_its_own_the_first_from_the_runs() -> None:
    split = profiles.parts("thorough", None, WEIGHT)
    seeds = [part.seed(7) for part in split]
    assert seeds[0] == 7, "a test in one part draws what it always drew"
    assert len(set(seeds)) == len(seeds)
    assert seeds == [part.seed(7) for part in split], "the same seed, the same parts: a run is replayed"
    assert [part.seed(8) for part in split][1:] != seeds[1:]
    assert all(0 <= seed < 2**64 for seed in seeds)


def test_each_part_is_a_scheduling_group_of_its_own() -> None:
    names = [f"test_target_follows_the_model[{part.id}]" for part in profiles.parts("thorough", None, WEIGHT)]
    groups = [group_of(Marked(name, pytest.mark.long(200))) for name in names]  # type: ignore[arg-type]
    assert len(set(groups)) == len(groups), groups
    for group in groups:  # pytest-xdist reads a group after the last "]" of an id
        assert group is not None
        assert not set(group) & set("[] @"), group
    assert group_of(Marked("test_x", pytest.mark.long(1))) == "conformance-long-test_x"  # type: ignore[arg-type]


@pytest.mark.parametrize(("fault", "code"), [(None, 0), ("patch-as-put", 1)], ids=["stub", "fault"])
def test_a_model_in_parts_runs_each_part_and_finds_a_fault(fault: str | None, code: int, tmp_path: Path) -> None:
    args = ["--profile", "quick", "--examples", "140", "--seed", "0", "-k", "test_target_follows_the_model"]
    run = run_suite(*args, "--report-dir", str(tmp_path), *(["--stub-fault", fault] if fault else []), timeout=300)
    assert run.returncode == code, run.output[-3000:]
    document = json.loads((tmp_path / "conformance.json").read_text(encoding="utf-8"))
    rule = next(r for r in document["rules"] if r["id"] == "SEM-1")
    tests = sorted(t["test"].rpartition("::")[2] for t in rule["tests"])
    assert tests == ["test_target_follows_the_model[part1-of-2]", "test_target_follows_the_model[part2-of-2]"]
    assert rule["status"] == ("fail" if fault else "pass")
    if fault:  # each part draws its own examples: a fault this plain, each part finds
        assert all(t["outcome"] == "fail" for t in rule["tests"]), rule["tests"]
