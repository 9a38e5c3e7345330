#!/usr/bin/env python3
"""Measure how long a conformance run takes, and how many requests per second it sends.

Each profile runs against two targets: the bundled stub served in-process (no ``--base-url``) and a
loopback target (a standalone ``python -m conformance stub --port 0``, configured from the
``export`` lines it prints). Each combination runs ``--runs`` times as a user runs it
(``python -m pytest conformance --profile P --seed S`` in a fresh process); the table shows medians:
the wall time of the whole process, the session time pytest reports, the requests sent (the
plugin's ``requests: N sent`` line) and requests per second of session time.

    .venv/bin/python scripts/benchmark.py                 # quick and default, 5 runs each
    .venv/bin/python scripts/benchmark.py --runs 3 --profiles default --targets loopback

Exit status: 0 when every run passed (and, with ``--check``, every median is within its limit),
1 otherwise. It is a measurement, not a test: CI does not run it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The limits of the issue, in seconds of wall time on a 2-core machine.
LIMITS = {"quick": 10.0, "default": 30.0}
TARGETS = ("in-process", "loopback")
_EXPORT = re.compile(r"\s*export (CONFORMANCE_\w+)=(.*)")
_REQUESTS = re.compile(r"^requests: (\d+) sent", re.MULTILINE)
_SESSION = re.compile(r"\d+ passed.* in ([\d.]+)s")


@dataclass(frozen=True)
class Run:
    wall: float
    session: float
    requests: int
    returncode: int


@dataclass(frozen=True)
class Row:
    profile: str
    target: str
    runs: list[Run]

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(run, name) for run in self.runs))

    @property
    def passed(self) -> bool:
        return all(run.returncode == 0 for run in self.runs)

    @property
    def rate(self) -> float:
        return float(statistics.median(run.requests / run.session for run in self.runs if run.session > 0))


def _environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without any setting of the suite, so that only ``extra`` configures it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "FREDDY_", "PYTEST_ADDOPTS"))}
    env.update(extra or {})
    return env


@contextmanager
def loopback_stub(python: str) -> Iterator[dict[str, str]]:
    """A standalone stub on a free loopback port; yields the variables that point the suite at it."""
    process = subprocess.Popen(
        [python, "-m", "conformance", "stub", "--port", "0"],
        cwd=ROOT, env=_environ(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
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
        yield exports
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


def run_once(python: str, profile: str, seed: int, env: Mapping[str, str], report_dir: Path) -> Run:
    """One suite run in a fresh process, as a user runs it."""
    command = [python, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q"]
    command += ["--profile", profile, "--seed", str(seed), "--report-dir", str(report_dir)]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=_environ(env), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    output = completed.stdout + completed.stderr
    requests = _REQUESTS.search(output)
    session = _SESSION.search(output)
    if completed.returncode != 0 or requests is None or session is None:
        tail = "\n".join(output.strip().splitlines()[-15:])
        print(f"  run failed (exit {completed.returncode}):\n{tail}", file=sys.stderr)
    return Run(
        wall, float(session.group(1)) if session else wall, int(requests.group(1)) if requests else 0, completed.returncode
    )


def measure(python: str, profiles: Sequence[str], targets: Sequence[str], runs: int, seed: int) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="conformance-benchmark-") as tmp:
        for target in targets:
            with loopback_stub(python) if target == "loopback" else _nothing() as env:
                for profile in profiles:
                    done = []
                    for index in range(runs):
                        run = run_once(python, profile, seed, env, Path(tmp) / f"{target}-{profile}-{index}")
                        print(
                            f"  {target:10} {profile:8} run {index + 1}/{runs}: {run.wall:6.2f} s wall, "
                            f"{run.session:6.2f} s session, {run.requests} requests, exit {run.returncode}",
                            file=sys.stderr,
                        )
                        done.append(run)
                    rows.append(Row(profile, target, done))
    return rows


@contextmanager
def _nothing() -> Iterator[dict[str, str]]:
    yield {}


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| profile | target | wall (median) | session (median) | requests | requests/s | limit | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        limit = LIMITS.get(row.profile)
        wall = row.median("wall")
        within = "" if limit is None else ("within" if wall <= limit else "OVER")
        verdict = within if row.passed else "RUN FAILED"
        lines.append(
            f"| {row.profile} | {row.target} | {wall:.2f} s | {row.median('session'):.2f} s | {row.median('requests'):.0f} "
            f"| {row.rate:.0f} | {'' if limit is None else f'{limit:.0f} s'} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per profile and target; the table shows medians (default 5)")
    parser.add_argument("--profiles", default="quick,default", help="comma-separated profiles (default: quick,default)")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)} (default: both)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of every run, so that runs compare (default 0)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that has the suite installed")
    parser.add_argument("--check", action="store_true", help="exit 1 when a median wall time is over its limit")
    args = parser.parse_args(argv)
    profiles = [p for p in args.profiles.split(",") if p]
    targets = [t for t in args.targets.split(",") if t]
    unknown = [t for t in targets if t not in TARGETS]
    if args.runs < 1 or unknown:
        parser.error(f"--runs must be at least 1 and --targets of {TARGETS}; got {args.runs}, {unknown}")
    print(
        f"benchmark: {args.runs} runs each, seed {args.seed}; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}",
        file=sys.stderr,
    )
    rows = measure(args.python, profiles, targets, args.runs, args.seed)
    print(table(rows))
    over = any(row.median("wall") > LIMITS.get(row.profile, float("inf")) for row in rows)
    return 0 if all(row.passed for row in rows) and not (args.check and over) else 1


if __name__ == "__main__":
    sys.exit(main())
