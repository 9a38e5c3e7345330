"""The JUnit file CI reads: valid against the Jenkins JUnit schema, one rule ID and level per test case.

``tests/data/junit-10.xsd`` is the schema of Jenkins' JUnit plugin, the one pytest validates its own
output against. It has no ``properties`` element inside ``testcase``; pytest writes one there (the
rule ID, level, outcome and message of each test), as Jenkins reads it and GitLab ignores it. So each
``testcase/properties`` is validated on its own against the schema's ``properties`` element, and the
rest of the document against ``testsuites``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from conformance import requirements

from .report_targets import CANARY, WrongAuthCode, served
from .test_gate import AUTH_AND_OWNERSHIP, _run

SCHEMA = Path(__file__).parent / "data" / "junit-10.xsd"


def test_junit_of_a_failing_run_is_valid_and_names_rule_and_level(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("- {rule: AUTH-2, reason: accepted for the test}\n", encoding="utf-8")
    with served(WrongAuthCode()) as target:
        run = _run(tmp_path / "out", *target, *AUTH_AND_OWNERSHIP, "--baseline", str(baseline))
    assert run.returncode == 1, run.output
    junit = tmp_path / "out" / "junit.xml"
    assert CANARY not in junit.read_text(encoding="utf-8")
    schema = xmlschema.XMLSchema(SCHEMA)
    tree = ET.parse(junit)
    cases = list(tree.getroot().iter("testcase"))
    assert cases
    kinds = set()
    for case in cases:
        properties = case.find("properties")
        assert properties is not None, case.get("name")
        schema.validate(properties)
        values = {p.get("name"): p.get("value") for p in properties.findall("property")}
        named = [p.get("value") for p in properties.findall("property") if p.get("name") == "requirement"]
        assert named, case.get("name")
        assert all(rule_id in requirements.BY_ID for rule_id in named)
        assert values["level"] == requirements.BY_ID[str(named[0])].level.value
        assert values["outcome"] in {"pass", "fail", "warning", "skip", "error"}
        case.remove(properties)
        kinds |= {child.tag for child in case} or {"passed"}
        if case.find("failure") is not None:
            message = values["message"] or ""
            violated = [p.get("value") for p in properties.findall("property") if p.get("name") == "violated"]
            assert "AUTH-1" in violated
            assert message.startswith("[AUTH-1]"), message
            assert "expected: error.code AUTHENTICATION_REQUIRED" in message
            assert "received: error.code 'UNAUTHORIZED'" in message
            assert "reproduce: curl -sS -X PATCH " in message
    assert {"failure", "skipped", "passed"} <= kinds, kinds
    schema.validate(tree)


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    """A test case without a name is not JUnit: the validator must say so."""
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>')
    assert not xmlschema.XMLSchema(SCHEMA).is_valid(str(bad))
