"""Shared helpers of the project's own tests: a clean environment and the suite run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import PLUGINS_OFF
from conformance.stub.app import Seed

ROOT = Path(__file__).resolve().parent.parent


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment without any CONFORMANCE_*/FREDDY_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "FREDDY_", "PYTEST_ADDOPTS"))}
    env.update(extra or {})
    return env


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("CONFORMANCE_", "FREDDY_")):
            monkeypatch.delenv(name)


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_suite(*args: str, env: Mapping[str, str] | None = None, timeout: float = 300, cwd: Path = ROOT) -> SuiteRun:
    """``python -m pytest conformance ARGS`` in a subprocess with a clean environment."""
    completed = subprocess.run(
        # as `conformance run` starts it: no assertion rewriting, no schemathesis pytest plugin (faster start-up)
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", *PLUGINS_OFF, *args],
        cwd=cwd,
        env=clean_environ(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return SuiteRun(completed.returncode, completed.stdout, completed.stderr)


def target_options(seed: Seed, *, foreign: bool = True) -> list[str]:
    """The suite's command-line options that point at a stub seeded with ``seed`` (its tracks, and its
    foreign tenant unless ``foreign`` is false)."""
    args = [
        "--base-url",
        seed.base_url,
        "--api-key",
        seed.api_key,
        "--org-id",
        seed.org_id,
        "--collection-id",
        seed.collection_id,
    ]
    if foreign:
        args += ["--foreign-org-id", seed.foreign_org_id, "--foreign-collection-id", seed.foreign_collection_id]
        args += ["--foreign-api-key", seed.foreign_api_key]
    return args + [option for track in seed.track_ids for option in ("--track-id", track)]


class Marked:
    """A collected test as the plugin's mark readers see it (``conformance.distributed.group_of``):
    its name and marks."""

    def __init__(self, name: str, *marks: pytest.MarkDecorator) -> None:
        self.name = name
        self.marks = [mark.mark for mark in marks]

    def get_closest_marker(self, name: str) -> Any:
        return next((mark for mark in self.marks if mark.name == name), None)

    def iter_markers(self, name: str) -> list[Any]:
        return [mark for mark in self.marks if mark.name == name]
