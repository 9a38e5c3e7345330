"""Faults whose consequences reach far beyond the request that broke a rule: the verdict must name the
rule that was broken (SEM-5 for an applied ``id``), not every later test that meets its consequences,
and must say FAIL even when the collection cannot be put back afterwards."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.fields import JSON
from conformance.stub.app import Collection
from conformance.stub.catalogue import Fault, fault


@fault
class IdApplied(Fault):
    """SEM-5: mass assignment: an ``id`` sent in the body is stored as the collection's id (the row is
    still found under its old key, but every later answer shows the new id)."""

    name = "id-applied"
    breaks = ("SEM-5",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        if isinstance(body.get("id"), str):
            collection.id = str(body["id"])


@fault
class IdRekeyed(Fault):
    """SEM-5: an ``id`` sent in the body re-keys the row: the collection now lives under the new id,
    its old id is not found any more, and it cannot be put back through its old id (the restore fails)."""

    name = "id-rekeyed"
    breaks = ("SEM-5",)

    def apply(self, collection: Collection, body: Mapping[str, JSON]) -> None:
        super().apply(collection, body)
        new = body.get("id")
        if isinstance(new, str) and new != collection.id and new not in self.collections:
            del self.collections[collection.id]
            collection.id = new
            self.collections[new] = collection
