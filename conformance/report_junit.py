"""``junit.xml``: every conformance test as a JUnit test case, rendered from the verdict.

A test that found a violation is a ``<failure>`` ("ran but failed"), one that could not judge an
``<error>`` ("encountered an unexpected error"), an accepted violation an expected failure
(``<skipped type="pytest.xfail">``), a test never run or skipped a ``<skipped>``. Each test case
carries the properties ``requirement`` (one per rule it names), ``level``, ``outcome``, ``violated``
and ``warned`` (one per rule it found broken) and, when it did not pass, ``message``; a failure's text
holds the rule, expected, received and a ``curl``.
"""

from __future__ import annotations

import platform
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime

from conformance import requirements
from conformance.gate import TestStatus, Verdict

_TAGS = {"failure": "failure", "error": "error", "accepted": "skipped", "skipped": "skipped", "not run": "skipped"}


def _names(nodeid: str) -> tuple[str, str]:
    """pytest's JUnit names: the dotted module path (from ``conformance/`` on) and the test name."""
    path, _, name = nodeid.partition("::")
    start = path.rfind("conformance/")
    module = (path[start:] if start >= 0 else path).removesuffix(".py").replace("/", ".")
    return module, name


def _clean(text: str) -> str:
    """Text XML 1.0 can hold: other control characters are shown as ``\\xNN``."""
    return "".join(c if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff") else f"\\x{ord(c):02x}" for c in text)


def _case(test: TestStatus, redact: Callable[[str], str], reasons: dict[str, str]) -> ET.Element:
    result = test.result
    classname, name = _names(result.nodeid)
    case = ET.Element("testcase", classname=classname, name=name, time=f"{result.duration:.3f}")
    properties = ET.SubElement(case, "properties")
    levels = [requirements.BY_ID[r].level.value for r in result.rule_ids if r in requirements.BY_ID]
    for rule_id in result.rule_ids:
        ET.SubElement(properties, "property", name="requirement", value=rule_id)
    ET.SubElement(properties, "property", name="level", value=levels[0] if levels else "")
    ET.SubElement(properties, "property", name="outcome", value=result.outcome.value)
    for finding in result.findings:  # each rule this test found broken, on that rule's own evidence
        if finding.outcome.value in ("fail", "warning"):
            ET.SubElement(
                properties, "property", name="violated" if finding.outcome.value == "fail" else "warned", value=finding.rule_id
            )
    message = _clean(redact(result.message))
    if message and test.kind != "pass":
        ET.SubElement(properties, "property", name="message", value=message)
    tag = _TAGS.get(test.kind)
    if tag is not None:
        first = message.strip().splitlines()[0] if message.strip() else test.kind
        attributes = {"message": first[:300]}
        if test.kind == "accepted":
            accepted = [f.rule_id for f in result.findings if f.outcome.value == "fail" and f.rule_id in reasons]
            why = "; ".join(f"{rule}: {reasons[rule]}" for rule in accepted)
            attributes = {"type": "pytest.xfail", "message": _clean(redact(f"accepted (baseline): {why}"))}
        elif test.kind in ("skipped", "not run"):
            attributes = {"type": "pytest.skip", **attributes}
        element = ET.SubElement(case, tag, attributes)
        element.text = message
    elif test.kind == "warning":
        ET.SubElement(case, "system-out").text = message
    return case


def render(verdict: Verdict, started: datetime, finished: datetime, redact: Callable[[str], str]) -> str:
    """The JUnit document of ``verdict``."""
    reasons = {r.id: r.accepted_reason or "" for r in verdict.rules if r.status == "accepted"}
    cases = [_case(test, redact, reasons) for test in verdict.tests]
    kinds = [t.kind for t in verdict.tests]
    suite = ET.Element(
        "testsuite",
        name="conformance",
        errors=str(kinds.count("error")),
        failures=str(kinds.count("failure")),
        skipped=str(sum(kinds.count(k) for k in ("accepted", "skipped", "not run"))),
        tests=str(len(cases)),
        time=f"{(finished - started).total_seconds():.3f}",
        timestamp=started.isoformat(timespec="seconds"),
        hostname=platform.node() or "localhost",
    )
    suite.extend(cases)
    root = ET.Element("testsuites", name="conformance")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
