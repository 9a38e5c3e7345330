#!/usr/bin/env python3
"""Measure how long a conformance run takes, how many requests it sends, and what latency costs it.

Runners: the suite's profiles (``quick``, ``default``, ``thorough``), each run as a user runs it
(``python -m pytest conformance --profile P --seed S`` in a fresh process), and ``schemathesis``: the
installed schemathesis CLI (``schemathesis run openapi/music-collections.yaml --checks all``, the key
header and the path parameters set to the stub's values, run in a temporary directory), side by side
on the same target.

Targets: ``in-process`` (the bundled stub served inside the suite's process, no ``--base-url``; the
suite only) and ``loopback``: a standalone ``python -m conformance stub --port 0 --latency-ms L``,
once for each ``--latency-ms``. That stub answers every request after L ms, as a remote server does
(concurrent requests wait concurrently), and counts the requests it served and their longest
sequential chain (``GET /_stub/traffic``, reset before every run).

Each combination runs ``--runs`` times, the runners taking turns on each target (a round is one run
of each), so that a slow stretch of the machine weighs on them alike; the table shows medians of:
the wall time of the whole process; its CPU time (user + system: steadier than wall time on a busy
machine; a loopback stub's own CPU time is not in it, the in-process stub's is); pytest's session time; the requests sent (the
stub's count, else the suite's ``requests: N sent to the target`` line); the longest sequential
chain, the most requests of the run that happened one after another, as the suite counts it
(``...; longest sequential chain: M``, ``?`` when the suite does not print it) and as the stub
counts it; and the floor, chain x latency: the least time the latency costs the run (the suite's
chain when printed, else the stub's). At 0 ms the stub's chain overstates: answers it served one
after another may have been in flight together on the client's side.

    .venv/bin/python scripts/benchmark.py                      # everything, 3 runs each (about 10 minutes)
    .venv/bin/python scripts/benchmark.py --runners quick --targets loopback --latency-ms 20 --check
    .venv/bin/python scripts/benchmark.py --runners quick,default --targets loopback --latency-ms 20 --runs 1 --breakdown

A ``PROFILE-n4`` runner measured beside its profile gets a second table: its speed-up over one
collection, from the medians and round by round, against issue 12's goal where there is one
(``SPEEDUP_GOALS``: ``default -n 4`` at 20 ms, at least 2.5x).

Before anything is timed, the suite's modules are compiled to bytecode (``__pycache__``, removed at
the end), as a user's first run leaves them: Python caches a module's bytecode when it first imports
it, unless ``PYTHONDONTWRITEBYTECODE`` is set, as it is on some machines for every process; then each
process of each run, every pytest-xdist worker included, compiles the suite again (about 0.1 s of
CPU). ``--no-compile`` measures without it.

``--breakdown`` then runs each profile once more against the loopback stub, with
``scripts/breakdown_plugin.py`` loaded, and shows where its requests go: by test module, by test and
by rule, with the longest sequential chain of each (what latency costs it).

Exit status: 0 when every suite run passed (the stub is conformant: any other exit is a wrong
verdict) and, with ``--check``, every median wall time is within the issue's goals (see ``GOALS``)
and every speed-up of ``-n 4`` with a goal meets it (``SPEEDUP_GOALS``); 1 otherwise. The
schemathesis CLI's verdict is shown, never judged. It is a measurement, not a test: CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "music-collections.yaml"
PROFILES = ("quick", "default", "thorough")
#: pytest-xdist runners: 4 workers, each changing one of the loopback stub's 4 collections.
SCALED = ("quick-n4", "default-n4", "thorough-n4")
SCHEMATHESIS = "schemathesis"
TARGETS = ("in-process", "loopback")
#: The goals of issue 12 (median wall time, seconds, on a 2-core machine), by profile and the loopback
#: stub's latency in ms. The issue sets none for the in-process target, other latencies or schemathesis.
GOALS: dict[tuple[str, float], float] = {("quick", 0): 3.0, ("default", 0): 5.0, ("quick", 20): 10.0, ("default", 20): 20.0}
#: Issue 12's goal for ``-n 4`` (four collections, a 20 ms target): at least this many times faster
#: than one collection. The issue names no profile: it is set for the one a run takes when none is given.
SPEEDUP_GOALS: dict[tuple[str, float], float] = {("default-n4", 20): 2.5}
#: One run's limit; past it the run is killed and counted as failed.
RUN_TIMEOUT = 1800
_EXPORT = re.compile(r"\s*export (CONFORMANCE_\w+)=(.*)")
_REQUESTS = re.compile(r"^requests: (\d+) sent to the target(?:; longest sequential chain: (\d+))?", re.MULTILINE)
_LOG, _PID = "BENCHMARK_STUB_LOG", "BENCHMARK_STUB_PID"  # kept beside the stub's exports, never passed on
_SESSION = re.compile(r"^=*\s*\d+ \w+.* in ([\d.]+)s", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    """One run's figures; ``None`` where the runner or target does not tell."""

    wall: float
    cpu: float  # user + system seconds of the runner's process (not of a loopback stub)
    returncode: int
    session: float | None = None
    requests: int | None = None  # as the suite counts them
    chain: int | None = None  # as the suite counts it
    stub_requests: int | None = None
    stub_chain: int | None = None


@dataclass(frozen=True)
class Row:
    runner: str
    target: str
    latency_ms: float
    runs: list[Run]

    def median(self, name: str) -> float | None:
        values = [value for run in self.runs if (value := getattr(run, name)) is not None]
        return float(statistics.median(values)) if values else None

    @property
    def requests(self) -> float | None:
        """The stub's count where there is one (it sees every request), else the suite's."""
        stub = self.median("stub_requests")
        return stub if stub is not None else self.median("requests")

    @property
    def floor(self) -> float | None:
        """Median of chain x latency, seconds: the suite's chain when it printed it, else the stub's."""
        if self.latency_ms == 0:
            return 0.0
        floors = []
        for run in self.runs:
            chain = run.chain if run.chain is not None else run.stub_chain
            if chain is not None:
                floors.append(chain * self.latency_ms / 1000)
        return float(statistics.median(floors)) if floors else None

    @property
    def goal(self) -> float | None:
        return GOALS.get((self.runner, self.latency_ms)) if self.target == "loopback" else None

    @property
    def over(self) -> bool:
        wall = self.median("wall")
        return self.goal is not None and wall is not None and wall > self.goal

    @property
    def right(self) -> bool:
        """Every run's verdict is right: the stub is conformant, so only exit 0 is."""
        return all(run.returncode == 0 for run in self.runs)

    @property
    def verdict(self) -> str:
        codes = sorted({run.returncode for run in self.runs})
        return f"{'right' if codes == [0] else 'wrong'} (exit {', '.join(map(str, codes))})"


def _environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without any setting of the suite or schemathesis, so that only ``extra`` configures them."""
    prefixes = ("CONFORMANCE_", "FREDDY_", "PYTEST_ADDOPTS", "SCHEMATHESIS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra or {})
    return env


@contextmanager
def loopback_stub(python: str, latency_ms: float, log: Path) -> Iterator[dict[str, str]]:
    """A standalone stub on a free loopback port, its errors written to ``log``; yields the variables
    that point the suite at it."""
    with log.open("w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [python, "-m", "conformance", "stub", "--port", "0", "--latency-ms", f"{latency_ms:g}", "--collections", "4"],
            cwd=ROOT, env=_environ(), stdout=subprocess.PIPE, stderr=errors, text=True,
        )  # fmt: skip
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        exports: dict[str, str] = {}
        while "CONFORMANCE_FOREIGN_API_KEY" not in exports:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the standalone stub stopped before printing its values")
            match = _EXPORT.match(line)
            if match:
                exports[match.group(1)] = match.group(2).strip()
        watchdog.cancel()
        yield {**exports, _LOG: str(log), _PID: str(process.pid)}
    finally:
        watchdog.cancel()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _traffic(env: Mapping[str, str], method: str = "GET") -> dict[str, int]:
    """The loopback stub's count of the requests it served since the last reset (``DELETE`` resets it)."""
    request = urllib.request.Request(f"{env['CONFORMANCE_BASE_URL']}/_stub/traffic", method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
    except OSError as error:
        log = Path(env[_LOG]).read_text(encoding="utf-8", errors="replace").strip()
        raise RuntimeError(
            f"the loopback stub (pid {env[_PID]}) did not answer {method} /_stub/traffic: {error}; its errors:\n{log or '(none)'}"
        ) from None
    return json.loads(body) if body else {}


def _timed(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> tuple[float, float, int, str]:
    """Run ``command``; its wall time, CPU time, exit status and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False, timeout=RUN_TIMEOUT
        )
        returncode, output = completed.returncode, completed.stdout + completed.stderr
    except subprocess.TimeoutExpired:
        returncode, output = -1, f"killed after {RUN_TIMEOUT} s"
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, returncode, output


def _split(runner: str) -> tuple[str, str]:
    """A suite runner's profile and pytest-xdist workers (``""``: none): ``default-n4`` is ``default``, ``4``."""
    profile, _, workers = runner.partition("-n")
    return profile, workers


def suite_command(python: str, runner: str, seed: int, report_dir: Path) -> list[str]:
    """``conformance run`` as a user starts it; a runner ``PROFILE-nN`` runs ``N`` pytest-xdist workers,
    each changing one of the stub's collections."""
    profile, workers = _split(runner)
    command = [
        python,
        "-m",
        "conformance",
        "run",
        "-q",
        "--profile",
        profile,
        "--seed",
        str(seed),
        "--report-dir",
        str(report_dir),
    ]
    return [*command, "-n", workers] if workers else command


def schemathesis_command(python: str, env: Mapping[str, str], seed: int, workdir: Path) -> list[str]:
    """The schemathesis CLI on the same target: all checks, the key and the path parameters of the stub.

    Path parameters are set in a ``schemathesis.toml`` written into ``workdir`` (the CLI has no flag
    for them); the example database is off and the run's directory is ``workdir``, so nothing is
    written anywhere else.
    """
    config = workdir / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        f'"path.organization_id" = {json.dumps(env["CONFORMANCE_ORG_ID"])}\n'
        f'"path.collection_id" = {json.dumps(env["CONFORMANCE_COLLECTION_ID"].split(",")[0])}\n',
        encoding="utf-8",
    )
    executable = Path(python).parent / "schemathesis"
    return [
        str(executable), "--config-file", str(config), "--no-color", "run", str(SPEC),
        "--url", env["CONFORMANCE_BASE_URL"], "--header", f"X-API-Key: {env['CONFORMANCE_API_KEY']}",
        "--checks", "all", "--seed", str(seed), "--generation-database", "none",
    ]  # fmt: skip


def run_once(python: str, runner: str, seed: int, env: Mapping[str, str], workdir: Path) -> Run:
    """One run in a fresh process, as a user runs it; the stub's traffic counted when it is a loopback one."""
    workdir.mkdir(parents=True)
    loopback = "CONFORMANCE_BASE_URL" in env
    if loopback:
        _traffic(env, "DELETE")
    if runner == SCHEMATHESIS:
        wall, cpu, returncode, output = _timed(schemathesis_command(python, env, seed, workdir), workdir, _environ())
    else:
        exports = {name: value for name, value in env.items() if name.startswith("CONFORMANCE_")}
        wall, cpu, returncode, output = _timed(suite_command(python, runner, seed, workdir), ROOT, _environ(exports))
    traffic = _traffic(env) if loopback else {}
    requests = _REQUESTS.search(output)
    sessions = _SESSION.findall(output)
    broken = runner != SCHEMATHESIS and (returncode != 0 or requests is None)
    if broken or returncode < 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        print(f"  run failed (exit {returncode}):\n{tail}", file=sys.stderr)
    return Run(
        wall=wall,
        cpu=cpu,
        returncode=returncode,
        session=float(sessions[-1]) if sessions and runner != SCHEMATHESIS else None,
        requests=int(requests.group(1)) if requests else None,
        chain=int(requests.group(2)) if requests and requests.group(2) else None,
        stub_requests=traffic.get("requests"),
        stub_chain=traffic.get("longest_chain"),
    )


def _show(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "?" if value is None else f"{value:,.{digits}f}{unit}"


def _progress(row: Row, run: Run, index: int, total: int) -> str:
    figures = [f"{run.wall:6.2f} s wall", f"{run.cpu:6.2f} s CPU"]
    if run.session is not None:
        figures.append(f"{run.session:6.2f} s session")
    figures.append(f"requests {_show(run.requests)} (suite) / {_show(run.stub_requests)} (stub)")
    figures.append(f"chain {_show(run.chain)} / {_show(run.stub_chain)}")
    where = f"{row.target} {row.latency_ms:g} ms" if row.target == "loopback" else row.target
    return f"  {row.runner:12} {where:16} run {index}/{total}: {', '.join(figures)}, exit {run.returncode}"


def measure(
    python: str, runners: Sequence[str], targets: Sequence[str], latencies: Sequence[float], runs: int, seed: int
) -> list[Row]:
    """Every runner on every target, ``runs`` times. On each target the runners take turns (the first
    run of each, then the second of each...), so that a slow stretch of the machine weighs on all of
    them alike, and the runs of one round compare as a pair (:func:`speedups`)."""
    places = [("in-process", 0.0)] if "in-process" in targets else []
    places += [("loopback", latency) for latency in latencies if "loopback" in targets]
    rows = []
    with tempfile.TemporaryDirectory(prefix="conformance-benchmark-") as tmp:
        for target, latency in places:
            chosen = [r for r in runners if target == "loopback" or r not in (SCHEMATHESIS, *SCALED)]
            log = Path(tmp) / f"stub-{latency:g}.log"
            with loopback_stub(python, latency, log) if target == "loopback" else _nothing() as env:
                here = [Row(runner, target, latency, []) for runner in chosen]
                for index in range(runs):
                    for row in here:
                        workdir = Path(tmp) / f"{target}-{latency:g}-{row.runner}-{index}"
                        run = run_once(python, row.runner, seed, env, workdir)
                        print(_progress(row, run, index + 1, runs), file=sys.stderr, flush=True)
                        row.runs.append(run)
                rows += here
    return rows


@dataclass(frozen=True)
class Speedup:
    """A ``PROFILE-nN`` runner against the same profile on one collection, at one latency."""

    scaled: Row
    single: Row

    @property
    def median(self) -> float | None:
        one, many = self.single.median("wall"), self.scaled.median("wall")
        return one / many if one and many else None

    @property
    def pairs(self) -> list[float]:
        """The speed-up of each round (the two runs were made one after the other)."""
        return sorted(a.wall / b.wall for a, b in zip(self.single.runs, self.scaled.runs, strict=False) if b.wall > 0)

    @property
    def goal(self) -> float | None:
        return SPEEDUP_GOALS.get((self.scaled.runner, self.scaled.latency_ms)) if self.scaled.target == "loopback" else None

    @property
    def under(self) -> bool:
        return self.goal is not None and (self.median is None or self.median < self.goal)


def speedups(rows: Sequence[Row]) -> list[Speedup]:
    """Each scaled runner with the run of its profile on one collection, where both were measured."""
    found = []
    for row in rows:
        if row.runner in SCALED:
            profile = _split(row.runner)[0]
            single = next((r for r in rows if (r.runner, r.target, r.latency_ms) == (profile, row.target, row.latency_ms)), None)
            if single is not None:
                found.append(Speedup(row, single))
    return found


def speedup_table(found: Sequence[Speedup]) -> str:
    lines = [
        "| runner | latency | one collection | -n 4, four collections | speed-up (medians) | speed-up, round by round | goal |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for item in found:
        goal = "" if item.goal is None else f"≥ {item.goal:g}x: {'UNDER' if item.under else 'met'}"
        rounds = ", ".join(f"{value:.2f}x" for value in item.pairs)
        cells = [
            f"suite, {item.scaled.runner}", f"{item.scaled.latency_ms:g} ms", _show(item.single.median("wall"), " s", 2),
            _show(item.scaled.median("wall"), " s", 2), _show(item.median, "x", 2), rounds, goal,
        ]  # fmt: skip
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


@contextmanager
def compiled(python: str, enabled: bool) -> Iterator[str]:
    """The suite's modules compiled to bytecode before anything is timed, when ``enabled`` (why: see
    the module's docstring); the ``__pycache__`` folders made here are removed at the end. Yields what
    the header says of it."""
    package = ROOT / "conformance"
    if not enabled:
        state = "off (PYTHONDONTWRITEBYTECODE)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "as Python keeps it"
        yield f"bytecode cache {state}"
        return
    before = set(package.rglob("__pycache__"))
    subprocess.run([python, "-m", "compileall", "-q", str(package)], check=True, stdout=subprocess.DEVNULL)
    try:
        yield "the suite's bytecode compiled before timing, as a first run leaves it (--no-compile: not)"
    finally:
        for path in sorted(set(package.rglob("__pycache__")) - before, reverse=True):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _nothing() -> Iterator[dict[str, str]]:
    yield {}


Breakdown = list[dict[str, Any]]


def breakdown(python: str, runners: Sequence[str], latencies: Sequence[float], seed: int) -> dict[tuple[str, float], Breakdown]:
    """One more run of each profile against the loopback stub at each latency, with
    ``scripts/breakdown_plugin.py`` loaded: the requests, chain and time of every test."""
    found: dict[tuple[str, float], Breakdown] = {}
    with tempfile.TemporaryDirectory(prefix="conformance-breakdown-") as tmp:
        for latency in latencies:
            with loopback_stub(python, latency, Path(tmp) / f"stub-{latency:g}.log") as env:
                for runner in (r for r in runners if r in PROFILES):
                    workdir = Path(tmp) / f"{runner}-{latency:g}"
                    workdir.mkdir()
                    out = workdir / "breakdown.json"
                    exports = {name: value for name, value in env.items() if name.startswith("CONFORMANCE_")}
                    exports.update(PYTHONPATH=str(ROOT / "scripts"), BENCHMARK_BREAKDOWN=str(out))
                    command = [*suite_command(python, runner, seed, workdir), "-p", "breakdown_plugin"]
                    _wall, _cpu, returncode, output = _timed(command, ROOT, _environ(exports))
                    if returncode != 0 or not out.exists():
                        print(
                            f"  breakdown of {runner} at {latency:g} ms failed (exit {returncode}):\n{output[-2000:]}",
                            file=sys.stderr,
                        )
                        continue
                    found[(runner, latency)] = json.loads(out.read_text(encoding="utf-8"))
    return found


def breakdown_tables(rows: Breakdown, title: str, top: int = 12) -> str:
    """Where the requests of one run go: by test module, by test (the ``top`` longest chains), by rule
    (a test's requests count for every rule it names). The chain of a group is the sum of its tests'
    chains: tests run one after another."""

    def grouped(key: Callable[[dict[str, Any]], Sequence[str]]) -> list[tuple[str, list[float]]]:
        sums: dict[str, list[float]] = {}
        for row in rows:
            for name in key(row):
                total = sums.setdefault(name, [0, 0, 0, 0.0])
                total[0] += 1
                total[1] += row["requests"]
                total[2] += row["chain"]
                total[3] += row["wall"]
        return sorted(sums.items(), key=lambda item: (-item[1][2], -item[1][1]))

    lines = [
        f"### {title}",
        "",
        "A batch (refusals, answers, the lanes of accepted values) counts under the test whose setup sent it, the first",
        "of its tests to run; its other tests show none. Chains add up: the tests run one after another.",
        "",
    ]
    for heading, key, limit in (
        ("module", lambda row: [row["test"].split("::")[0].rsplit("/", 1)[-1]], None),
        ("test", lambda row: [row["test"].split("::")[-1]], top),
        ("rule", lambda row: row["rules"], top),
    ):
        groups = grouped(key)
        lines += [f"| {heading} | tests | requests | chain | wall |", "|---|---:|---:|---:|---:|"]
        for name, (tests, requests, chain, wall) in groups[:limit]:
            lines.append(f"| `{name}` | {tests:.0f} | {requests:,.0f} | {chain:,.0f} | {wall:.2f} s |")
        if limit is not None and len(groups) > limit:
            lines.append(f"| ({len(groups) - limit} more) | | | | |")
        lines.append("")
    return "\n".join(lines)


def table(rows: Sequence[Row], runs: int) -> str:
    lines = [
        f"| runner | target | latency | wall (median of {runs}) | CPU | session | requests | chain (suite) | chain (stub) "
        "| floor | goal | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        runner = "schemathesis CLI, all checks" if row.runner == SCHEMATHESIS else f"suite, {row.runner}"
        goal = "" if row.goal is None else f"≤ {row.goal:g} s: {'OVER' if row.over else 'within'}"
        cells = [
            runner, row.target, f"{row.latency_ms:g} ms", _show(row.median("wall"), " s", 2), _show(row.median("cpu"), " s", 2),
            _show(row.median("session"), " s", 2) if row.runner != SCHEMATHESIS else "",
            _show(row.requests), _show(row.median("chain")), _show(row.median("stub_chain")),
            _show(row.floor, " s", 1), goal, row.verdict,
        ]  # fmt: skip
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def _names(text: str, known: Sequence[str], option: str, parser: argparse.ArgumentParser) -> list[str]:
    names = [name for name in text.split(",") if name]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        parser.error(f"{option}: expected a comma-separated list of {', '.join(known)}; got {text!r}")
    return names


def _latencies(text: str, parser: argparse.ArgumentParser) -> list[float]:
    try:
        values = [float(item) for item in text.split(",") if item]
    except ValueError:
        values = []
    if not values or any(not 0 <= value <= 60_000 for value in values):
        parser.error(f"--latency-ms: expected comma-separated milliseconds from 0 to 60000; got {text!r}")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per runner and target; the table shows medians (default 3)")
    parser.add_argument(
        "--runners", default=f"quick,default,{SCHEMATHESIS}",
        help=f"comma-separated, of {', '.join((*PROFILES, *SCALED, SCHEMATHESIS))} (default: quick,default,{SCHEMATHESIS})",
    )  # fmt: skip
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)} (default: both)")
    parser.add_argument(
        "--latency-ms", default="0,20", metavar="MS[,MS...]",
        help="the loopback stub's latency per request, one loopback target each (default: 0,20)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="the seed of every run, so that runs compare (default 0)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that has the suite installed")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a median wall time is over its goal, or a speed-up of -n 4 under its own"
    )  # fmt: skip
    parser.add_argument(
        "--no-compile", action="store_true",
        help="do not compile the suite's bytecode before timing (see compiled(): with PYTHONDONTWRITEBYTECODE set, every process compiles it)",
    )  # fmt: skip
    parser.add_argument(
        "--breakdown", action="store_true",
        help="then run each profile once more against the loopback stub and show where its requests go (per module, test, rule)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    runners = _names(args.runners, (*PROFILES, *SCALED, SCHEMATHESIS), "--runners", parser)
    targets = _names(args.targets, TARGETS, "--targets", parser)
    latencies = _latencies(args.latency_ms, parser)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1; got {args.runs}")
    with compiled(args.python, not args.no_compile) as bytecode:
        print(
            f"benchmark: {args.runs} runs each, seed {args.seed}; {os.cpu_count()} CPUs, load "
            f"{' '.join(f'{load:.1f}' for load in os.getloadavg())}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}; {bytecode}",
            file=sys.stderr,
        )
        rows = measure(args.python, runners, targets, latencies, args.runs, args.seed)
        print(table(rows, args.runs))
        found = speedups(rows)
        if found:
            print()
            print(speedup_table(found))
        if args.breakdown:
            for (runner, latency), tables in breakdown(args.python, runners, latencies, args.seed).items():
                print()
                print(breakdown_tables(tables, f"Where the requests go: {runner}, loopback, {latency:g} ms"))
    suite_right = all(row.right for row in rows if row.runner != SCHEMATHESIS)
    missed = any(row.over for row in rows) or any(item.under for item in found)
    return 0 if suite_right and not (args.check and missed) else 1


if __name__ == "__main__":
    sys.exit(main())
