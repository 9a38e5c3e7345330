"""Conformance suite for PATCH /v1/music/{organization_id}/collections/{collection_id}."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def spec_path() -> Path:
    """The hand-written OpenAPI document: packaged with a wheel, or ``openapi/`` of a checkout."""
    packaged = Path(__file__).parent / "openapi" / "music-collections.yaml"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parent.parent / "openapi" / "music-collections.yaml"
