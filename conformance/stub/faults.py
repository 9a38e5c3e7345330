"""Named faults and conformant variants of the reference stub, for the suite's self-test.

A **fault** is the kind of bug real servers ship, in a few lines: a subclass of
:class:`~conformance.stub.app.StubApp` that overrides one step of its pipeline. Its docstring says
what goes wrong; ``breaks`` names the MUST rules of CONTRACT.md it violates. The suite must fail
against every fault, and a failing test must name one of those rules.

A **variant** is a conformant server that takes a freedom (F1-F14) the other way from the
reference stub, or that breaks only SHOULD rules (``warns``). The suite must pass against every
variant; SHOULD violations are warnings.

Serve one with ``conformance stub --fault NAME`` or run the suite against it in-process with
``pytest conformance --stub-fault NAME``. ``tests/test_mutation.py`` runs them all.
"""

from __future__ import annotations

from conformance.stub import faults_access, faults_input, faults_state, variants
from conformance.stub.catalogue import CATALOGUE, Fault, Variant

_MODULES = (faults_access, faults_input, faults_state, variants)  # importing them registers their entries

FAULTS: dict[str, type[Fault]] = {name: cls for name, cls in CATALOGUE.items() if issubclass(cls, Fault)}
VARIANTS: dict[str, type[Variant]] = {name: cls for name, cls in CATALOGUE.items() if issubclass(cls, Variant)}

__all__ = ["CATALOGUE", "FAULTS", "VARIANTS", "Fault", "Variant"]
