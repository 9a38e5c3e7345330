"""The report built from results: order, outcomes, evidence, freedoms, redaction, and its re-rendering."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conformance import baseline, cli, gate, report, report_html, report_md, requirements, results
from conformance.config import Secret, Settings
from conformance.results import Evidence, FreedomObservation, Outcome

from .conftest import ROOT, clean_environ

KEY = "sk_live_canary_0123456789abcdef"
START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": "https://staging.example.com",
        "api_key": Secret(KEY),
        "org_id": "org_1",
        "collection_id": "mcoll_1",
        "seed": 42,
        "profile": "quick",
    }
    values.update(changes)
    return Settings(**values)


def _test(nodeid: str, rule: str, outcome: Outcome, message: str = "", evidence: tuple[Evidence, ...] = ()) -> results.TestResult:
    return results.TestResult(nodeid, (rule,), outcome, message, (results.Finding(rule, outcome, message, evidence),))


def _results() -> list[results.TestResult]:
    leak = f"received: HTTP 401; the server echoed X-API-Key {KEY}"
    return [
        _test("suite/test_a.py::test_pass", "AUTH-1", Outcome.PASS),
        _test(
            "suite/test_v.py::test_val",
            "VAL-1",
            Outcome.FAIL,
            f"[VAL-1] empty name accepted\n  {leak}\n  <script>alert(1)</script>",
            (
                Evidence(
                    "curl -sS -X PATCH https://staging.example.com/x -H 'X-API-Key: ***'", f"HTTP 200 application/json\n{KEY}"
                ),
            ),
        ),
        _test("suite/test_o.py::test_own6", "OWN-6", Outcome.WARNING, "[OWN-6] no details.collection_id"),
        _test("suite/test_t.py::test_tracks", "SEM-2", Outcome.SKIP, "needs a track: set --track-id"),
        _test("suite/test_r.py::test_net", "RESP-3", Outcome.ERROR, "TargetError: connection reset"),
        _test("suite/test_s.py::test_auth2", "AUTH-2", Outcome.FAIL, "[AUTH-2] wrong code"),
    ]


def _document(**changes: Any) -> dict[str, Any]:
    tests = changes.pop("tests", _results())
    accepted = changes.pop("baseline", None)
    freedoms = changes.pop("freedoms", [FreedomObservation("F2", "either", "unknown field ignored: 200", "t")])
    facts = gate.Facts(
        tests,
        accepted={e.rule: e.reason for e in accepted.entries} if accepted is not None else {},
        restore=gate.Restore("verified", "collection restored and verified"),
    )
    info = report.RunInfo(_settings(), START, START + timedelta(seconds=12.5), accepted, freedoms)
    return report.build(info, gate.decide(facts))


def _rule(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return dict(next(r for r in document["rules"] if r["id"] == rule_id))


def test_every_rule_has_its_outcome_reason_and_evidence() -> None:
    document = _document()
    assert document["format"] == report.FORMAT
    assert len(document["rules"]) == len(requirements.REQUIREMENTS)
    assert document["verdict"] == {
        "status": "fail",
        "exit_status": 1,
        "summary": "2 rule(s) violated: AUTH-2, VAL-1; 1 SHOULD rule(s) warn: OWN-6",
        "notes": ["collection restored and verified"],
    }
    assert document["target"]["url"] == "https://staging.example.com"
    assert (document["run"]["seed"], document["run"]["profile"], document["run"]["duration_seconds"]) == (42, "quick", 12.5)
    assert _rule(document, "AUTH-1")["status"] == "pass"
    assert _rule(document, "OWN-6")["status"] == "warning"
    assert _rule(document, "SEM-2")["message"] == "needs a track: set --track-id"
    assert _rule(document, "RESP-3")["status"] == "error"
    assert _rule(document, "SEM-1")["message"] == report.NO_TEST
    val1 = _rule(document, "VAL-1")
    assert val1["level"] == "MUST"
    assert val1["text"] == "`name` of 0 characters gets 422."
    assert val1["evidence"][0]["curl"].startswith("curl -sS -X PATCH")
    assert val1["test"] == "suite/test_v.py::test_val"
    assert document["counts"] == {
        "fail": 2,
        "warning": 1,
        "error": 1,
        "accepted": 0,
        "skip": len(requirements.REQUIREMENTS) - 5,
        "pass": 1,
    }


def test_failures_come_first_then_warnings_then_errors() -> None:
    statuses = [r["status"] for r in report_md.ordered(_document())]
    assert statuses[:4] == ["fail", "fail", "warning", "error"]
    assert [r["id"] for r in report_md.ordered(_document())][:2] == ["AUTH-2", "VAL-1"]
    markdown = report_md.render(_document())
    assert markdown.index("## Failures (2)") < markdown.index("## Warnings (1)") < markdown.index("## Not judged")
    assert markdown.index("### AUTH-2") < markdown.index("### VAL-1") < markdown.index("### OWN-6")


def test_no_secret_reaches_any_file(tmp_path: Path) -> None:
    document = _document()
    paths = report.write(document, tmp_path)
    assert [p.name for p in paths] == ["conformance.json", "conformance.md", "conformance.html"]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert KEY not in text, path.name
        assert "***" in text, path.name


def test_html_is_self_contained_and_escaped() -> None:
    html = report_html.render(_document())
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    for external in ("<script", "<link", "src=", "@import", "url("):
        assert external not in html
    assert html.index('id="rule-AUTH-2"') < html.index('id="rule-OWN-6"') < html.index('id="rules"')
    assert "staging.example.com" in html
    assert "seed: <b>42</b>" in html


def test_freedoms_say_which_side_or_not_observed() -> None:
    freedoms = {f["id"]: f for f in _document()["freedoms"]}
    assert freedoms["F2"]["observed"] == "either"
    assert freedoms["F3"]["observed"] is None
    markdown = report_md.render(_document())
    assert "| F2 | unknown body fields ignored | rejected with 422 | **either**: unknown field ignored: 200 |" in markdown
    assert markdown.count("not observed") == len(requirements.FREEDOMS) - 1


def test_baseline_acceptance_and_removable_entries_are_reported() -> None:
    accepted = baseline.parse("- {rule: VAL-1, reason: API-1}\n- {rule: AUTH-1, reason: old}\n- {rule: SEM-1, reason: x}\n")
    document = _document(baseline=accepted)
    assert _rule(document, "VAL-1")["status"] == "accepted"
    assert _rule(document, "VAL-1")["accepted_reason"] == "API-1"
    assert document["verdict"]["summary"].startswith("1 rule(s) violated: AUTH-2;")
    assert "accepted by the baseline: VAL-1" in document["verdict"]["summary"]
    assert {e["rule"]: e["status"] for e in document["baseline"]["entries"]} == {
        "VAL-1": "accepted",
        "AUTH-1": "removable",
        "SEM-1": "kept",
    }
    assert "baseline entry AUTH-1 can be removed" in report_md.render(document)
    assert "baseline entry AUTH-1 can be removed" in report_html.render(document)


def test_markdown_fences_survive_backticks_in_messages() -> None:
    tests = [_test("t", "VAL-1", Outcome.FAIL, "[VAL-1] body was ```not json```")]
    markdown = report_md.render(_document(tests=tests))
    assert "````\n[VAL-1] body was ```not json```\n````" in markdown


def test_report_command_rerenders_the_same_files(tmp_path: Path) -> None:
    first = report.write(_document(), tmp_path / "run")
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "report", str(first[0]), "--out", str(tmp_path / "again")],
        cwd=ROOT, env=clean_environ(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    for name in ("conformance.md", "conformance.html"):
        assert (tmp_path / "again" / name).read_text() == (tmp_path / "run" / name).read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [("{}", "not a conformance report"), ("not json", "not JSON"), (json.dumps({"format": "other/9"}), "'other/9'")],
)
def test_report_command_rejects_other_files_in_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    assert cli.main(["report", str(path)]) == 4


def test_run_command_passes_the_pytest_form_options(tmp_path: Path) -> None:
    args, extra = cli.build_run_parser().parse_known_args(
        [
            "--base-url",
            "https://s.example.com",
            "--track-id",
            "mtrack_1",
            "--track-id",
            "mtrack_2",
            "--strict",
            "-x",
            "-k",
            "auth",
        ]
    )
    argv = cli.pytest_args(args, extra, environ={"CONFORMANCE_REPORT_DIR": str(tmp_path)})
    assert argv[:2] == ["--pyargs", "conformance"]
    assert argv[argv.index("--base-url") + 1] == "https://s.example.com"
    assert argv.count("--track-id") == 2
    assert "--strict" in argv
    assert argv[argv.index("--junitxml") + 1] == str(tmp_path / "junit.xml")
    assert argv[-3:] == ["-x", "-k", "auth"]


def test_run_help_lists_every_option_with_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag, variable in (("--base-url", "CONFORMANCE_BASE_URL"), ("--baseline", "CONFORMANCE_BASELINE")):
        assert flag in text
        assert variable in text
    assert "--strict" in text
    assert "exit status:" in text
