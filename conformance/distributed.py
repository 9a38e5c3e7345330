"""pytest-xdist: each worker changes a collection of its own; the controller gathers one verdict.

With ``-n N``, every worker is a run of its own (its own collection, chosen by its worker number from
the ``--collection-id`` given, its own snapshot, restore and batches), and sends the controller what
the verdict needs besides each test's findings, which travel with the test reports: the restore, the
tests it planned, why it stopped, its traffic. The controller decides once, from all of it, and
writes the one set of reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance import gate
from conformance.results import FreedomObservation, Planned

if TYPE_CHECKING:
    from conformance.run import Run

KEY = "conformance"


def group_of(item: pytest.Item) -> str:
    """The pytest-xdist group (``--dist loadgroup``) of a test whose requests go in a batch
    (``@pytest.mark.probe``): the tests of one batch run on one worker; each lane test's cases on one worker."""
    mark = item.get_closest_marker("probe")
    if mark is not None and mark.kwargs.get("kind", "rejection") == "lane":
        return f"conformance-lane-{getattr(item, 'originalname', item.name)}"
    return "conformance-batch"


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("dsession") and not is_worker(config)


def worker_facts(run: Run) -> dict[str, Any]:
    """What a worker sends the controller at its end (JSON-able)."""
    requests, chain = run.traffic()
    return {
        "restore": None if run.restore is None else [run.restore.status, run.restore.message],
        "planned": [[p.nodeid, list(p.rule_ids)] for p in run.planned],
        "stop": [run.stop.value, run.stop_message],
        "notes": list(run.notes),
        "freedoms": [vars(o) for o in run.freedoms],
        "requests": requests,
        "chain": chain,
        "collection": run.settings.collection_id,
    }


def merge(run: Run, facts: dict[str, Any]) -> None:
    """Add one worker's facts to the controller's run."""
    if facts.get("restore") is not None:
        status, message = facts["restore"]
        run.restores.append(gate.Restore(status, f"{facts['collection']}: {message}"))
    known = {p.nodeid for p in run.planned}
    run.planned += [Planned(nodeid, tuple(rules)) for nodeid, rules in facts["planned"] if nodeid not in known]
    stop, message = facts["stop"]
    if stop != gate.Stop.NONE.value:
        run.halt(gate.Stop(stop), message)
    run.notes += [n for n in facts["notes"] if n not in run.notes]
    run.freedoms += [FreedomObservation(**o) for o in facts["freedoms"]]
    run.requests += facts["requests"]
    run.chain = max(run.chain, facts["chain"])
