"""Fixtures of the conformance tests: the target, its client, and the optional tenant values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance import plugin
from conformance.client import Client
from conformance.config import ConfigError, ForeignTenant, Settings
from conformance.target import NotJudged, RestoreFailed, Target


def _run(request: pytest.FixtureRequest) -> plugin.RunState:
    run = plugin.state(request.config)
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
    run.target = target
    ready = False
    try:
        try:
            target.preflight()
        except NotJudged as error:
            pytest.exit(f"conformance: {error}", returncode=3)
        except ConfigError as error:
            pytest.exit(f"conformance: {error}", returncode=4)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                for note in target.notes:
                    reporter.write_line(f"conformance: {note}")
        ready = True
        yield target
    finally:
        try:
            run.restore_message = target.restore()
        except RestoreFailed as error:
            run.restore_failed = True
            run.restore_message = str(error)
            if ready:  # else the preflight's own exit (its message names the failed restore) goes on
                raise
        finally:
            client.close()


@pytest.fixture
def api(target: Target) -> Client:
    """The client of the run; every test that may change the collection uses it."""
    return target.client


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


@pytest.fixture
def missing_id() -> str:
    """A well-formed collection id that no server has: a fresh random one every test."""
    import secrets

    return "mcoll_" + secrets.token_hex(12)


@pytest.fixture
def baseline(api: Client) -> dict[str, object]:
    """Give every field of the collection a known, non-null value first; returns the state read back."""
    from conformance.suite.support import reset

    return reset(api, "SEM-1")
