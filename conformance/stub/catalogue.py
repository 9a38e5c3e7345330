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

import json
from collections.abc import Mapping
from typing import ClassVar

from conformance import rules
from conformance.rules import JSON, FieldError, FieldRule
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


def _first_error(body: JSON, table: Mapping[str, FieldRule]) -> FieldError | None:
    """The first field rule of ``table`` that ``body`` breaks (the reference's order)."""
    if not isinstance(body, Mapping):
        return FieldError(None, "request body must be a JSON object")
    for rule in table.values():
        if rule.name in body and (message := rule.error(body[rule.name])) is not None:
            return FieldError(rule.name, message)
    return None


def _no_constant(name: str) -> JSON:
    raise ValueError(f"{name} is not JSON")


def _strings(body: Mapping[str, JSON]) -> list[str]:
    return [value for value in body.values() if isinstance(value, str)]


def _validate_with(app: StubApp, body: JSON, replaced: tuple[FieldRule, ...]) -> None:
    """The reference validation, with some field declarations replaced."""
    error = _first_error(body, {**rules.FIELDS_BY_NAME, **{rule.name: rule for rule in replaced}})
    if error is not None:
        raise Rejected(app.validation_error(error))


class _RuleFault(Fault):
    """Validates with some field declarations replaced: an off-by-one, a forgotten check."""

    replaced: ClassVar[tuple[FieldRule, ...]] = ()

    def validate(self, body: JSON) -> None:
        _validate_with(self, body, self.replaced)


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
