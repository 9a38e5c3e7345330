"""pytest-xdist: each worker changes a collection of its own, and the run still has one verdict, one set
of reports, and every collection restored."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conformance.stub import RunningStub, StubApp
from conformance.stub.faults import FAULTS, VARIANTS

from .conftest import Marked, run_suite, target_options


def _report(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "conformance.json").read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize(
    ("fault", "code", "word"),
    [(None, 0, "pass"), ("patch-as-put", 1, "fail"), ("reject-unknown-fields", 0, "pass")],
    ids=["stub", "fault", "variant"],
)
def test_two_workers_give_the_verdict_one_process_gives(fault: str | None, code: int, word: str, tmp_path: Path) -> None:
    assert fault is None or fault in FAULTS or fault in VARIANTS
    args = [
        "--profile",
        "quick",
        "--seed",
        "0",
        "-n",
        "2",
        "--report-dir",
        str(tmp_path),
        "--junitxml",
        str(tmp_path / "junit.xml"),
    ]
    run = run_suite(*args, *(["--stub-fault", fault] if fault else []), timeout=600)
    assert run.returncode == code, run.output[-3000:]
    document = _report(tmp_path)
    assert document["verdict"]["status"] == word
    assert document["run"]["tests"] > 100, "the controller gathered every worker's tests"
    cases = list(ET.parse(tmp_path / "junit.xml").getroot().iter("testcase"))
    assert len(cases) == document["run"]["tests"]
    if fault == "patch-as-put":
        assert next(r for r in document["rules"] if r["id"] == "SEM-1")["status"] == "fail"
    assert run.output.count("PASS: " if code == 0 else "FAIL: ") == 1, "one verdict, printed once"
    for name in ("junit.xml", "conformance.json", "conformance.md"):
        assert "@conformance-" not in (tmp_path / name).read_text(encoding="utf-8"), "ids as one process reports them"


class Counted(StubApp):
    """The reference stub with two collections of the organization."""

    name = "two-collections"


def test_each_worker_changes_its_own_collection_and_restores_it(tmp_path: Path) -> None:
    app = Counted()
    ids = app.add_collections(2)
    original = {cid: app.collections[cid].name for cid in ids}
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        args = ["--base-url", seed.base_url, "--api-key", seed.api_key, "--org-id", seed.org_id]
        for cid in ids:
            args += ["--collection-id", cid]
        run = run_suite(
            *args, "--profile", "quick", "--seed", "0", "-n", "2", "-k", "test_semantics", "--report-dir", str(tmp_path)
        )
        assert run.returncode == 0, run.output[-3000:]
        with app.lock:
            assert {cid: app.collections[cid].name for cid in ids} == original, "every collection is back as it was"
            touched = {cid for cid in ids if app.collections[cid].updated_at != app.collections[cid].created_at}
    assert touched == set(ids), "each worker changed a collection of its own"
    assert "collection restored and verified" in run.output
    assert all(cid in run.output for cid in ids)


def _requests(output: str) -> int:
    found = re.search(r"^requests: (\d+) sent to the target", output, re.MULTILINE)
    assert found is not None, output[-3000:]
    return int(found.group(1))


def test_a_batch_is_sent_once_by_the_worker_that_runs_its_tests(tmp_path: Path) -> None:
    """The tests of a batch run on one worker (pytest-xdist ``loadgroup``), which sends the batch once:
    two workers send about what one process sends, not the batch once per worker."""
    app = Counted()
    second = app.add_collections(2)[1]  # the first is the seeded one, which target_options names
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        args = [*target_options(seed, foreign=False), "--profile", "quick", "--seed", "0"]
        args += ["-k", "test_validation"]  # a batch of about 130 refused requests, a lane, and a few sequential tests
        alone = run_suite(*args, "--report-dir", str(tmp_path / "alone"), timeout=300)
        workers = run_suite(*args, "--collection-id", second, "-n", "2", "--report-dir", str(tmp_path / "workers"), timeout=300)
    assert alone.returncode == 0, alone.output[-3000:]
    assert workers.returncode == 0, workers.output[-3000:]
    one, two = _requests(alone.output), _requests(workers.output)
    assert two < 1.25 * one + 30, f"two workers sent {two} requests, one process {one}: a batch was sent more than once"


def test_more_workers_than_collections_is_a_usage_error(tmp_path: Path) -> None:
    """Refused on the controller, which starts once pytest-xdist has started the workers: they are
    stopped having sent nothing."""
    app = Counted()
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        run = run_suite(*target_options(seed, foreign=False), "-n", "2", "--report-dir", str(tmp_path), timeout=300)
        served = len(stub.timeline)
    assert run.returncode == 4, run.output[-3000:]
    assert "each worker changes a collection of its own" in run.output
    assert served == 0, "a refused run sends the target nothing"


class _Node:
    """A pytest-xdist worker as the scheduler sees it: it runs a test once it knows the next one, or
    that it is shutting down."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.queue: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


class _Quiet:
    """pytest-xdist's log (``log.loadscopesched(...)``), saying nothing."""

    def __call__(self, *args: object) -> None:
        pass

    def __getattr__(self, name: str) -> _Quiet:
        return self


def _schedule(collection: list[str], workers: int, monkeypatch: pytest.MonkeyPatch) -> tuple[list[_Node], dict[str, list[str]]]:
    """Run ``collection`` through the run's scheduler with ``workers`` fake workers; the workers, and
    what each ran, in order."""
    import xdist.scheduler.loadscope as loadscope

    from conformance.distributed import make_scheduler

    options = {"tx": [], "numprocesses": workers, "dist": "loadgroup"}
    config = SimpleNamespace(
        option=SimpleNamespace(loadscopereorder=False, **options),
        getvalue=options.get,
        getoption=lambda name, default=None: options.get(name, default),
    )
    monkeypatch.setattr(loadscope, "parse_tx_spec_config", lambda config: ["popen"] * workers)
    scheduler = make_scheduler(config, _Quiet())  # type: ignore[arg-type]
    nodes = [_Node(f"gw{i}") for i in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    ran: dict[str, list[str]] = {node.gateway.id: [] for node in nodes}
    for _ in range(10 * len(collection) + 10):
        if scheduler.tests_finished:
            for node in scheduler.nodes:
                node.shutdown()
        ready = [n for n in scheduler.nodes if n.queue and (len(n.queue) >= 2 or n.shutting_down)]
        if not ready:
            break
        node = min(ready, key=lambda n: len(ran[n.gateway.id]))  # the least busy worker goes next
        index = node.queue.pop(0)
        ran[node.gateway.id].append(collection[index])
        scheduler.mark_test_complete(node, index)
    return nodes, ran


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize(("longs", "batch", "singles"), [(3, 30, 10), (6, 0, 0), (2, 5, 1), (0, 10, 3)])
def test_long_tests_start_first_alone_and_every_test_runs(
    workers: int, longs: int, batch: int, singles: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.distributed import LONG

    collection = [f"suite/test_l.py::long{i}@{LONG}long{i}" for i in range(longs)]
    collection += [f"suite/test_b.py::b{i}@conformance-batch" for i in range(batch)]
    collection += [f"suite/test_s.py::s{i}" for i in range(singles)]
    nodes, ran = _schedule(collection, workers, monkeypatch)
    assert sorted(t for tests in ran.values() for t in tests) == sorted(collection), "every test ran, once"
    assert all(not node.queue for node in nodes), "no worker was left waiting"
    firsts = [tests[0] for tests in ran.values() if tests]
    assert sum(LONG in t for t in firsts) == min(longs, workers), "the long tests start first, one to a worker"
    for tests in ran.values():  # behind a long test, while single tests are queued, only a single test waits
        for i, test in enumerate(tests[:-1]):
            if LONG in test and singles >= longs:
                assert LONG in tests[i + 1] or "@" not in tests[i + 1], tests


def test_the_lanes_share_a_worker_with_the_test_that_judges_sem_8() -> None:
    """Lanes go side by side only where SEM-8 was seen kept: the worker that sends them all runs the
    SEM-8 test too (first: it is long), instead of every worker sending its lanes one after another."""
    from conformance.distributed import LANES, LONG, group_of

    def probe(kind: str) -> pytest.MarkDecorator:
        return pytest.mark.probe(print, kind=kind)

    lane_a = Marked("test_a[x]", probe("lane"), pytest.mark.requirement("SEM-3"))
    lane_b = Marked("test_b[y]", probe("lane"), pytest.mark.requirement("VAL-3"))
    sem_8 = Marked("test_concurrent", pytest.mark.long(45), pytest.mark.requirement("SEM-8", "SEM-6"))
    assert {group_of(lane_a), group_of(lane_b), group_of(sem_8)} == {LANES}  # type: ignore[arg-type]
    assert LANES.startswith(LONG), "handed out first, alone, as a long test"
    refused = Marked("test_c", probe("rejection"), pytest.mark.requirement("VAL-12"))
    assert group_of(refused) == "conformance-batch"  # type: ignore[arg-type]
    other = Marked("test_model", pytest.mark.long(200), pytest.mark.requirement("SEM-1"))
    assert group_of(other) == LONG + "test_model"  # type: ignore[arg-type]
    assert group_of(Marked("test_plain", pytest.mark.requirement("SEM-1"))) is None  # type: ignore[arg-type]


def test_a_worker_runs_the_sem_8_test_before_the_lane_tests_of_its_group() -> None:
    """The lanes go side by side only once SEM-8 was judged on that worker: its test comes first among
    the tests of the group, long or not (``run_order``, the order every worker gives the controller)."""
    from conformance.distributed import run_order

    lanes = [Marked(f"test_lane[{i}]", pytest.mark.probe(print, kind="lane")) for i in range(3)]
    for marks in ([pytest.mark.long(45)], []):
        sem_8 = Marked("test_concurrent", *marks, pytest.mark.requirement("SEM-8"))
        ordered = sorted([*lanes, sem_8], key=run_order)  # type: ignore[arg-type]
        assert ordered[0] is sem_8, [t.name for t in ordered]
        assert ordered[1:] == lanes, "the rest as collected"
