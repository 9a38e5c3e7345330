"""When requests happened: each one's (start, end) time, and the longest chain of them one after another.

Against a remote target every request waits out the network's latency, and requests that overlap in
time wait it out together. The *longest sequential chain* of a run, the most of its requests that
happened strictly one after another, is therefore what latency costs it at least: chain x latency is
the run's floor (``scripts/benchmark.py``). The suite's client (:class:`conformance.client.Recorder`)
and the bundled stub's server both keep a :class:`Timeline`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

#: One request: its start and end, ``time.monotonic()`` seconds.
Span = tuple[float, float]


def longest_chain(spans: Iterable[Span]) -> int:
    """The largest number of ``spans`` that are pairwise non-overlapping (each ends before the next
    starts): interval scheduling, solved exactly by taking the earliest-ending span that starts
    after the last one taken. ``0`` for no span."""
    chain, last_end = 0, float("-inf")
    for start, end in sorted(spans, key=lambda span: span[1]):
        if start > last_end:
            chain += 1
            last_end = end
    return chain


class Timeline:
    """The spans of the requests seen so far; thread-safe, one lock and one list append per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[Span] = []

    def add(self, start: float, end: float) -> None:
        with self._lock:
            self._spans.append((start, end))

    def __len__(self) -> int:
        with self._lock:
            return len(self._spans)

    def spans(self, start: int = 0) -> list[Span]:
        """The spans seen so far, from the ``start``-th on (``scripts/benchmark.py --breakdown``)."""
        with self._lock:
            return self._spans[start:]

    def longest_chain(self) -> int:
        """See :func:`longest_chain`."""
        with self._lock:
            spans = list(self._spans)
        return longest_chain(spans)

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()
