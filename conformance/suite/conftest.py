"""Fixtures of the conformance tests: the target, its client, and the optional tenant values."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from conformance import plugin
from conformance.batch import LANE, REJECTION, Answer, Batcher, Probe
from conformance.client import Client
from conformance.config import ConfigError, ForeignTenant, Settings
from conformance.distributed import is_worker
from conformance.gate import Restore, Stop
from conformance.run import Run
from conformance.target import NotJudged, RestoreFailed, Target


def _run(request: pytest.FixtureRequest) -> Run:
    run = plugin.run_of(request.config)
    if run is None:  # pragma: no cover - the plugin activates whenever these tests are collected
        raise RuntimeError("the conformance plugin is not active")
    return run


@pytest.fixture(scope="session")
def settings(request: pytest.FixtureRequest) -> Settings:
    return _run(request).settings


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Target]:
    """Read the collection before the first change; put it back at the end, whatever happened."""
    run = _run(request)
    client = Client(settings)
    target = Target(settings, client)
    if not is_worker(request.config):
        from conformance.warmup import meanwhile

        target.meanwhile = meanwhile(settings)  # what the first property test would do, while the watch waits
    else:  # the whole warm-up in four workers at once, on shared cores: no gain (measured); only what the first test draws
        from conformance.warmup import drawing

        first = getattr(request, "_pyfuncitem", None)  # the test whose setup asked for the target
        target.meanwhile = drawing(settings, [] if first is None else plugin.drawn_kinds(first))
    run.target = target
    try:
        try:
            target.preflight()
        except NotJudged as error:  # unreachable, another run at work, a journal to settle: exit 3
            run.halt(Stop.UNJUDGEABLE, str(error))
            pytest.exit(f"conformance: {error}", returncode=3)
        except ConfigError as error:  # a configured track the target refuses: exit 4
            run.halt(Stop.USAGE, str(error))
            pytest.exit(f"conformance: {error}", returncode=4)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                for note in target.notes:
                    reporter.write_line(f"conformance: {note}")
        run.notes.extend(target.notes)
        from conformance.safety import PROCESS

        PROCESS.abortable = lambda: target.journal is not None  # a second signal may end the restore: the journal is safe
        yield target
    finally:
        client.fail_fast, client.corrupted = False, ""  # the restore tries whatever state the run left
        try:
            message = target.restore()
            if message:
                run.restore = Restore("unchanged" if "unchanged" in message else "verified", message)
        except RestoreFailed as error:  # the verdict says so, loudly: not this test's failure
            run.restore = Restore("failed", str(error))
        except Exception as error:  # a bug of the restore must not hide that the collection may be changed
            run.restore = Restore("failed", f"RESTORE FAILED: {type(error).__name__}: {error}; {target.originals()}")
        finally:
            client.close()


@pytest.fixture
def api(target: Target) -> Client:
    """The client of the run; every test that may change the collection uses it."""
    return target.client


@pytest.fixture(scope="session")
def batcher(request: pytest.FixtureRequest, target: Target, settings: Settings) -> Batcher:
    """Sends the requests of the tests marked ``@pytest.mark.probe`` together (``conformance.batch``)."""
    from conformance.suite.support import known_or_reset, put_back, read_state

    client, run = target.client, _run(request)
    return Batcher(
        client,
        lambda: read_state(client, settings.foreign),
        lambda before, now: put_back(client, settings.foreign, before, now),
        prepare=lambda: known_or_reset(client, "VAL-12"),  # every field a value, so that a null applied shows
        side_by_side=lambda: run.kept("SEM-8"),
    )


@pytest.fixture
def answer(request: pytest.FixtureRequest, batcher: Batcher, settings: Settings) -> Answer:
    """The answers to this test's ``@pytest.mark.probe`` requests. The first test that asks sends the
    requests of every test still to run, together; each test then judges its own answers."""
    node = request.node
    if node.nodeid not in batcher.answers:
        pending = request.session.items[request.session.items.index(node) :] if node in request.session.items else [node]
        if is_worker(request.config):  # a pytest-xdist worker runs its own group of a batch only
            group = node.get_closest_marker("xdist_group")
            pending = [i for i in pending if i.get_closest_marker("xdist_group") == group]
        todo, skipped = {}, {}
        for item in pending:
            planned = probes_of(item, settings)
            if isinstance(planned, str):
                skipped[item.nodeid] = planned
            elif planned is not None:
                todo[item.nodeid] = planned
        if node.nodeid in skipped:
            pytest.skip(skipped[node.nodeid])
        kind = todo[node.nodeid][0]  # lanes go when the first lane test asks: SEM-8 may have been judged by then
        batcher.run({nodeid: planned for nodeid, planned in todo.items() if (planned[0] == LANE) == (kind == LANE)})
    found = batcher.answers.pop(node.nodeid, None)
    if found is None:  # pragma: no cover - a test asking for an answer without a probe marker
        raise RuntimeError(f"{node.nodeid} asks for an answer but has no @pytest.mark.probe")
    return found


def probes_of(item: pytest.Item, settings: Settings) -> tuple[str, list[Probe]] | str | None:
    """The kind and probes a test declares with ``@pytest.mark.probe(factory, kind=...)``: the factory
    takes the test's parameters it names (and ``settings``) and returns a probe, a list of probes, or
    a reason to skip the test."""
    mark = item.get_closest_marker("probe")
    if mark is None:
        return None
    factory = mark.args[0]
    callspec = getattr(item, "callspec", None)
    params = dict(callspec.params) if callspec is not None else {}
    wanted = inspect.signature(factory).parameters
    made = factory(**{name: value for name, value in {**params, "settings": settings}.items() if name in wanted})
    if isinstance(made, str):
        return made
    return mark.kwargs.get("kind", REJECTION), [made] if isinstance(made, Probe) else list(made)


@pytest.fixture
def tracks(settings: Settings) -> tuple[str, ...]:
    if not settings.track_ids:
        pytest.skip("needs a track of the organization: set --track-id (CONFORMANCE_TRACK_IDS)")
    return settings.track_ids


@pytest.fixture
def foreign(settings: Settings) -> ForeignTenant:
    if settings.foreign is None:
        pytest.skip(
            "needs a foreign tenant: set --foreign-org-id, --foreign-collection-id and --foreign-api-key "
            "(CONFORMANCE_FOREIGN_ORG_ID, _COLLECTION_ID, _API_KEY)"
        )
    return settings.foreign


def new_missing_id() -> str:
    """A well-formed collection id that no server has: a fresh random one every time."""
    import secrets

    from conformance.fields import COLLECTION_ID_PREFIX

    return COLLECTION_ID_PREFIX + secrets.token_hex(12)


@pytest.fixture
def missing_id() -> str:
    """A well-formed collection id that no server has: a fresh random one every test."""
    return new_missing_id()


@pytest.fixture
def known_state(api: Client) -> dict[str, object]:
    """Every field of the collection holds a known, non-null value (given one first, unless the last read
    already shows such a state and nothing was sent since); returns the four fields."""
    from conformance.suite.support import known_or_reset

    return known_or_reset(api, "SEM-1")
