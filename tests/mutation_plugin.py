"""A pytest plugin for the mutation self-test's runs of the suite against a fault (``-p tests.mutation_plugin``).

With ``--mutation-rules ID,ID``, the tests that name one of those rules run first, and the run stops
(as ``-x`` does, exit status 1) as soon as a test fails naming one of them: the fault is caught, and
the rest of the suite would only add cost. A run that does not catch the fault runs every test.
"""

from __future__ import annotations

import re
from collections.abc import Generator

import pytest

_RULE_ID = re.compile(r"\[([A-Z]+-\d+)\]")


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    result = yield
    rules = _rules(item.config)
    props = item.user_properties
    if rules and ("outcome", "fail") in props:
        message = next((str(value) for name, value in props if name == "message"), "")
        first = message.strip().splitlines()[0] if message.strip() else ""
        named = {str(value) for name, value in props if name == "requirement"} | set(_RULE_ID.findall(first))
        if named & rules:
            item.session.shouldfail = f"mutation self-test: {item.nodeid} fails naming {', '.join(sorted(named & rules))}"
    return result
