"""The pytest plugin (entry point ``pytest11``): options, the ``requirement`` marker, fixtures, and
the facts of each test, handed to the run (``conformance.run``). It decides nothing itself: the gate
does (``conformance.gate``), and the exit status, terminal summary, JUnit and reports render that.

It stays inert unless the collected tests carry ``@pytest.mark.requirement``: a project that merely
has the package installed sees only its options.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import config as cfg
from conformance import requirements
from conformance.results import FreedomObservation, Planned

if TYPE_CHECKING:  # imported lazily: a project that merely has the package installed pays nothing
    from conformance.profiles import Part
    from conformance.run import Run, TestRecord

MARKER = "requirement"
_TEST: pytest.StashKey[TestRecord] = pytest.StashKey()
#: The run of a session (``conformance.session`` puts it there).
RUN: pytest.StashKey[Run] = pytest.StashKey()


def run_of(config: pytest.Config) -> Run | None:
    """The run, or ``None`` when no conformance test was collected."""
    return config.stash.get(RUN, None)


def option_values(config: pytest.Config) -> dict[str, Any]:
    """The conformance options as given on the command line (``None`` where the environment decides)."""
    values = {o.dest: config.getoption(o.dest if o.pytest_native else f"conformance_{o.dest}", None) for o in cfg.OPTIONS}
    values.update({o.dest: values[o.dest] or None for o in cfg.OPTIONS if o.is_flag})  # unset: the environment decides
    return values


def parts(config: pytest.Config, weight: float) -> list[Part]:
    """The parts a long property test of this ``weight`` is split into (``conformance.profiles.parts``),
    by the run's profile and ``--examples``; whole when they cannot be read (the run then says why)."""
    from conformance import profiles

    try:
        profile, given = cfg.effort(option_values(config))
    except cfg.ConfigError:
        return [profiles.Part()]
    return profiles.parts(profile, given, weight)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance of PATCH /v1/music/{organization_id}/collections/{collection_id}")
    for option in cfg.OPTIONS:
        if option.pytest_native:  # --strict is pytest's own
            continue
        help_text = f"{option.help} [env: {' or '.join(option.env)}{'=1' if option.is_flag else ''}]"
        action = "append" if option.repeatable else "store_true" if option.is_flag else "store"
        default: list[str] | None = [] if option.repeatable else None  # None: fall back to the environment
        kwargs: dict[str, Any] = {} if option.is_flag else {"metavar": option.metavar}
        group.addoption(option.flag, action=action, default=default, dest=f"conformance_{option.dest}", help=help_text, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*ids): the CONTRACT.md rule(s) a conformance test checks")
    config.addinivalue_line(
        "markers", "long(n): a conformance test of about n requests one after another; pytest-xdist starts it first"
    )
    config.addinivalue_line(
        "markers", "probe(factory, kind='rejection'): the requests a conformance test judges, sent in a batch"
    )
    config.addinivalue_line("markers", "draws(kind): the schemathesis cases a conformance test sends (conformance.drawn)")
    if _targets_suite(config):  # signals are handled from the start: they may land during the imports
        from conformance.safety import PROCESS

        PROCESS.install()
        from conformance import distributed, garbage

        garbage.freeze()  # the imports, kept to the end of the run
        distributed.group_batches(config)


def _targets_suite(config: pytest.Config) -> bool:
    """Whether this pytest run is a conformance run (``pytest conformance``, ``--pyargs conformance``)."""
    package = Path(__file__).resolve().parent
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if arg.split("::", 1)[0] in ("conformance", "conformance.suite") or package in (path.resolve(), *path.resolve().parents):
            return True
    return False


def _nodeid(item: pytest.Item) -> str:
    """The test's id as the run reports it: without the group pytest-xdist may append (``@conformance-batch``)."""
    head, at, group = item.nodeid.rpartition("@")
    return head if at and group.startswith("conformance-") and "]" not in group else item.nodeid


def rule_ids(item: pytest.Item) -> tuple[str, ...]:
    """The rules a test names (``@pytest.mark.requirement``)."""
    return tuple(rule_id for mark in item.iter_markers(MARKER) for rule_id in mark.args)


def drawn_kinds(*items: pytest.Item) -> list[str]:
    """The kinds of schemathesis cases the tests send (``@pytest.mark.draws``), in their order."""
    return [str(mark.args[0]) for item in items for mark in item.iter_markers("draws")]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    suite = _targets_suite(config)  # pytest-xdist groups only in a conformance run: another project's marks are its own
    if suite:
        from conformance.distributed import group_of
    for item in items:
        for rule_id in rule_ids(item):
            if rule_id not in requirements.BY_ID:
                raise pytest.UsageError(f"{item.nodeid}: unknown requirement ID {rule_id!r}")
        group = group_of(item) if suite else None  # see conformance.distributed
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_finish(session: pytest.Session) -> None:
    planned = [Planned(_nodeid(item), rule_ids(item)) for item in session.items if rule_ids(item)]
    if planned and run_of(session.config) is None:
        from conformance.session import start

        run = start(session.config, planned)
        kinds = drawn_kinds(*session.items)
        workers_share_cores = hasattr(session.config, "workerinput")  # with three more workers, on the same cores: no gain
        if kinds and not workers_share_cores and not session.config.option.collectonly:
            from conformance import drawn

            drawn.draw_ahead(run.settings, kinds)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, on the controller, before a worker starts: tell it the tests of a batch share a worker."""
    if _targets_suite(node.config):
        from conformance import distributed

        distributed.tell_worker(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist, on the controller: the run's ``loadgroup`` scheduling, with long tests alone."""
    if _targets_suite(config) and config.getvalue("dist") == "loadgroup":
        from conformance import distributed

        return distributed.make_scheduler(config, log)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session) -> Generator[None, None, None]:
    """A pytest-xdist controller collects nothing: its run only gathers what the workers find.

    It starts once pytest-xdist has started the workers, which then boot (about 0.6 s of CPU each)
    while it reads its options and imports what it needs: no test runs before this returns (the
    controller hands tests out only afterwards). Should it refuse the options, it stops the workers,
    which have sent nothing yet (pytest skips the session's finish, where pytest-xdist would)."""
    yield
    from conformance import distributed

    if distributed.is_controller(session.config) and _targets_suite(session.config):
        from conformance.session import start_controller

        try:
            start_controller(session.config)
        except BaseException:
            distributed.stop_workers(session.config)
            raise


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    run = run_of(item.config)
    if run is not None and rule_ids(item):
        from conformance.session import begin_test

        item.stash[_TEST] = begin_test(run, _nodeid(item), rule_ids(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Soft violations (``conformance.evidence``) fail the test once it has made all its checks."""
    yield
    if _TEST in item.stash:
        item.stash[_TEST].ledger.flush()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run, record = run_of(item.config), item.stash.get(_TEST, None)
    if run is not None and record is not None:
        from conformance.session import end_phase

        end_phase(run, record, report, call.excinfo.value if call.excinfo is not None else None)
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    if getattr(report, "conformance_kind", None) == "error" and report.when == "call":
        return "error", "E", "ERROR"
    return None


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    """After pytest's own (which tears the session down, so the collection is restored, and writes
    its JUnit file): decide, write every report and the JUnit file from the verdict, set the exit status."""
    try:
        yield
    finally:
        ahead = sys.modules.get("conformance.ahead")  # only a run that drew ahead imported it
        if ahead is not None:
            ahead.stop()  # should a test have stopped the run before taking every kind
        run = run_of(session.config)
        if run is not None and not hasattr(session.config, "workerinput"):  # a pytest-xdist worker's controller decides
            from conformance.session import finish

            finish(run, session)


def observe_freedom(config: pytest.Config, freedom_id: str, side: str, note: str = "", nodeid: str = "") -> None:
    """Record which side of a freedom (F1-F18 of CONTRACT.md) the target took: ``"either"`` or ``"or"``.

    The report lists, for every freedom, the side seen. Raises ``ValueError`` for an unknown freedom or side.
    """
    requirements.check_freedom(freedom_id, side)
    run = run_of(config)
    if run is not None:
        run.freedoms.append(FreedomObservation(freedom_id, side, note, nodeid))


@pytest.fixture(name="observe_freedom")
def _observe_freedom_fixture(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``observe_freedom("F2", "either", "unknown field ignored: 200")`` records the side this test saw."""

    def observe(freedom_id: str, side: str, note: str = "") -> None:
        record = request.node.stash.get(_TEST, None)
        if record is None:
            observe_freedom(request.config, freedom_id, side, note, _nodeid(request.node))
        else:
            requirements.check_freedom(freedom_id, side)
            record.freedoms.append(FreedomObservation(freedom_id, side, note, _nodeid(request.node)))

    return observe
