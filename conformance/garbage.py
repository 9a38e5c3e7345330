"""How a conformance run sets Python's cyclic garbage collector: it costs a run less, frees as much.

A quick run starts about 700 collections, a few of them of every object alive: most of them the
modules, the suite's tests and hypothesis' strategies, which live to the end of the run. That is
about 0.45 s of CPU, a tenth of a quick run against a loopback target (``scripts/benchmark.py``).
What lives to the end is frozen out of every collection once it is built (:func:`freeze`): after the
imports, then after the collection of the tests. That halves it. Once the reports are written,
everything is frozen again: pytest then collects twice in full (to report objects that warn as they
go), about 0.05 s of a heap nothing will free.

The thresholds stay Python's: with fewer, longer collections, a signal lands more often inside a
collection's callback (hypothesis keeps one), where the exception that ends the run is swallowed.
"""

from __future__ import annotations

import gc


def freeze() -> None:
    """Keep every object alive now out of later collections (they live to the end of the run)."""
    gc.freeze()
