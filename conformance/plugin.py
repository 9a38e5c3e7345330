"""The pytest plugin (entry point ``pytest11``): options, the ``requirement`` marker, outcomes, exit status.

It stays inert unless the collected tests carry ``@pytest.mark.requirement``: a project that merely
has the package installed sees only its options. Fixtures live in ``conformance/suite/conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
from collections.abc import Generator
from typing import Any

import pytest

from conformance import config as cfg
from conformance import requirements
from conformance.results import ExitCode, Outcome, TestResult

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
    config.stash[_STATE] = RunState(settings, stub_holder[0] if stub_holder else None)
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
    """SIGTERM ends the run as Ctrl-C does, so the collection is restored either way."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    with contextlib.suppress(ValueError):  # not the main thread: leave the handler alone
        signal.signal(signal.SIGTERM, interrupt)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = state(item.config)
    rule_ids = _rule_ids(item)
    if run is None or not rule_ids:
        return report
    outcome = _classify(run, call, report)
    if outcome is None:
        return report
    failed_rule = getattr(call.excinfo.value, "rule_id", None) if call.excinfo else None
    message = str(call.excinfo.value) if call.excinfo and outcome is not Outcome.SKIP else ""
    if outcome is Outcome.SKIP and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
    if outcome is Outcome.WARNING:
        report.outcome = "passed"
        report.longrepr = None
        report.sections.append(("conformance warning", message))
    elif outcome is Outcome.ERROR and call.excinfo is not None:
        report.longrepr = f"[{', '.join(rule_ids)}] not judged: {type(call.excinfo.value).__name__}: {call.excinfo.value}"
    # JUnit reads the properties of the teardown report, which copies the item's.
    item.user_properties.append(("outcome", outcome.value))
    if message and outcome is not Outcome.PASS:
        item.user_properties.append(("message", message))
    run.results.append(TestResult(item.nodeid, rule_ids, outcome, message, failed_rule, duration=report.duration))
    return report


def _classify(run: RunState, call: pytest.CallInfo[None], report: pytest.TestReport) -> Outcome | None:
    """The conformance outcome of one phase's report, or ``None`` when the phase says nothing new."""
    from conformance.checks import Violation

    if report.when == "call":
        if report.passed:
            return Outcome.PASS
        if report.skipped:
            return Outcome.SKIP
        error = call.excinfo.value if call.excinfo else None
        if isinstance(error, Violation):
            should = error.requirement.level is requirements.Level.SHOULD
            return Outcome.WARNING if should and not run.settings.strict else Outcome.FAIL
        return Outcome.ERROR
    if report.skipped and report.when == "setup":
        return Outcome.SKIP
    if report.failed:  # a fixture broke in setup or teardown: nothing judged
        return Outcome.ERROR
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = state(session.config)
    if run is None:
        return
    if run.stub is not None:
        run.stub.close()
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
    if run.restore_message:
        terminalreporter.write_line(run.restore_message, red=run.restore_failed, bold=run.restore_failed)
    summary = ", ".join(f"{counts[o]} {o.value}" for o in Outcome)
    terminalreporter.write_line(f"rules: {summary} (of {len(rules)}); target: {run.settings.target_label}")
