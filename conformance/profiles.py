"""Profiles: how hard the property tests search, as hypothesis settings.

``quick`` is for pull requests, ``default`` decides with confidence, ``thorough`` is for nightly
runs; ``--examples N`` overrides the count. The example database is never used, and every property
test draws from the run's printed seed, so a run is replayed exactly with ``--seed N``.

Hypothesis still keeps caches (the constants it finds in the modules under test, its Unicode tables)
in its storage directory, ``.hypothesis/`` of the working directory unless told otherwise. A run
writes nothing outside ``--report-dir``, so the storage directory is moved: to a temporary path as
soon as this module is imported (nothing is created there unless hypothesis writes, and it is
removed at exit), then to ``REPORT_DIR/.hypothesis`` before the first property test runs. A storage
directory set with ``HYPOTHESIS_STORAGE_DIRECTORY`` is left alone: it is the user's choice.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis.configuration import set_hypothesis_home_dir

from conformance import evidence
from conformance.config import Settings

#: Where hypothesis keeps its caches until the report folder is known: removed when the process ends.
_UNTIL_KNOWN = Path(tempfile.gettempdir()) / f"conformance-hypothesis-{os.getpid()}"


def keep_hypothesis_storage_in(directory: Path) -> None:
    """Point hypothesis' storage directory at ``directory`` (unless ``HYPOTHESIS_STORAGE_DIRECTORY`` is set)."""
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        set_hypothesis_home_dir(directory)


keep_hypothesis_storage_in(_UNTIL_KNOWN)
atexit.register(shutil.rmtree, _UNTIL_KNOWN, ignore_errors=True)

#: The code points Python's ``utf-8`` codec encodes (all but the surrogates), and none that fails
#: to round-trip: hypothesis' table of the codec, as it would write it to its storage directory.
_UTF8_TABLE = [[[0, 0xD7FF], [0xE000, sys.maxunicode]], []]


@functools.cache
def _seed_codec_table(directory: Path) -> None:
    """Write hypothesis' table of the ``utf-8`` codec into its storage directory, unless it is there.

    Schemathesis draws text through the codec, and hypothesis works the table out by encoding every
    code point, about 3 s of CPU, once per storage directory: every run with a new report folder, a
    CI run on a clean clone always. The table is a fact of Python's codec, so it is written here at
    once. A table hypothesis cannot read it works out again itself."""
    from hypothesis.internal.charmap import charmap_file

    path = charmap_file("codec-v2-utf-8")
    if path.exists():
        return
    with contextlib.suppress(OSError):  # a cache: hypothesis works it out when it cannot be written
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with gzip.GzipFile(partial, "wb", mtime=1) as file:
            file.write(json.dumps(_UTF8_TABLE).encode())
        os.replace(partial, path)


@functools.cache
def _without_local_constants() -> None:
    """Keep hypothesis from mixing constants of the "local" modules into the data it draws.

    Now and then hypothesis draws a literal it found in the source of the modules it deems local,
    which here are the suite's own (its messages, rule IDs, option names), not the server's. They
    find nothing the spec-derived strategies do not, they make the data of a ``--seed`` depend on the
    suite's source text, and reading them costs every process about 0.35 s of CPU (each of ``-n``'s
    workers). Hypothesis has no setting for it: its finder is replaced with one that finds nothing.
    Its own constants (``GLOBAL_CONSTANTS``: edge-case numbers and strings) are still drawn."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    none = Constants()
    providers._get_local_constants = lambda: none  # what hypothesis calls, at each draw that may take one
    providers.CONSTANTS_CACHE.cache.clear()  # any found before (a process that drew already) are forgotten


#: Examples per property test of weight 1, by profile.
EXAMPLES: dict[str, int] = {"quick": 8, "default": 30, "thorough": 300}
#: The most steps of one run of the stateful model, by profile.
STEPS: dict[str, int] = {"quick": 6, "default": 8, "thorough": 25}

F = TypeVar("F", bound=Callable[..., Any])


def examples(settings: Settings, weight: float = 1.0) -> int:
    """How many examples a property test of this ``weight`` runs (at least one)."""
    return count(settings.profile, settings.examples, weight)


def count(profile: str, given: int | None, weight: float = 1.0) -> int:
    """:func:`examples` of a ``profile`` and an ``--examples`` (``given``, or ``None``)."""
    base = given if given is not None else EXAMPLES[profile]
    return max(1, round(base * weight))


#: The most parts a long property test is split into (:func:`parts`), and the fewest examples a part runs.
MAX_PARTS = 4
PART_EXAMPLES = 20


@dataclass(frozen=True)
class Part:
    """One part of a property test split by :func:`parts`: the ``index``-th of ``count``."""

    index: int = 0
    count: int = 1

    @property
    def id(self) -> str:
        return f"part{self.index + 1}-of-{self.count}"

    def examples(self, total: int) -> int:
        """This part's share of ``total`` examples: the parts together run exactly ``total``."""
        return total // self.count + (1 if self.index < total % self.count else 0)

    def seed(self, seed: int) -> int:
        """The seed this part draws from: the run's for the first part (so a test kept whole draws what
        it drew before parts existed), one derived from it for the others."""
        if self.index == 0:
            return seed
        return int.from_bytes(hashlib.sha256(f"{seed}/part {self.index}".encode()).digest()[:8], "big")


def parts(profile: str, given: int | None, weight: float = 1.0) -> list[Part]:
    """The parts a long property test of this ``weight`` is split into: one for every
    :data:`PART_EXAMPLES` examples, at most :data:`MAX_PARTS`. Each part is a test of its own, which
    pytest-xdist may run on a worker of its own (``-n``); the parts depend on the profile and
    ``--examples`` only, so a run draws the same examples with or without ``-n``. A profile with few
    examples keeps its test whole: every part starts with hypothesis' simplest example."""
    split = max(1, min(MAX_PARTS, count(profile, given, weight) // PART_EXAMPLES))
    return [Part(index, split) for index in range(split)]


def prepare_hypothesis(settings: Settings) -> None:
    """Before hypothesis draws: its caches in the report folder, its codec table seeded, no local constants."""
    keep_hypothesis_storage_in(settings.report_dir / ".hypothesis")
    _seed_codec_table(settings.report_dir / ".hypothesis")
    _without_local_constants()


def hypothesis_settings(settings: Settings, weight: float = 1.0, **overrides: Any) -> hypothesis.settings:
    """Hypothesis settings for one property test: no database, no deadline, one bug reported; its
    caches kept inside the report folder."""
    prepare_hypothesis(settings)
    options: dict[str, Any] = {
        "max_examples": examples(settings, weight),
        "database": None,
        "deadline": None,
        "derandomize": False,
        "suppress_health_check": list(HealthCheck),
        "report_multiple_bugs": False,
        "print_blob": False,
        "phases": (Phase.explicit, Phase.generate, Phase.shrink),
    }
    options.update(overrides)
    return hypothesis.settings(**options)


def property_test(settings: Settings, weight: float = 1.0, **overrides: Any) -> Callable[[F], F]:
    """Decorate an inner ``@given`` function with the run's profile and seed. Put it above ``@given``."""

    def decorate(test: F) -> F:
        seeded = hypothesis.seed(settings.seed)(test) if settings.seed is not None else test
        return hypothesis_settings(settings, weight, **overrides)(seeded)

    return decorate


def example(test: F) -> F:
    """Decorate the function under ``@given``: the soft violations of an example fail that example
    (``conformance.evidence``), so that hypothesis sees them and shrinks them."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        from conformance.safety import PROCESS

        PROCESS.check()  # a signal received during hypothesis' own work ends the run here
        result = test(*args, **kwargs)
        evidence.flush()
        return result

    return cast(F, run)
