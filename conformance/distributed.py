"""pytest-xdist: each worker changes a collection of its own; the controller gathers one verdict.

With ``-n N``, every worker is a run of its own (its own collection, chosen by its worker number from
the ``--collection-id`` given, its own snapshot, restore and batches), and sends the controller what
the verdict needs besides each test's findings, which travel with the test reports: the restore, the
tests it planned, why it stopped, its traffic. The controller decides once, from all of it, and
writes the one set of reports.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from conformance import gate
from conformance.results import FreedomObservation, Planned

if TYPE_CHECKING:
    from conformance.run import Run

KEY = "conformance"


#: The group of a long test (``@pytest.mark.long``): one of its own, which the scheduler sends alone.
LONG = "conformance-long-"


#: The rule a target must be seen to keep before the lanes of accepted values go side by side.
SIDE_BY_SIDE = "SEM-8"
#: The group of every lane test and of the tests that judge :data:`SIDE_BY_SIDE`: one worker sends
#: all the lanes, side by side once it has seen that rule kept (as one process does), instead of
#: each worker sending its lane tests' lanes one after another. Long: handed out first, alone.
LANES = LONG + "lanes"


def group_of(item: pytest.Item) -> str | None:
    """The pytest-xdist group (``--dist loadgroup``) of a test, if it has one: the tests of one batch
    (``@pytest.mark.probe``) run on one worker, and so do all the lane tests with the test that judges
    SEM-8 (:data:`LANES`); a long test (``@pytest.mark.long``) is a group of its own, which
    :class:`LongAlone` hands out alone."""
    mark = item.get_closest_marker("probe")
    if (mark is not None and mark.kwargs.get("kind", "rejection") == "lane") or _judges(item, SIDE_BY_SIDE):
        return LANES
    if item.get_closest_marker("long") is not None:  # each part of a test in parts its own (no "]": see _GroupIds)
        return LONG + re.sub(r"[^\w.-]+", "-", item.name).strip("-")
    if mark is None:
        return None
    return "conformance-batch"


def run_order(item: pytest.Item) -> tuple[int, bool]:
    """Where a worker puts a test (a sort key): the long tests first, the longest first; among equals,
    a test that judges :data:`SIDE_BY_SIDE` before the others, so that it runs before the lane tests
    of its group (:data:`LANES`) whatever their lengths."""
    return -_length(item), not _judges(item, SIDE_BY_SIDE)


def _judges(item: pytest.Item, rule_id: str) -> bool:
    from conformance.plugin import rule_ids

    return rule_id in rule_ids(item)


def _length(item: pytest.Item) -> int:
    """How many requests one after another a test sends, by its ``long`` mark (0 unmarked)."""
    mark = item.get_closest_marker("long")
    return 0 if mark is None else int(mark.args[0])


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The controller's scheduling: ``loadgroup``, with the long tests alone (:class:`LongAlone`)."""
    from xdist.scheduler import LoadGroupScheduling

    class LongAlone(LoadGroupScheduling):  # type: ignore[misc]
        """pytest-xdist's ``loadgroup``, except that a worker running a long test is given as little as
        it can be until it is done: whatever it is given waits behind it, while other workers idle. The
        workers order the long tests first, the longest first (:class:`_GroupIds`), so that they start
        at once on as many workers, and the rest is shared out beside them.

        A worker starts a test only once it knows the next one (or that there is none), so a worker
        whose only test left is a long one is given one more unit: the last single test queued."""

        def _reschedule(self, node: Any) -> None:
            work = self.assigned_work.get(node, {})
            pending = [scope for scope, tests in work.items() if not all(tests.values())]
            if node.shutting_down or not self.workqueue or not any(scope.startswith(LONG) for scope in pending):
                super()._reschedule(node)
            elif self._pending_of(work) < 2:
                queued = list(reversed(self.workqueue))
                single = next((scope for scope in queued if len(self.workqueue[scope]) == 1), queued[0])
                self.workqueue.move_to_end(single, last=False)
                self._assign_work_unit(node)

    return LongAlone(config, log)


def group_batches(config: pytest.Config) -> None:
    """Make pytest-xdist send the tests of a batch (:func:`group_of`) to one worker.

    ``-n N`` alone means ``--dist load``, which the controller turns into ``loadgroup``. A worker parses
    the command line again, where no ``--dist loadgroup`` is written, and would leave the group out of
    its tests' ids: the controller would then spread a batch's tests over every worker, and each worker
    would send the whole batch for the few tests it runs. The controller tells it (:func:`tell_worker`)."""
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"
    if getattr(config.option, "dist", "no") == "loadgroup":
        config.option.loadscopereorder = False  # the order the workers give (long tests first), not the largest group first
    if is_worker(config) and config.workerinput.get(KEY + "_loadgroup"):  # type: ignore[attr-defined]
        config.option.loadgroup = True
        config.pluginmanager.register(_GroupIds(), "conformance-group-ids")


class _GroupIds:
    """A worker's tests carry their group in their id (``...::test_x[p]@group``): that is how the
    controller's ``loadgroup`` scheduling sees the group. pytest-xdist writes it to ``item._nodeid``,
    which pytest 9.2 no longer reads (an item's id is ``item._id``); then this writes it there.

    The tests marked ``long`` (a property test: many requests one after another) come first, the
    longest first, so that the controller hands them out first, one to a worker (:func:`make_scheduler`),
    and the rest runs beside them; every worker orders its tests alike, as pytest-xdist requires."""

    @pytest.hookimpl(trylast=True)  # after pytest-xdist's
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=run_order)  # stable: otherwise as collected
        for item in items:
            groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
            if groups and "@" not in item.nodeid.rpartition("]")[2]:
                from _pytest.nodeid import NodeId  # pytest >= 9.2, the only one where pytest-xdist's way fails

                item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


def tell_worker(node: Any) -> None:
    """On the controller, before a worker starts: whether its tests carry their group (see :func:`group_batches`)."""
    node.workerinput[KEY + "_loadgroup"] = node.config.getvalue("dist") == "loadgroup"


def stop_workers(config: pytest.Config) -> None:
    """Stop the workers pytest-xdist started, as it does when the session finishes (on a controller)."""
    dsession = config.pluginmanager.get_plugin("dsession")
    if dsession is not None:
        dsession.pytest_sessionfinish()


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
