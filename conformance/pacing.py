"""The suite's own pace: a request-rate cap, and the waits a rate-limited target asks for.

:class:`Pacer` spaces requests at most ``rate`` per second over all threads (a token bucket of
depth one, so no burst), and holds every request back while a ``429 Retry-After`` is waited out.
It never sleeps while holding its lock.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC

_RATE = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?:/\s*(?P<unit>s|sec|second|m|min|minute))?\s*$", re.IGNORECASE)


def parse_rate(text: str) -> float:
    """Requests per second from ``N/s``, ``N/min`` or a bare ``N`` (per second); ``ValueError`` otherwise."""
    match = _RATE.match(text)
    if match is None:
        raise ValueError(text)
    per = 60.0 if (match["unit"] or "s").lower().startswith("m") else 1.0
    rate = float(match["n"]) / per
    if rate <= 0:
        raise ValueError(text)
    return rate


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP-date); ``None`` if absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now())


class Pacer:
    """Paces requests: at most ``rate`` per second (``None``: no cap), and none during a hold."""

    def __init__(self, rate: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0  # the earliest moment the next request may start
        self.waited = 0.0  # seconds spent in holds asked for by the target (429)

    def acquire(self) -> None:
        """Block until this request may start."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + (1.0 / self.rate if self.rate else 0.0)
        if start > now:
            time.sleep(start - now)

    def hold(self, seconds: float) -> None:
        """Start no request, from any thread, for ``seconds`` from now (a 429's ``Retry-After``)."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)
            self.waited += seconds
