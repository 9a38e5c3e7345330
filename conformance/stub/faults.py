"""Named faults and conformant variants of the reference stub (filled in by the Mutation issue)."""

from __future__ import annotations

from conformance.stub.app import StubApp

CATALOGUE: dict[str, type[StubApp]] = {}
