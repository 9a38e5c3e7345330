"""The mutation self-test's machinery: run the suite against every fault and variant, judge each run.

A run is ``python -m pytest conformance --stub-fault NAME`` in a subprocess (clean environment,
fixed seed, the entry's profile), with its JUnit file read back: for a fault, the run must exit 1
and a failed test must name one of the fault's rules (``tests/mutation_plugin.py`` runs the tests of
those rules first and stops there); for a variant (and the plain stub), the whole suite runs and
must exit 0 with no failed test, and each SHOULD rule the variant breaks on purpose must warn.
"""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from conformance.stub import StubApp
from conformance.stub.faults import FAULTS, VARIANTS

from .conftest import run_suite

#: The seed of every run: the same as a CI run's default, so a verdict is reproducible.
SEED = "0"
REFERENCE = StubApp.name


@dataclass(frozen=True)
class Entry:
    """What a run is against: the plain stub, a fault (``expects``: its rules) or a variant (its SHOULD rules)."""

    name: str
    kind: str  # "reference", "fault" or "variant"
    expects: tuple[str, ...] = ()
    freedom: str = ""
    profile: str = "quick"
    examples: int | None = None

    def args(self, out: Path) -> list[str]:
        args = ["--profile", self.profile, "--seed", SEED, "-q", "--junitxml", str(out / "junit.xml"), "--report-dir", str(out)]
        if self.kind != "reference":
            args += ["--stub-fault", self.name]
        if self.kind == "fault":  # its rules' tests first; stop once caught
            args += ["-p", "tests.mutation_plugin", "--mutation-rules", ",".join(self.expects)]
        if self.examples is not None:
            args += ["--examples", str(self.examples)]
        return args


def entries() -> list[Entry]:
    """The plain stub, every variant and every fault of ``conformance.stub.faults``."""
    found = [Entry(REFERENCE, "reference")]
    found += [Entry(n, "variant", c.warns, c.freedom, c.profile, c.examples) for n, c in VARIANTS.items()]
    found += [Entry(n, "fault", c.breaks, "", c.profile, c.examples) for n, c in FAULTS.items()]
    return found


@dataclass(frozen=True)
class Case:
    """One conformance test of a run, from its JUnit record."""

    name: str
    outcome: str  # the plugin's outcome: pass, fail, warning, skip, error
    rules: frozenset[str]  # the rules it found violated (failed or warned), each on its own evidence
    message: str

    @property
    def first_line(self) -> str:
        return self.message.strip().splitlines()[0][:200] if self.message.strip() else ""


def read_junit(path: Path) -> list[Case]:
    """Every test case of a JUnit file, with the conformance plugin's properties."""
    if not path.exists():
        return []
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        props = [(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]
        message = next((value for name, value in props if name == "message"), "")
        for element in (*case.iter("failure"), *case.iter("error")):
            message = message or element.get("message", "") or (element.text or "")
        outcome = next((value for name, value in props if name == "outcome"), "")
        if not outcome:
            outcome = "fail" if case.find("failure") is not None else "error" if case.find("error") is not None else "pass"
        named = {value for name, value in props if name in ("violated", "warned")}
        cases.append(Case(f"{case.get('classname', '')}::{case.get('name', '')}", outcome, frozenset(named), message))
    return cases


@dataclass
class Verdict:
    """A run against one entry, and whether it came out as the entry requires."""

    entry: Entry
    returncode: int
    seconds: float
    cases: list[Case] = field(default_factory=list)
    output: str = ""
    #: The verdict word of the run's ``conformance.json`` (one verdict: it must agree with the exit status).
    word: str = ""

    def with_outcome(self, outcome: str) -> list[Case]:
        return [c for c in self.cases if c.outcome == outcome]

    @property
    def failed_rules(self) -> set[str]:
        return {rule for case in self.with_outcome("fail") for rule in case.rules}

    @property
    def warned_rules(self) -> set[str]:
        return {rule for case in self.with_outcome("warning") for rule in case.rules}

    @property
    def caught(self) -> bool:
        """A fault's run exited 1, said FAIL in its report, and a failed test names one of its rules."""
        return self.returncode == 1 and self.word == "fail" and bool(self.failed_rules & set(self.entry.expects))

    @property
    def passed(self) -> bool:
        """A variant's (or the plain stub's) run exited 0, said PASS, with no failed test."""
        return self.returncode == 0 and self.word == "pass" and not self.with_outcome("fail")

    @property
    def missing_warnings(self) -> set[str]:
        return set(self.entry.expects) - self.warned_rules if self.entry.kind == "variant" else set()

    @property
    def ok(self) -> bool:
        if self.entry.kind == "fault":
            return self.caught
        return self.passed and not self.missing_warnings

    def explain(self) -> str:
        """Why the verdict is what it is: for a reader who must fix the suite (or the entry)."""
        entry = self.entry
        head = f"{entry.kind} {entry.name!r} ({', '.join(entry.expects) or entry.freedom or 'plain'}): exit {self.returncode}, verdict {self.word!r}"
        lines = [f"{head}, {self.seconds:.1f}s"]
        catchers = [c for c in self.with_outcome("fail") if c.rules & set(entry.expects)]
        if entry.kind == "fault" and self.caught:
            lines.append(f"  caught by {catchers[0].name}: {catchers[0].first_line}")
        if entry.kind == "fault" and not self.caught:
            others = sorted(self.failed_rules)
            lines.append(
                f"  MISSED: no failed test names {' or '.join(entry.expects)}"
                + (f"; failures name only {', '.join(others)}" if others else "")
            )
        for case in self.with_outcome("fail") if entry.kind != "fault" else []:
            lines.append(f"  FALSE ALARM {case.name}: {case.first_line}")
        for rule in sorted(self.missing_warnings):
            lines.append(f"  NO WARNING for {rule}, which this variant breaks on purpose")
        for case in self.with_outcome("warning"):
            lines.append(f"  warning {case.name}: {case.first_line}")
        for case in self.with_outcome("error"):
            lines.append(f"  error {case.name}: {case.first_line}")
        if self.returncode not in (0, 1) or not self.cases:
            lines.append("  output (tail): " + self.output.strip()[-1500:].replace("\n", "\n    "))
        return "\n".join(lines)


def run_one(entry: Entry, out: Path) -> Verdict:
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    run = run_suite(*entry.args(out), timeout=600)
    seconds = time.perf_counter() - started
    report = out / "conformance.json"
    word = json.loads(report.read_text(encoding="utf-8"))["verdict"]["status"] if report.exists() else ""
    return Verdict(entry, run.returncode, seconds, read_junit(out / "junit.xml"), run.output, word)


def workers() -> int:
    """Runs in parallel: a run is mostly CPU (pytest, hypothesis, the stub), so about one per core."""
    return max(2, min(4, (os.cpu_count() or 2) + 1))


def run_all(todo: Iterable[Entry], out: Path) -> dict[str, Verdict]:
    """Every run, in parallel; keyed by entry name."""
    todo = list(todo)
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        futures = {entry.name: pool.submit(run_one, entry, out / entry.name) for entry in todo}
        return {name: future.result() for name, future in futures.items()}


def score(verdicts: dict[str, Verdict], wall: float) -> str:
    """The score line, and the cost of the runs."""
    faults = [v for v in verdicts.values() if v.entry.kind == "fault"]
    variants = [v for v in verdicts.values() if v.entry.kind == "variant"]
    alarms = [v for v in variants if not v.passed]
    expected = sum(len(v.entry.expects) for v in variants)
    missing = sum(len(v.missing_warnings) for v in variants)
    total = sum(v.seconds for v in verdicts.values())
    reference = verdicts.get(REFERENCE)
    plain = "" if reference is None or reference.passed else "; the plain stub FAILS"
    return (
        f"caught {sum(v.caught for v in faults)}/{len(faults)} faults, {len(alarms)} false alarms on "
        f"{len(variants)} conformant variants, {expected - missing}/{expected} SHOULD warnings{plain} "
        f"({len(verdicts)} runs: {total:.0f}s of runs in {wall:.0f}s wall, {workers()} workers)"
    )


def cost_table(verdicts: dict[str, Verdict], top: int = 8) -> str:
    """The most expensive runs, and the average."""
    ranked = sorted(verdicts.values(), key=lambda v: -v.seconds)
    average = sum(v.seconds for v in ranked) / max(1, len(ranked))
    rows = [f"  {v.seconds:6.1f}s  {v.entry.kind:9} {v.entry.name}" for v in ranked[:top]]
    return "\n".join([f"mutation runs: {average:.1f}s on average; the most expensive:", *rows])
