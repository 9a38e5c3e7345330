"""Nothing is written outside ``--report-dir``: not in the working directory (hypothesis' ``.hypothesis/``
included), not in the temporary directory, not in the home directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import clean_environ


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "pytest-xdist"])
def test_a_run_in_a_fresh_directory_writes_only_into_the_report_dir(workers: list[str], tmp_path: Path) -> None:
    """pytest-xdist's controller gives each worker a temporary folder of pytest's (``pytest-of-USER``,
    under the temporary directory), and removes that user's older ones at the end: not in a run."""
    work, temp, home, out = (tmp_path / name for name in ("work", "tmp", "home", "out"))
    for directory in (work, temp, home):
        directory.mkdir()
    env = clean_environ({"TMPDIR": str(temp), "HOME": str(home)})
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--report-dir", str(out), "--profile", "quick", "--examples", "2", *workers],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    for directory in (work, temp, home):
        assert list(directory.rglob("*")) == [], f"written outside --report-dir: {sorted(directory.rglob('*'))[:5]}"
    written = {path.relative_to(out).parts[0] for path in out.rglob("*")}
    assert {"junit.xml", "conformance.json", "conformance.md", "conformance.html"} <= written
    # hypothesis did write its caches (the constants of the modules under test): into the report folder
    assert ".hypothesis" in written, written
