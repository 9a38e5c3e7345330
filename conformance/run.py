"""One conformance run: its settings, the facts it gathers, and what it writes at the end.

The plugin (``conformance.plugin``) only hands facts to a :class:`Run`: each test's phases and checks,
the restore, why the run stopped. At the end :meth:`Run.finish` asks the gate (``conformance.gate``)
for the one verdict, and every output (exit status, terminal, JUnit, JSON, Markdown, HTML) renders it.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import config as cfg
from conformance import gate
from conformance.evidence import Ledger
from conformance.redaction import Redactor
from conformance.results import FreedomObservation, Outcome, Phase, Planned, TestResult, not_run


class UsageError(Exception):
    """The run cannot start; the message is one line that says how to fix it (exit status 4)."""


@dataclass
class TestRecord:
    """What one test has shown so far: its checks, how each phase ended, what it observed."""

    __test__ = False  # not a pytest test class

    nodeid: str
    rule_ids: tuple[str, ...]
    ledger: Ledger
    phases: list[Phase] = field(default_factory=list)
    freedoms: list[FreedomObservation] = field(default_factory=list)
    duration: float = 0.0
    not_run: str = ""  # why it was never run, when it was not


@dataclass
class Run:
    """The state of one conformance run. Created only when conformance tests are collected."""

    settings: cfg.Settings
    planned: list[Planned]
    stub: Any = None  # conformance.stub.RunningStub when the target is the bundled stub
    accepted: dict[str, str] = field(default_factory=dict)  # the baseline: rule -> reason
    baseline: Any = None  # conformance.baseline.Baseline, from --baseline
    target: Any = None  # conformance.target.Target, set by the ``target`` fixture
    results: list[TestResult] = field(default_factory=list)
    #: What the run has to say besides its verdict (a killed run's values put back first, ...).
    notes: list[str] = field(default_factory=list)
    #: Freedoms observed outside a test (``conformance.plugin.observe_freedom``).
    freedoms: list[FreedomObservation] = field(default_factory=list)
    restore: gate.Restore | None = None
    #: The restores of pytest-xdist's workers, gathered by the controller (``conformance.distributed``).
    restores: list[gate.Restore] = field(default_factory=list)
    #: Requests sent and the longest sequential chain, as the controller gathers them from its workers.
    requests: int = 0
    chain: int = 0
    stop: gate.Stop = gate.Stop.NONE
    stop_message: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: ``time.monotonic()`` past which no further test starts (``--max-time``); ``None``: no bound.
    deadline: float | None = None
    verdict: gate.Verdict | None = None
    report_paths: list[str] = field(default_factory=list)
    report_error: str = ""

    @classmethod
    def start(cls, values: dict[str, Any], planned: list[Planned], *, serve_stub: bool = True) -> Run:
        """Read the configuration (serving the bundled stub when there is no base URL, unless not
        ``serve_stub``: a pytest-xdist controller, whose workers serve one each), the baseline and the
        report folder, before any request; :class:`UsageError` when any is unusable."""
        stubs: list[Any] = []

        def stub_values(fault: str | None) -> dict[str, Any]:
            from conformance.stub import create
            from conformance.target import start_stub

            try:
                if not serve_stub:
                    return create(fault).seed("(one bundled stub per worker)").as_dict()
                stub, seed = start_stub(fault)
            except ValueError as error:
                raise cfg.ConfigError(f"{cfg.describe('stub_fault')}: {error}") from None
            stubs.append(stub)
            return seed

        try:
            settings = cfg.load(values, stub_values=stub_values)
            from conformance.redaction import redact_logs

            redact_logs(settings.secrets())  # from now on, before any request and any log record of it
            if settings.seed is None:
                settings = dataclasses.replace(settings, seed=0 if os.environ.get("CI") else random.randrange(2**32))
            run = cls(settings, planned, stub=stubs[0] if stubs else None)
            run.deadline = time.monotonic() + settings.max_time if settings.max_time else None
            run._prepare()
        except cfg.ConfigError as error:
            for stub in stubs:
                stub.close()
            raise UsageError(str(error)) from None
        return run

    def _prepare(self) -> None:
        if self.settings.baseline is not None:
            from conformance import baseline

            self.baseline = baseline.load(self.settings.baseline)  # BaselineError is a ConfigError
            self.accepted = {e.rule: e.reason for e in self.baseline.entries}
        try:
            self.settings.report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise cfg.ConfigError(
                f"{cfg.describe('report_dir')}: cannot create {self.settings.report_dir}: {error.strerror}"
            ) from None

    # ---- facts ------------------------------------------------------------------------------------

    @property
    def redact(self) -> Callable[[str], str]:
        """Masks every secret the run knows (the client's redactor also knows the keys tests derived)."""
        redactor = self.target.client.redactor if self.target is not None else Redactor(self.settings.secrets())
        return redactor.text

    def judge(self, record: TestRecord) -> TestResult:
        """The result of ``record`` as it stands (the plugin asks again after each phase)."""
        from conformance.outcomes import judge_test  # the checks and the client: a pytest-xdist controller judges no test

        result = judge_test(
            record.nodeid, record.rule_ids, record.phases, record.ledger.checks,
            strict=self.settings.strict, redact=self.redact, duration=record.duration, freedoms=record.freedoms,
        )  # fmt: skip
        if record.not_run:
            result = not_run([Planned(record.nodeid, record.rule_ids)], [], record.not_run)[0]
        return result

    def kept(self, rule_id: str) -> bool:
        """Whether the tests so far judged ``rule_id`` and found it kept (a pass, and no violation)."""
        found = [f.outcome for t in self.results for f in t.findings if f.rule_id == rule_id]
        return Outcome.PASS in found and not {Outcome.FAIL, Outcome.WARNING, Outcome.ERROR} & set(found)

    def kind(self, result: TestResult) -> str:
        return gate.kind_of(result, self.accepted)

    def halt(self, stop: gate.Stop, message: str) -> None:
        """Stop the run (the first reason wins): every test not started yet is not run."""
        if self.stop is gate.Stop.NONE:
            self.stop, self.stop_message = stop, self.redact(message)

    def check_bounds(self) -> None:
        """Halt when ``--max-time`` is spent or the target stopped answering."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.halt(
                gate.Stop.OUT_OF_TIME, f"--max-time {self.settings.max_time:g} s exceeded; the rest of the run is not judged"
            )
        client = self.target.client if self.target is not None else None
        if client is not None and client.down:
            self.halt(gate.Stop.TARGET_DOWN, client.down)

    # ---- the end ------------------------------------------------------------------------------------

    def traffic(self) -> tuple[int, int]:
        """Requests sent to the target, and the longest chain of them sent one after another."""
        if self.target is not None:
            recorder = self.target.client.recorder
            return recorder.total, recorder.longest_chain()
        return self.requests, self.chain

    def the_restore(self) -> gate.Restore | None:
        """The restore of this run, or of all its workers' (failed when any failed)."""
        if not self.restores:
            return self.restore
        failed = [r for r in self.restores if r.status == "failed"]
        chosen = failed or self.restores
        status = "failed" if failed else "verified" if any(r.status == "verified" for r in chosen) else "unchanged"
        return gate.Restore(status, "; ".join(r.message for r in chosen))

    def facts(self) -> gate.Facts:
        tests = [*self.results, *not_run(self.planned, self.results, self.stop.value)]
        return gate.Facts(
            tests, self.settings.strict, self.accepted, self.the_restore(), self.stop, self.stop_message, tuple(self.notes)
        )

    def finish(self, junit_path: Path | None) -> gate.Verdict:
        """Decide, then write every report (even when the run failed or was interrupted)."""
        if self.stub is not None:
            self.stub.close()
        verdict = gate.decide(self.facts())
        self.verdict = verdict
        from conformance import report, report_junit

        finished = datetime.now(UTC)
        try:
            info = report.RunInfo(self.settings, self.started, finished, self.baseline, tuple(self.freedoms))
            document = report.build(info, verdict)
            self.report_paths = [str(p) for p in report.write(document, self.settings.report_dir)]
            if junit_path is not None:
                junit_path.parent.mkdir(parents=True, exist_ok=True)
                junit_path.write_text(report_junit.render(verdict, self.started, finished, self.redact), encoding="utf-8")
                self.report_paths.insert(0, str(junit_path))
        except OSError as error:
            self.report_error = f"conformance: cannot write the reports to {self.settings.report_dir}: {error}"
        return verdict
