"""One verdict, end to end: every rule judged on its own evidence, the rule that was broken named,
and the same FAIL in the exit status, the terminal, JUnit and the three reports, whatever else happened.

Each test runs the suite in a subprocess, as a user does, against a fault of the catalogue or a small
target served on loopback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.stub.faults import FAULTS

from .conftest import ROOT, clean_environ, run_suite
from .report_targets import CANARY, AnyKeyAccepted, served


def _report(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "conformance.json").read_text(encoding="utf-8"))
    return document


def _statuses(directory: Path) -> dict[str, str]:
    return {r["id"]: r["status"] for r in _report(directory)["rules"]}


#: Faults that break the envelope (RESP-2) and another rule whose checks sit behind an envelope check.
ENVELOPE_FAULTS = sorted(name for name, cls in FAULTS.items() if "RESP-2" in cls.breaks and set(cls.breaks) - {"RESP-2"})


def test_there_are_faults_behind_an_envelope() -> None:
    assert "fastapi-422-detail" in ENVELOPE_FAULTS
    assert len(ENVELOPE_FAULTS) >= 3, ENVELOPE_FAULTS


@pytest.mark.parametrize("name", ENVELOPE_FAULTS)
def test_a_baseline_accepting_the_envelope_does_not_hide_the_rules_behind_it(name: str, tmp_path: Path) -> None:
    """With RESP-2 accepted, each other rule the fault breaks still fails the run, on its own checks."""
    others = sorted(set(FAULTS[name].breaks) - {"RESP-2"})
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("- rule: RESP-2\n  reason: the framework's error bodies, accepted for now\n", encoding="utf-8")
    run = run_suite(
        "--stub-fault", name, "--baseline", str(baseline), "--profile", "quick", "--seed", "0", "-q",
        "--report-dir", str(tmp_path / "out"), "-p", "tests.mutation_plugin", "--mutation-rules", ",".join(others),
    )  # fmt: skip
    assert run.returncode == 1, run.output
    statuses = _statuses(tmp_path / "out")
    assert any(statuses[rule] == "fail" for rule in others), {r: statuses[r] for r in [*others, "RESP-2"]}
    assert statuses["RESP-2"] in ("accepted", "pass", "skip", "error"), statuses["RESP-2"]


def test_fastapi_422_detail_with_resp2_accepted_fails_val10(tmp_path: Path) -> None:
    """The issue's own example, as a user would run it: the whole quick suite."""
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("- {rule: RESP-2, reason: framework bodies}\n", encoding="utf-8")
    run = run_suite(
        "--stub-fault", "fastapi-422-detail", "--baseline", str(baseline), "--profile", "quick", "--seed", "0",
        "--report-dir", str(tmp_path), "--junitxml", str(tmp_path / "junit.xml"),
    )  # fmt: skip
    assert run.returncode == 1, run.output
    statuses = _statuses(tmp_path)
    assert statuses["VAL-10"] == "fail"
    assert statuses["RESP-2"] == "accepted"
    assert _report(tmp_path)["verdict"]["status"] == "fail"


def _said_fail_everywhere(run_output: str, directory: Path) -> None:
    assert re.search(r"^FAIL: ", run_output, re.MULTILINE), run_output[-3000:]
    assert _report(directory)["verdict"]["status"] == "fail"
    assert (directory / "conformance.md").read_text(encoding="utf-8").startswith("# Conformance report: FAIL")
    assert '<h1 class="fail" id="verdict">FAIL: ' in (directory / "conformance.html").read_text(encoding="utf-8")
    assert ET.parse(directory / "junit.xml").getroot().find(".//failure") is not None


def test_a_violation_is_a_fail_everywhere_even_when_the_restore_fails(tmp_path: Path) -> None:
    """An applied id re-keys the collection: SEM-5 fails, the later tests cannot judge (not blamed),
    the restore cannot put it back: exit 1, FAIL in every output, and the restore failure loud in each."""
    run = run_suite(
        "--stub-fault", "id-rekeyed", "--profile", "quick", "--seed", "0",
        "--report-dir", str(tmp_path), "--junitxml", str(tmp_path / "junit.xml"),
    )  # fmt: skip
    assert run.returncode == 1, run.output[-3000:]
    _said_fail_everywhere(run.output, tmp_path)
    statuses = _statuses(tmp_path)
    assert [rule for rule, status in statuses.items() if status == "fail"] == ["SEM-5"]
    assert "RESTORE FAILED" in run.output
    assert _report(tmp_path)["verdict"]["notes"][0].startswith("RESTORE FAILED")
    for name in ("conformance.md", "conformance.html"):
        assert "RESTORE FAILED" in (tmp_path / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize(
    ("fault", "broken", "not_blamed"),
    [
        ("id-applied", "SEM-5", {"RESP-1"}),  # later answers show the applied id: a consequence
        ("response-not-stored", "SEM-6", {"SEM-5", "SEM-3", "SEM-1"}),  # the 200 said it, a read does not
        ("patch-as-put", "SEM-1", {"SEM-3", "SEM-6"}),
    ],
)
def test_the_rule_broken_is_named_not_its_consequences(fault: str, broken: str, not_blamed: set[str], tmp_path: Path) -> None:
    run = run_suite("--stub-fault", fault, "--profile", "quick", "--seed", "0", "-q", "--report-dir", str(tmp_path))
    assert run.returncode == 1, run.output[-3000:]
    statuses = _statuses(tmp_path)
    assert statuses[broken] == "fail"
    assert not {rule for rule in not_blamed if statuses[rule] == "fail"}, {rule: statuses[rule] for rule in not_blamed}


def test_a_200_to_a_wrong_key_is_auth2s_and_its_reproduction_says_which_key(tmp_path: Path) -> None:
    with served(AnyKeyAccepted()) as target:
        run = run_suite(*target, "-k", "test_auth", "--profile", "quick", "--seed", "0", "--report-dir", str(tmp_path))
    assert run.returncode == 1, run.output[-3000:]
    statuses = _statuses(tmp_path)
    assert statuses["AUTH-2"] == "fail"
    assert statuses["AUTH-6"] != "fail", "a request that was not rejected is not AUTH-6's to judge"
    assert CANARY not in run.output
    assert "# *** is the configured key (CONFORMANCE_API_KEY), case-swapped" in run.output
    assert "'X-API-Key: sk_conformance_unknown_0000000000000000'" in run.output, "a made-up key is shown as it is"


def _export_lines(process: subprocess.Popen[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    assert process.stdout is not None
    while "CONFORMANCE_FOREIGN_API_KEY" not in found:
        line = process.stdout.readline()
        assert line, "the stub ended before printing its settings"
        match = re.match(r"\s*export (CONFORMANCE_\w+)=(.*)", line)
        if match:
            found[match[1]] = match[2]
    return found


def test_a_target_that_stops_mid_run_ends_it_within_seconds_not_judged(tmp_path: Path) -> None:
    """The target is killed 3 s into the run: the run ends within 15 s, exit 3 with one line naming the
    URL and when it stopped answering, and no test that could not reach it is a JUnit <failure>. The
    stub answers after 20 ms, as a remote server does, so that the run lasts well past 3 s however
    fast the machine (on loopback a quick run may be over by then)."""
    stub = subprocess.Popen(
        [sys.executable, "-m", "conformance", "stub", "--port", "0", "--latency-ms", "20"],
        cwd=ROOT, env=clean_environ(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        env = clean_environ(_export_lines(stub))
        suite = subprocess.Popen(
            [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "--profile", "quick", "--seed", "0",
             "--report-dir", str(tmp_path), "--junitxml", str(tmp_path / "junit.xml")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert suite.stdout is not None
        for line in suite.stdout:  # the run has started once the first test reports
            if (line.startswith(("conformance/", ".", "F", "E")) and "%]" in line) or line.strip().startswith("."):
                break
        time.sleep(3)
        stub.kill()
        stopped = time.monotonic()
        rest, _ = suite.communicate(timeout=120)
        seconds = time.monotonic() - stopped
    finally:
        stub.kill()
        stub.communicate()
    assert seconds < 15, f"the run went on for {seconds:.1f} s after the target stopped"
    assert suite.returncode == 3, rest[-3000:]
    assert re.search(rf"the target {re.escape(env['CONFORMANCE_BASE_URL'])} stopped answering at \d\d:\d\d:\d\d", rest), rest[
        -3000:
    ]
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.find(".//failure") is None, "a test that could not reach the target is not a failure"
    assert junit.find(".//error") is not None or junit.find(".//skipped") is not None
    assert _report(tmp_path)["verdict"]["status"] == "not judged"


def test_a_key_in_a_reproduction_is_masked_and_named() -> None:
    from conformance.client import curl

    line = curl("PATCH", "http://t/x", [("X-API-Key", "***")], b"{}", "the foreign tenant's key (CONFORMANCE_FOREIGN_API_KEY)")
    assert line.endswith("# *** is the foreign tenant's key (CONFORMANCE_FOREIGN_API_KEY)")
    assert os.environ.get("CONFORMANCE_API_KEY") is None
