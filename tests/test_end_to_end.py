"""The suite as a user runs it: against the in-process stub, a standalone stub, and bad configurations."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .conftest import ROOT, clean_environ, run_suite


def test_suite_passes_against_the_in_process_stub_and_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run = run_suite("--profile", "quick", "--junitxml", str(junit), "--report-dir", str(tmp_path))
    assert run.returncode == 0, run.output
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert cases
    for case in cases:
        props = {p.get("name") for p in case.findall("properties/property")}
        assert {"requirement", "level", "outcome"} <= props, case.get("name")


def test_suite_passes_against_a_standalone_stub(tmp_path: Path) -> None:
    stub = subprocess.Popen(
        [sys.executable, "-m", "conformance", "stub", "--port", "0"],
        cwd=ROOT, env=clean_environ(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert stub.stdout is not None
        exports: dict[str, str] = {}
        while len(exports) < 8:
            line = stub.stdout.readline()
            assert line, "the stub stopped before printing its values"
            match = re.match(r"\s*export (\w+)=(.*)", line)
            if match:
                exports[match.group(1)] = match.group(2)
        run = run_suite("--profile", "quick", "--report-dir", str(tmp_path), env=exports)
        assert run.returncode == 0, run.output
        assert "bundled stub" not in run.output
    finally:
        stub.terminate()
        stub.wait(timeout=10)
        if stub.stdout is not None:
            stub.stdout.close()


def test_missing_value_stops_before_any_request_with_one_line(tmp_path: Path) -> None:
    run = run_suite("--base-url", "http://127.0.0.1:9", "--api-key", "k", "--org-id", "org_1", "--report-dir", str(tmp_path))
    assert run.returncode == 4, run.output
    assert "missing --collection-id (CONFORMANCE_COLLECTION_ID)" in run.output


def test_unreachable_target_is_not_judged_and_names_the_url(tmp_path: Path) -> None:
    run = run_suite(
        "--base-url", "http://127.0.0.1:9", "--api-key", "secret-key-123", "--org-id", "org_1",
        "--collection-id", "mcoll_1", "--report-dir", str(tmp_path), timeout=60,
    )  # fmt: skip
    assert run.returncode == 3, run.output
    assert "http://127.0.0.1:9" in run.output
    assert "secret-key-123" not in run.output
