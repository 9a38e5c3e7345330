"""The session of a conformance run: starting it, and the hooks that need the run but are given no
config (registered once it starts). The plugin (``conformance.plugin``) calls these."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance import config as cfg
from conformance import evidence
from conformance.gate import Stop
from conformance.plugin import RUN, option_values
from conformance.results import ExitCode, Phase, Planned, TestResult
from conformance.run import Run, TestRecord, UsageError


def start(config: pytest.Config, planned: list[Planned], *, serve_stub: bool = True) -> Run:
    """Read the options into a :class:`~conformance.run.Run` (exit 4 when they cannot be used), keep
    it in the config, register its hooks, handle signals, and say what the run is against."""
    values = option_values(config)
    try:
        run = Run.start(values, planned, serve_stub=serve_stub)
    except UsageError as error:
        pytest.exit(f"conformance: {error}", returncode=int(ExitCode.USAGE))
    config.stash[RUN] = run
    config.pluginmanager.register(RunHooks(run), "conformance-run")
    from conformance import garbage

    garbage.freeze()  # the collected tests, kept to the end of the run
    from conformance.safety import PROCESS

    PROCESS.install()
    interrupted(run)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        from conformance.summary import header

        for line in header(run.settings):
            reporter.write_line(line)
    return run


def start_controller(config: pytest.Config) -> None:
    """A pytest-xdist controller's run: it serves no stub and collects nothing; more workers than
    collections is refused here, before any test is handed out (``plugin.pytest_sessionstart``
    then stops the workers)."""
    run = start(config, [], serve_stub=False)
    workers = config.getoption("numprocesses", None)
    if not run.settings.stub and isinstance(workers, int) and workers > len(run.settings.collection_ids):
        why = (
            f"-n {workers} runs {workers} pytest-xdist workers but {len(run.settings.collection_ids)} collection(s) "
            f"were given: each worker changes a collection of its own; give one per worker with "
            f"{cfg.describe('collection_id')} (repeated, or comma-separated), or run fewer workers"
        )
        run.halt(Stop.USAGE, why)
        pytest.exit(f"conformance: {why}", returncode=int(ExitCode.USAGE))


def begin_test(run: Run, nodeid: str, rule_ids: tuple[str, ...]) -> TestRecord:
    """The record of a test about to run, its ledger active; a safe point for signals and the bounds,
    and the test is skipped as *not run* once the run has stopped."""
    record = TestRecord(nodeid, rule_ids, evidence.Ledger(rule_ids))
    evidence.activate(record.ledger)
    interrupted(run)
    run.check_bounds()
    if run.stop is not Stop.NONE:
        record.not_run = run.stop_message or run.stop.value
        pytest.skip(f"not run: {record.not_run}")
    return record


def end_phase(run: Run, record: TestRecord, report: pytest.TestReport, error: BaseException | None) -> None:
    """A phase of a test ended: judge the test so far; its report says the outcome (and, at teardown,
    carries the result to a pytest-xdist controller)."""
    reason = str(report.longrepr[2]) if report.skipped and isinstance(report.longrepr, tuple) else ""
    record.phases.append(Phase(report.when, report.outcome, error, reason))
    record.duration += report.duration
    if run.target is not None and report.when == "call":
        run.target.client.recorder.take()  # the next test starts with no exchange of this one
    result = run.judge(record)
    if report.when == "teardown":
        evidence.activate(None)
        report.conformance = result.to_dict()  # type: ignore[attr-defined]
    elif report.when == "call" or report.outcome != "passed":
        from conformance.summary import shape

        shape(report, result, run.kind(result), error)


def finish(run: Run, session: pytest.Session) -> None:
    """Decide, write every report and the JUnit file from the verdict, set the exit status (nothing
    for ``--collect-only``)."""
    if session.config.getoption("collectonly", False):
        return
    if session.shouldfail or session.shouldstop:
        run.halt(Stop.EARLY, f"stopped early: {session.shouldfail or session.shouldstop}")
    xmlpath = session.config.getoption("xmlpath", None)
    verdict = run.finish(Path(xmlpath) if xmlpath else None)
    session.exitstatus = int(ExitCode.NOT_JUDGED if run.report_error else verdict.exit_status)
    from conformance import garbage

    garbage.freeze()  # the run is over: pytest's last full collections need not walk all it built


def interrupted(run: Run) -> None:
    """A safe point: a signal received since the last one ends the run here."""
    from conformance.safety import PROCESS

    if PROCESS.received:
        run.halt(Stop.INTERRUPTED, f"interrupted by {PROCESS.received[0]}")
        pytest.exit(f"conformance: interrupted by {PROCESS.received[0]}", returncode=int(ExitCode.INTERRUPTED))


class RunHooks:
    """The hooks that need the run but are not given the config: registered once the run starts."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if data is not None and report.when == "teardown":
            self.run.results.append(TestResult.from_dict(data))
            self.run.check_bounds()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """A pytest-xdist worker ended: its restore, plans and traffic join the controller's run."""
        from conformance import distributed

        facts = getattr(node, "workeroutput", {}).get(distributed.KEY)
        if facts is not None:
            distributed.merge(self.run, facts)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """A pytest-xdist worker, once its session is torn down (the collection restored), tells the
        controller what the verdict needs; the controller decides (see ``pytest_sessionfinish`` below)."""
        from conformance import distributed

        if distributed.is_worker(session.config):
            session.config.workeroutput[distributed.KEY] = distributed.worker_facts(self.run)  # type: ignore[attr-defined]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.run.verdict is None:
            return
        from conformance.summary import lines

        terminalreporter.section("conformance")
        for text, style in lines(self.run):
            terminalreporter.write_line(text, **style)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        from conformance.gate import Stop
        from conformance.safety import PROCESS

        why = PROCESS.received[0] if PROCESS.received else str(excinfo.value or type(excinfo.value).__name__)
        self.run.halt(Stop.INTERRUPTED, f"interrupted by {why}")
