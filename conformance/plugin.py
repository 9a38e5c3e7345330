"""The pytest plugin (entry point ``pytest11``): options, the ``requirement`` marker, outcomes, exit status.

It stays inert unless the collected tests carry ``@pytest.mark.requirement``: a project that merely
has the package installed sees only its options. Fixtures live in ``conformance/suite/conftest.py``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance import config as cfg
from conformance import requirements
from conformance.results import Evidence, ExitCode, FreedomObservation, Outcome, TestResult

MARKER = "requirement"


class RunState:
    """What one conformance run holds between hooks. Created only when conformance tests are collected."""

    def __init__(self, settings: cfg.Settings, stub: Any) -> None:
        self.settings = settings
        self.stub = stub
        self.results: list[TestResult] = []
        self.target: Any = None  # conformance.target.Target, set by the ``target`` fixture
        self.restore_message = ""
        self.restore_failed = False
        self.started = datetime.now(UTC)
        self.baseline: Any = None  # conformance.baseline.Baseline, from --baseline
        self.freedoms: list[FreedomObservation] = []  # see ``observe_freedom``
        self.stop_reason = ""  # why the run stopped early (pytest.exit, Ctrl-C), for the report
        self.report_paths: list[str] = []
        #: ``time.monotonic()`` past which no further test starts (``--max-time``); ``None``: no bound.
        self.deadline = time.monotonic() + settings.max_time if settings.max_time else None
        self.out_of_time = False  # the run stopped at --max-time: what did not run is not judged

    @property
    def rate_limited(self) -> int:
        """How many 429 answers the run waited out and retried (not judged)."""
        return self.target.client.recorder.rate_limited if self.target is not None else 0


_STATE = pytest.StashKey[RunState]()


def state(config: pytest.Config) -> RunState | None:
    """The run's state, or ``None`` when no conformance test was collected."""
    return config.stash.get(_STATE, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance of PATCH /v1/music/{organization_id}/collections/{collection_id}")
    for option in cfg.OPTIONS:
        envs = " or ".join(option.env)
        if option.repeatable:
            group.addoption(
                option.flag, action="append", default=[], dest=f"conformance_{option.dest}",
                metavar=option.metavar, help=f"{option.help} [env: {envs}]",
            )  # fmt: skip
        elif option.is_flag:  # default None, so an absent flag falls back to the environment
            group.addoption(
                option.flag, action="store_true", default=None, dest=f"conformance_{option.dest}",
                help=f"{option.help} [env: {envs}=1]",
            )  # fmt: skip
        else:
            group.addoption(
                option.flag, default=None, dest=f"conformance_{option.dest}", metavar=option.metavar,
                help=f"{option.help} [env: {envs}]",
            )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*ids): the CONTRACT.md rule(s) a conformance test checks")


def _rule_ids(item: pytest.Item) -> tuple[str, ...]:
    return tuple(rule_id for mark in item.iter_markers(MARKER) for rule_id in mark.args)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for rule_id in _rule_ids(item):
            if rule_id not in requirements.BY_ID:
                raise pytest.UsageError(f"{item.nodeid}: unknown requirement ID {rule_id!r}")
            item.user_properties.append(("requirement", rule_id))
            item.user_properties.append(("level", requirements.BY_ID[rule_id].level.value))


def pytest_collection_finish(session: pytest.Session) -> None:
    if not any(_rule_ids(item) for item in session.items):
        return
    config = session.config
    values = {o.dest: config.getoption(f"conformance_{o.dest}") for o in cfg.OPTIONS}
    stub_holder: list[Any] = []

    def stub_values(fault: str | None) -> dict[str, Any]:
        from conformance.target import start_stub

        try:
            stub, seed = start_stub(fault)
        except ValueError as error:
            raise cfg.ConfigError(f"{cfg.describe('stub_fault')}: {error}") from None
        stub_holder.append(stub)
        return seed

    try:
        settings = cfg.load(values, strict=bool(config.getoption("strict", False)), stub_values=stub_values)
    except cfg.ConfigError as error:
        pytest.exit(f"conformance: {error}", returncode=int(ExitCode.USAGE))
    if settings.seed is None:
        seed = 0 if os.environ.get("CI") else random.randrange(2**32)
        settings = _replace(settings, seed=seed)
    config.stash[_STATE] = _prepare_reports(RunState(settings, stub_holder[0] if stub_holder else None))
    _install_sigterm()
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"conformance target: {settings.target_label}")
        reporter.write_line(
            f"conformance profile: {settings.profile}{'' if settings.examples is None else f' ({settings.examples} examples)'}"
            f"; seed: {settings.seed} (re-run with --seed {settings.seed}); strict: {settings.strict}"
        )


def _replace(settings: cfg.Settings, **changes: Any) -> cfg.Settings:
    import dataclasses

    return dataclasses.replace(settings, **changes)


def _install_sigterm() -> None:
    """SIGTERM ends the run as Ctrl-C does, so the collection is restored either way; a second
    signal is ignored until it is (see ``conformance.safety``)."""
    from conformance.safety import end_run_on_signals

    end_run_on_signals()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = state(item.config)
    rule_ids = _rule_ids(item)
    if run is None or not rule_ids:
        return report
    from conformance.verdict import judge

    error = call.excinfo.value if call.excinfo is not None else None
    skip_reason = str(report.longrepr[2]) if report.skipped and isinstance(report.longrepr, tuple) else ""
    judgement = judge(report.when, report.outcome, error, rule_ids, strict=run.settings.strict, skip_reason=skip_reason)
    if judgement is None:
        return report
    outcome, failed_rule, message = judgement.outcome, judgement.failed_rule, judgement.message
    if judgement.display is not None:
        report.longrepr = judgement.display
    if error is not None and _out_of_time(error):
        _stop_for_time(item.session, run)
    if outcome is Outcome.WARNING and report.when == "call":
        report.outcome = "passed"
        report.longrepr = None
        report.sections.append(("conformance warning", message))
    # JUnit reads the properties of the teardown report, which copies the item's.
    item.user_properties.append(("outcome", outcome.value))
    if message and outcome is not Outcome.PASS:
        item.user_properties.append(("message", message))
    run.results.append(TestResult(item.nodeid, rule_ids, outcome, message, failed_rule, duration=report.duration))
    _annotate(run, item, call, report)
    return report


def _out_of_time(error: BaseException) -> bool:
    from conformance.client import OutOfTime

    return isinstance(error, OutOfTime)


def _stop_for_time(session: pytest.Session, run: RunState) -> None:
    run.out_of_time = True
    session.shouldstop = f"conformance: --max-time {run.settings.max_time:g} s exceeded; the rest of the run is not judged"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """Past ``--max-time`` no further test starts; the session teardown still restores the collection."""
    result = yield
    run = state(item.config)
    if run is not None and run.deadline is not None and time.monotonic() > run.deadline and nextitem is not None:
        _stop_for_time(item.session, run)
    return result


def _not_run(session: pytest.Session, run: RunState) -> None:
    """Every test the time bound left out is an *error* (not judged), so its rules are not reported as skipped."""
    ran = {result.nodeid for result in run.results}
    for item in session.items:
        rule_ids = _rule_ids(item)
        if rule_ids and item.nodeid not in ran:
            message = f"not run: --max-time {run.settings.max_time:g} s exceeded"
            run.results.append(TestResult(item.nodeid, rule_ids, Outcome.ERROR, message))


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears the session down (and so restores) on a stop
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = state(session.config)
    if run is None:
        return
    if run.stub is not None:
        run.stub.close()
    if run.out_of_time:
        _not_run(session, run)
        session.exitstatus = int(ExitCode.NOT_JUDGED if run.restore_failed else _worst(run.results))
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED and run.restore_failed:
        session.exitstatus = int(ExitCode.NOT_JUDGED)
        return
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR) or (exitstatus >= 3 and not run.results):
        return
    code = ExitCode.NOT_JUDGED if run.restore_failed else _worst(run.results)
    session.exitstatus = int(code)


def _worst(results: list[TestResult]) -> ExitCode:
    from conformance.results import exit_code

    return exit_code(results)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = state(config)
    if run is None:
        return
    from conformance.results import by_rule

    rules = by_rule(run.results)
    counts = {o: sum(1 for r in rules if r.outcome is o) for o in Outcome}
    terminalreporter.section("conformance")
    for rule in sorted(rules, key=lambda r: -r.outcome.rank):
        if rule.outcome in (Outcome.FAIL, Outcome.WARNING, Outcome.ERROR, Outcome.SKIP):
            problem = rule.first_problem
            why = problem.message if problem else next((t.message for t in rule.tests if t.message), "no test ran")
            first = why.strip().splitlines()[0] if why.strip() else ""
            terminalreporter.write_line(
                f"{rule.outcome.value.upper():8} {rule.requirement.id:8} {rule.requirement.level.value:6} {first[:150]}"
            )
    if run.out_of_time:
        not_run = sum(1 for t in run.results if t.message.startswith("not run: --max-time"))
        terminalreporter.write_line(
            f"NOT JUDGED: --max-time {run.settings.max_time:g} s exceeded; {not_run} tests not run", red=True, bold=True
        )
    if run.rate_limited:
        terminalreporter.write_line(f"rate limited: {run.rate_limited} answers HTTP 429 waited out and retried (not judged)")
    from conformance.safety import IGNORED

    for line in IGNORED:
        terminalreporter.write_line(line, yellow=True)
    if run.restore_message:
        terminalreporter.write_line(run.restore_message, red=run.restore_failed, bold=run.restore_failed)
    _summarize_reports(terminalreporter, run)
    if run.target is not None:  # read by scripts/benchmark.py
        terminalreporter.write_line(f"requests: {run.target.client.recorder.total} sent to the target")
    summary = ", ".join(f"{counts[o]} {o.value}" for o in Outcome)
    terminalreporter.write_line(f"rules: {summary} (of {len(rules)}); target: {run.settings.target_label}")


# ---- reports, baseline and freedoms (conformance.report reads what is collected here) --------------


def _prepare_reports(run: RunState) -> RunState:
    """Read ``--baseline`` and create ``--report-dir`` before any request; either failing is a usage error."""
    if run.settings.baseline is not None:
        from conformance import baseline

        try:
            run.baseline = baseline.load(run.settings.baseline)
        except baseline.BaselineError as error:
            _usage_error(run, str(error))
    try:
        run.settings.report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _usage_error(run, f"{cfg.describe('report_dir')}: cannot create {run.settings.report_dir}: {error.strerror}")
    return run


def _usage_error(run: RunState, message: str) -> None:
    if run.stub is not None:
        run.stub.close()
    pytest.exit(f"conformance: {message}", returncode=int(ExitCode.USAGE))


def _annotate(run: RunState, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Complete the result just recorded: its evidence, its message redacted, a baseline's acceptance."""
    from conformance.checks import Violation
    from conformance.redaction import Redactor
    from conformance.verdict import find

    result = run.results[-1]
    taken = run.target.client.recorder.take() if run.target is not None and report.when == "call" else []
    found = find(call.excinfo.value if call.excinfo is not None else None)
    exchanges = list(found.exchanges) if isinstance(found, Violation) else []
    if not exchanges and result.outcome in (Outcome.FAIL, Outcome.WARNING, Outcome.ERROR):
        exchanges = taken[-1:]
    # the client's redactor also knows the keys the tests derived from the real one
    redactor = run.target.client.redactor if run.target is not None else Redactor(run.settings.secrets())
    result.evidence = tuple(Evidence(redactor.text(e.curl()), redactor.text(e.describe())) for e in exchanges[-3:])
    result.message = redactor.text(result.message)
    item.user_properties[:] = [(name, redactor.text(str(value))) for name, value in item.user_properties]
    reason = run.baseline.reason(result.failed_rule) if run.baseline is not None and result.failed_rule else None
    if result.outcome is Outcome.FAIL and reason is not None:
        # An accepted violation is an expected failure: pytest (and JUnit) show it as xfail.
        report.outcome = "skipped"
        report.wasxfail = f"accepted (baseline): {result.failed_rule}: {reason}"
        item.user_properties.append(("baseline", f"accepted: {reason}"))


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Remember why the run stopped early (Ctrl-C, SIGTERM, ``pytest.exit``), for the report."""
    global _STOPPED
    _STOPPED = str(getattr(excinfo.value, "msg", "") or excinfo.value or type(excinfo.value).__name__)


_STOPPED = ""


@pytest.hookimpl(wrapper=True, specname="pytest_sessionfinish")
def pytest_sessionfinish_reports(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    """After the exit status is decided: apply the baseline, then write the reports, whatever happened."""
    try:
        yield
    finally:
        run = state(session.config)
        if run is not None:
            _apply_baseline(session, run)
            _write(session, run)


def _apply_baseline(session: pytest.Session, run: RunState) -> None:
    if run.baseline is None or run.restore_failed or session.exitstatus != ExitCode.VIOLATED:
        return
    from conformance.results import exit_code

    session.exitstatus = int(exit_code(run.results, run.baseline.rules))


def _write(session: pytest.Session, run: RunState) -> None:
    if session.config.option.collectonly:
        return  # nothing was judged: keep the last real report
    from conformance import report

    notes = [run.restore_message]
    if _STOPPED and session.exitstatus != ExitCode.OK:
        notes.insert(0, f"stopped: {_STOPPED}")
    facts = report.RunFacts(
        settings=run.settings,
        tests=run.results,
        exit_status=int(session.exitstatus),
        started=run.started,
        finished=datetime.now(UTC),
        freedoms=run.freedoms,
        baseline=run.baseline,
        notes=notes,
    )
    try:
        run.report_paths = [str(path) for path in report.write(report.build(facts), run.settings.report_dir)]
    except OSError as error:
        run.stop_reason = f"conformance: cannot write the reports to {run.settings.report_dir}: {error}"
        session.exitstatus = int(ExitCode.NOT_JUDGED)


def _summarize_reports(terminalreporter: Any, run: RunState) -> None:
    if run.baseline is not None:
        from conformance.results import by_rule

        for rule_id, status in run.baseline.statuses(by_rule(run.results)).items():
            if status == "accepted":
                terminalreporter.write_line(f"ACCEPTED {rule_id:8} (baseline) {run.baseline.reason(rule_id)}")
            elif status == "removable":
                terminalreporter.write_line(
                    f"baseline entry {rule_id} can be removed: the rule passes now ({run.baseline.path})", yellow=True
                )
    if run.stop_reason:
        terminalreporter.write_line(run.stop_reason, red=True, bold=True)
    if run.report_paths:
        terminalreporter.write_line(f"reports: {', '.join(run.report_paths)}")


def observe_freedom(config: pytest.Config, freedom_id: str, side: str, note: str = "", nodeid: str = "") -> None:
    """Record which side of a freedom (F1-F14 of CONTRACT.md) the target took: ``"either"`` or ``"or"``.

    The report lists, for every freedom, the side seen ("not observed" when no test recorded one,
    "both" when tests saw both). Raises ``ValueError`` for an unknown freedom or side.
    """
    if freedom_id not in requirements.FREEDOMS_BY_ID:
        raise ValueError(f"unknown freedom {freedom_id!r}; known: {', '.join(requirements.FREEDOMS_BY_ID)}")
    if side not in ("either", "or"):
        raise ValueError(f"side must be 'either' or 'or' (the columns of CONTRACT.md), got {side!r}")
    run = state(config)
    if run is not None:
        run.freedoms.append(FreedomObservation(freedom_id, side, note, nodeid))


@pytest.fixture(name="observe_freedom")
def _observe_freedom_fixture(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``observe_freedom("F2", "either", "unknown field ignored: 200")`` records the side this test saw."""

    def observe(freedom_id: str, side: str, note: str = "") -> None:
        observe_freedom(request.config, freedom_id, side, note, request.node.nodeid)

    return observe
