"""A pytest plugin for the mutation self-test's runs of the suite against a fault (``-p tests.mutation_plugin``).

With ``--mutation-rules ID,ID``, the tests that name one of those rules run first, and the run stops
(as ``-x`` does, exit status 1) as soon as a test fails naming one of them: the fault is caught, and
the rest of the suite would only add cost. A run that does not catch the fault runs every test.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--mutation-rules", default="", help="mutation self-test: the rules the fault under test breaks")


def _rules(config: pytest.Config) -> set[str]:
    return {rule for rule in str(config.getoption("mutation_rules")).split(",") if rule}


def _named(item: pytest.Item) -> set[str]:
    return {rule_id for mark in item.iter_markers("requirement") for rule_id in mark.args}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rules = _rules(config)
    if rules:
        items.sort(key=lambda item: not _named(item) & rules)  # stable: otherwise the suite's order


class _Stopper:
    """Stops the run once a test found one of the fault's rules violated (on that rule's own evidence)."""

    def __init__(self, rules: set[str]) -> None:
        self.rules = rules
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if data is None or report.when != "teardown" or self.session is None:
            return
        violated = {f["rule_id"] for f in data["findings"] if f["outcome"] == "fail"} & self.rules
        if violated:
            self.session.shouldfail = f"mutation self-test: {report.nodeid} fails naming {', '.join(sorted(violated))}"


def pytest_configure(config: pytest.Config) -> None:
    rules = _rules(config)
    if rules:
        config.pluginmanager.register(_Stopper(rules), "mutation-stopper")
        from conformance import ahead

        ahead.ENABLED = (
            False  # the run stops at its first catch, seldom after the property tests: drawing ahead would only cost CPU
        )
