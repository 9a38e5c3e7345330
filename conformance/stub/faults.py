"""Every named fault and conformant variant of the reference stub (see ``conformance.stub.catalogue``)."""

from __future__ import annotations

from conformance.stub import (
    faults_access,
    faults_found,
    faults_http,
    faults_input,
    faults_state,
    faults_verdict,
    variants,
    variants_http,
)
from conformance.stub.catalogue import CATALOGUE, Fault, Variant

_MODULES = (
    faults_access,
    faults_input,
    faults_http,
    faults_state,
    faults_found,
    faults_verdict,
    variants,
    variants_http,
)  # importing them registers their entries

FAULTS: dict[str, type[Fault]] = {name: cls for name, cls in CATALOGUE.items() if issubclass(cls, Fault)}
VARIANTS: dict[str, type[Variant]] = {name: cls for name, cls in CATALOGUE.items() if issubclass(cls, Variant)}

__all__ = ["CATALOGUE", "FAULTS", "VARIANTS", "Fault", "Variant"]
