"""The gate end to end: the four files after every run, failures first, --strict, --baseline, interrupts."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance import requirements

from .conftest import ROOT, clean_environ, run_suite
from .report_targets import CANARY, NoCollectionIdIn404, Slow, WrongAuthCode, served

FILES = ("junit.xml", "conformance.json", "conformance.md", "conformance.html")
#: The gate tests judge the auth and ownership rules only: the other sections do not change their verdicts.
AUTH_AND_OWNERSHIP = ("-k", "test_auth or test_ownership")


def _report(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "conformance.json").read_text(encoding="utf-8"))
    return document


def _status(document: dict[str, Any], rule_id: str) -> str:
    return str(next(r["status"] for r in document["rules"] if r["id"] == rule_id))


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_suite(
        "--profile", "quick", "--report-dir", str(tmp_path), "--junitxml", str(tmp_path / "junit.xml"), *args, env=env
    )


def test_a_faulty_target_gets_four_files_its_broken_rules_first_and_exit_1(tmp_path: Path) -> None:
    with served(WrongAuthCode()) as target:
        run = _run(tmp_path, *target)
    assert run.returncode == 1, run.output
    for name in FILES:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert CANARY not in text, f"the API key leaked into {name}"
    assert CANARY not in run.output
    document = _report(tmp_path)
    assert document["verdict"]["status"] == "fail"
    assert document["verdict"]["exit_status"] == 1
    assert "AUTH-1" in document["verdict"]["summary"]
    assert {_status(document, "AUTH-1"), _status(document, "AUTH-2")} == {"fail"}
    assert _status(document, "VAL-1") == "pass"
    auth1 = next(r for r in document["rules"] if r["id"] == "AUTH-1")
    assert "UNAUTHORIZED" in auth1["message"]
    assert auth1["evidence"]
    assert auth1["evidence"][0]["curl"].startswith("curl ")
    assert "UNAUTHORIZED" in auth1["evidence"][0]["response"]
    markdown = (tmp_path / "conformance.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### (\S+) .*$", markdown, flags=re.MULTILINE)
    assert headings[:2] == ["AUTH-1", "AUTH-2"], headings
    assert markdown.index("## Failures") < markdown.index("## Every rule")
    html = (tmp_path / "conformance.html").read_text(encoding="utf-8")
    first_card = re.search(r'<article class="card (\w+)" id="rule-([\w-]+)"', html)
    assert first_card is not None
    assert first_card.groups() == ("fail", "AUTH-1")
    assert html.index('id="rule-AUTH-1"') < html.index('id="rules"')


def test_the_stub_gets_four_files_and_exit_0(tmp_path: Path) -> None:
    run = _run(tmp_path)
    assert run.returncode == 0, run.output
    assert all((tmp_path / name).is_file() for name in FILES)
    document = _report(tmp_path)
    assert document["format"] == "conformance-report/1"
    assert document["verdict"]["status"] == "pass"
    assert document["counts"]["fail"] == 0
    assert document["target"]["stub"] is True
    assert document["run"]["seed"] is not None
    assert len(document["rules"]) == len(requirements.REQUIREMENTS)
    assert "reports: " in run.output


def test_a_should_violation_warns_and_fails_only_a_strict_run(tmp_path: Path) -> None:
    with served(NoCollectionIdIn404()) as target:
        lenient = _run(tmp_path / "lenient", *target, *AUTH_AND_OWNERSHIP)
        strict = _run(tmp_path / "strict", *target, *AUTH_AND_OWNERSHIP, "--strict")
        by_env = _run(tmp_path / "env", *target, *AUTH_AND_OWNERSHIP, env={"CONFORMANCE_STRICT": "1"})
    assert lenient.returncode == 0, lenient.output
    assert _status(_report(tmp_path / "lenient"), "OWN-6") == "warning"
    assert "OWN-6" in _report(tmp_path / "lenient")["verdict"]["summary"]
    assert strict.returncode == 1, strict.output
    assert _status(_report(tmp_path / "strict"), "OWN-6") == "fail"
    assert _report(tmp_path / "strict")["run"]["strict"] is True
    assert by_env.returncode == 1, by_env.output


def _baseline(tmp_path: Path, text: str) -> str:
    path = tmp_path / "baseline.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_baseline_accepts_listed_violations_and_names_entries_to_remove(tmp_path: Path) -> None:
    baseline = _baseline(
        tmp_path,
        "- rule: AUTH-1\n  reason: code renamed in API-123\n"
        "- {rule: AUTH-2, reason: same ticket}\n"
        "- {rule: OWN-1, reason: fixed since}\n",
    )
    with served(WrongAuthCode()) as target:
        run = _run(tmp_path / "out", *target, *AUTH_AND_OWNERSHIP, "--baseline", baseline)
    assert run.returncode == 0, run.output
    assert "baseline entry OWN-1 can be removed" in run.output
    document = _report(tmp_path / "out")
    assert _status(document, "AUTH-1") == "accepted"
    assert next(r for r in document["rules"] if r["id"] == "AUTH-1")["accepted_reason"] == "code renamed in API-123"
    entries = {e["rule"]: e["status"] for e in document["baseline"]["entries"]}
    assert entries == {"AUTH-1": "accepted", "AUTH-2": "accepted", "OWN-1": "removable"}
    assert "accepted (baseline)" in (tmp_path / "out" / "conformance.md").read_text(encoding="utf-8")
    assert "baseline entry OWN-1 can be removed" in (tmp_path / "out" / "conformance.html").read_text(encoding="utf-8")
    junit = (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")
    assert 'type="pytest.xfail" message="accepted (baseline): AUTH-1: code renamed in API-123"' in junit


def test_a_baseline_does_not_accept_what_it_does_not_list(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path, '[{"rule": "AUTH-1", "reason": "JSON works too"}]')
    with served(WrongAuthCode()) as target:
        run = _run(tmp_path / "out", *target, *AUTH_AND_OWNERSHIP, "--baseline", baseline)
    assert run.returncode == 1, run.output
    document = _report(tmp_path / "out")
    assert (_status(document, "AUTH-1"), _status(document, "AUTH-2")) == ("accepted", "fail")
    assert document["verdict"]["summary"].startswith("1 rule(s) violated: AUTH-2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {rule: AUTH-99, reason: typo}\n", "unknown rule ID 'AUTH-99'"),
        ("- rule: AUTH-1\n", "rule AUTH-1 needs a 'reason'"),
        ("rule: AUTH-1\n", "expected a list of {rule: ID, reason: text} entries"),
        ("- {rule: AUTH-1, reason: [unclosed\n", "not valid YAML or JSON"),
    ],
    ids=["unknown-rule", "no-reason", "not-a-list", "malformed"],
)
def test_an_unusable_baseline_is_a_usage_error_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    run = _run(tmp_path / "out", "--baseline", _baseline(tmp_path, text))
    assert run.returncode == 4, run.output
    lines = [line for line in run.output.splitlines() if "--baseline" in line]
    assert len(lines) == 1, run.output
    assert message in lines[0]


def test_a_missing_baseline_file_is_a_usage_error(tmp_path: Path) -> None:
    run = _run(tmp_path / "out", env={"CONFORMANCE_BASELINE": str(tmp_path / "absent.yaml")})
    assert run.returncode == 4, run.output
    assert "cannot read it" in run.output


def test_an_unreachable_target_still_gets_a_report_that_says_not_judged(tmp_path: Path) -> None:
    run = _run(
        tmp_path, "--base-url", "http://127.0.0.1:9", "--api-key", CANARY, "--org-id", "org_1", "--collection-id", "mcoll_1"
    )
    assert run.returncode == 3, run.output
    document = _report(tmp_path)
    assert document["verdict"]["status"] == "not judged"
    assert any("unreachable" in note for note in document["verdict"]["notes"]), document["verdict"]
    for name in ("conformance.json", "conformance.md", "conformance.html"):
        assert CANARY not in (tmp_path / name).read_text(encoding="utf-8")


def test_an_interrupted_run_still_writes_its_reports(tmp_path: Path) -> None:
    slow = Slow()
    with served(slow) as target:
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "--report-dir", str(tmp_path), *target],
            cwd=ROOT, env=clean_environ(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while slow.served < 20 and time.monotonic() < deadline:  # the preflight and a few tests are done
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
    assert process.returncode == 2, output
    document = _report(tmp_path)
    assert document["verdict"]["status"] == "interrupted"
    assert document["counts"]["error"] > 0, "the rules the run did not reach are not judged, never passed"
    assert all(r["status"] != "pass" or r["tests"] for r in document["rules"]), "a rule passes only on its own evidence"
    assert (tmp_path / "conformance.html").is_file()


def test_an_observed_freedom_reaches_the_report(tmp_path: Path) -> None:
    tests = tmp_path / "suite"
    tests.mkdir()
    (tests / "test_freedom.py").write_text(
        "import pytest\n\n"
        '@pytest.mark.requirement("SEM-4")\n'
        "def test_sides(observe_freedom):\n"
        '    observe_freedom("F2", "either", "unknown field ignored: 200")\n'
        '    observe_freedom("F13", "or", "malformed JSON: 400")\n'
        '    observe_freedom("F14", "either")\n'
        '    observe_freedom("F14", "or")\n\n'
        '@pytest.mark.requirement("SEM-4")\n'
        "def test_unknown_freedom(observe_freedom):\n"
        '    with pytest.raises(ValueError, match="unknown freedom"):\n'
        '        observe_freedom("F99", "either")\n',
        encoding="utf-8",
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(tests), "-p", "no:cacheprovider", "--report-dir", str(tmp_path / "out")],
        cwd=tmp_path, env=clean_environ(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    freedoms = {f["id"]: f for f in _report(tmp_path / "out")["freedoms"]}
    assert len(freedoms) == len(requirements.FREEDOMS)
    assert freedoms["F2"]["observed"] == "either"
    assert freedoms["F2"]["observations"][0]["note"] == "unknown field ignored: 200"
    assert freedoms["F13"]["observed"] == "or"
    assert freedoms["F14"]["observed"] == "both"
    assert freedoms["F1"]["observed"] is None
    markdown = (tmp_path / "out" / "conformance.md").read_text(encoding="utf-8")
    assert "| F2 |" in markdown
    assert "**either**: unknown field ignored: 200" in markdown
    assert "not observed" in markdown
