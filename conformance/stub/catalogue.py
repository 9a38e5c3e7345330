"""The registry of named faults and conformant variants of the reference stub, and their helpers.

A **fault** is the kind of bug real servers ship, in a few lines: a subclass of
:class:`~conformance.stub.app.StubApp` that overrides one step of its pipeline. Its docstring says
what goes wrong; ``breaks`` names the MUST rules of CONTRACT.md it violates. The suite must fail
against every fault, and a failing test must name one of those rules.

A **variant** is a conformant server that takes a freedom (F1-F18) the other way from the
reference stub, or that breaks only SHOULD rules (``warns``). The suite must pass against every
variant; SHOULD violations are warnings.

Serve one with ``conformance stub --fault NAME`` or run the suite against it in-process with
``pytest conformance --stub-fault NAME``. ``tests/test_mutation.py`` runs them all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import ClassVar

from conformance.fields import JSON, Constraint, FieldSpec
from conformance.stub.app import _NOT_FOUND_MESSAGE, Collection, Rejected, Reply, StubApp


class Fault(StubApp):
    """A stub with one realistic bug; ``breaks`` names the MUST rules it violates."""

    kind: ClassVar[str] = "fault"
    breaks: ClassVar[tuple[str, ...]] = ()
    #: The profile (and, when set, examples per property test) the suite needs to catch it.
    profile: ClassVar[str] = "quick"
    examples: ClassVar[int | None] = None


class Variant(StubApp):
    """A conformant stub that takes freedom ``freedom`` the other way (or breaks SHOULD rules only)."""

    kind: ClassVar[str] = "variant"
    freedom: ClassVar[str] = ""
    #: SHOULD rules this variant breaks on purpose: the suite should warn on each, and still pass.
    warns: ClassVar[tuple[str, ...]] = ()
    profile: ClassVar[str] = "quick"
    examples: ClassVar[int | None] = None


CATALOGUE: dict[str, type[StubApp]] = {}


def _entry(cls: type[Fault] | type[Variant]) -> type[Fault] | type[Variant]:
    if cls.name in CATALOGUE or cls.name == StubApp.name:
        raise ValueError(f"duplicate stub name {cls.name!r}")
    CATALOGUE[cls.name] = cls
    return cls


def fault(cls: type[Fault]) -> type[Fault]:
    _entry(cls)
    return cls


def variant(cls: type[Variant]) -> type[Variant]:
    _entry(cls)
    return cls


# ---- helpers shared by several entries ---------------------------------------------------------


def _recode(reply: Reply, code: str, kind: str, status: int | None = None) -> Reply:
    """``reply``'s envelope with another ``error.code``/``error.type`` (and status, when given)."""
    document = json.loads(reply.body)
    document["error"].update(code=code, type=kind)
    if status is not None:
        document["error"]["status"] = reply.status = status
    reply.body = json.dumps(document).encode()
    return reply


def _no_constant(name: str) -> JSON:
    raise ValueError(f"{name} is not JSON")


def _strings(body: Mapping[str, JSON]) -> list[str]:
    return [value for value in body.values() if isinstance(value, str)]


@dataclasses.dataclass(frozen=True)
class Changed:
    """One constraint of a field's declaration changed relative to the spec the stub is built from:
    ``by`` added to a length limit (an off-by-one), ``dropped`` (a forgotten check) or set ``to`` a value."""

    field: str
    constraint: Constraint
    by: int = 0
    dropped: bool = False
    to: int | None = None

    def apply(self, spec: FieldSpec) -> FieldSpec:
        if self.constraint is Constraint.PATTERN:
            if not self.dropped:
                raise ValueError(f"{self}: a pattern can only be dropped")
            return dataclasses.replace(spec, pattern=None)
        if self.constraint not in (Constraint.MIN_LENGTH, Constraint.MAX_LENGTH):
            raise ValueError(f"{self}: only a length limit or a pattern can be changed")
        length = None if self.dropped else self.to if self.to is not None else spec.limit(self.constraint) + self.by
        if self.constraint is Constraint.MIN_LENGTH:
            return dataclasses.replace(spec, min_length=length)
        return dataclasses.replace(spec, max_length=length)


def _validate_with(app: StubApp, body: JSON, *changes: Changed) -> None:
    """The reference validation, with some constraints of the app's declarations changed."""
    app.validate_with(body, tuple(change.apply(app.spec(change.field)) for change in changes))


class _RuleFault(Fault):
    """Validates with some constraints changed: an off-by-one, a forgotten check."""

    changes: ClassVar[tuple[Changed, ...]] = ()

    def validate(self, body: JSON) -> None:
        _validate_with(self, body, *self.changes)


class _NotFoundLeaks(Fault):
    """The 404 for a collection that exists but is not the caller's carries ``leaked()`` in ``details``."""

    breaks: ClassVar[tuple[str, ...]] = ("OWN-5",)

    def leaked(self, collection: Collection) -> dict[str, JSON]:
        raise NotImplementedError

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        collection = self.collections.get(collection_id)
        try:
            return super().find(caller, org_id, collection_id)
        except Rejected:
            if collection is None:
                raise
            details = {"collection_id": collection_id, **self.leaked(collection)}
            raise Rejected(self.error(404, _NOT_FOUND_MESSAGE, details)) from None
