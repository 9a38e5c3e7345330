"""Profiles: how hard the property tests search, as hypothesis settings.

``quick`` is for pull requests, ``default`` decides with confidence, ``thorough`` is for nightly
runs; ``--examples N`` overrides the count. The example database is never used (nothing written
to ``.hypothesis/``), and every property test draws from the run's printed seed, so a run is
replayed exactly with ``--seed N``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import hypothesis
from hypothesis import HealthCheck, Phase

from conformance import evidence
from conformance.config import Settings

#: Examples per property test of weight 1, by profile.
EXAMPLES: dict[str, int] = {"quick": 8, "default": 30, "thorough": 300}

F = TypeVar("F", bound=Callable[..., Any])


def examples(settings: Settings, weight: float = 1.0) -> int:
    """How many examples a property test of this ``weight`` runs (at least one)."""
    base = settings.examples if settings.examples is not None else EXAMPLES[settings.profile]
    return max(1, round(base * weight))


def hypothesis_settings(settings: Settings, weight: float = 1.0, **overrides: Any) -> hypothesis.settings:
    """Hypothesis settings for one property test: no database, no deadline, one bug reported."""
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
