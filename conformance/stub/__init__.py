"""The bundled reference stub, its faults and its conformant variants."""

from __future__ import annotations

from conformance.stub.app import Seed, StubApp
from conformance.stub.server import RunningStub


def create(name: str | None = None) -> StubApp:
    """A fresh stub: the reference one, or the named fault or variant of ``conformance.stub.faults``."""
    if not name or name == StubApp.name:
        return StubApp()
    from conformance.stub.faults import CATALOGUE

    try:
        return CATALOGUE[name]()
    except KeyError:
        raise ValueError(f"unknown stub fault or variant {name!r}; known: {', '.join(sorted(CATALOGUE))}") from None


__all__ = ["RunningStub", "Seed", "StubApp", "create"]
