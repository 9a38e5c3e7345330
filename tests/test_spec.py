"""The hand-written OpenAPI document: valid, faithful to the page, and in step with ``conformance.rules``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from conformance import rules, spec_path

from .conftest import ROOT

PAGE = ROOT.parent / "shared" / "seed" / "000_a420eaffc42b4c6a.txt"
PATH = "/v1/music/{organization_id}/collections/{collection_id}"


def _load() -> dict[str, Any]:
    return yaml.safe_load(spec_path().read_text(encoding="utf-8"))  # type: ignore[no-any-return]


SPEC = _load()


def _resolve(node: Any) -> Any:
    """The document with every local ``$ref`` inlined (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = SPEC
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target)
        return {k: _resolve(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v) for v in node]
    return node


def _strip_docs(schema: Any) -> Any:
    if isinstance(schema, dict):
        docs = ("description", "summary", "example", "examples")
        return {k: _strip_docs(v) for k, v in schema.items() if not ((k in docs and not isinstance(v, dict)) or k == "examples")}
    return schema


PATCH = _resolve(SPEC["paths"][PATH]["patch"])
REQUEST_SCHEMA = PATCH["requestBody"]["content"]["application/json"]["schema"]


def test_document_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_the_packaged_spec_is_the_one_in_openapi_dir() -> None:
    assert spec_path().read_bytes() == (ROOT / "openapi" / "music-collections.yaml").read_bytes()


def test_operation_as_the_page_describes_it() -> None:
    params = {p["name"]: p for p in _resolve(SPEC["paths"][PATH]["parameters"])}
    assert set(params) == {"organization_id", "collection_id"}
    assert all(p["in"] == "path" and p["required"] for p in params.values())
    assert params["collection_id"]["schema"]["pattern"] == "^" + rules.COLLECTION_ID_PREFIX
    assert SPEC["components"]["securitySchemes"]["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert SPEC["security"] == [{"ApiKey": []}]
    assert set(PATCH["responses"]) == {"200", "401", "404", "422"}
    assert "get" in SPEC["paths"][PATH]
    assert "required" not in REQUEST_SCHEMA


def test_field_rules_and_spec_agree() -> None:
    assert _strip_docs(REQUEST_SCHEMA) == rules.request_schema()
    assert _strip_docs(_resolve(SPEC["components"]["schemas"]["Collection"])) == rules.RESPONSE_SCHEMA
    assert _strip_docs(_resolve(SPEC["components"]["schemas"]["Error"])) == rules.ERROR_SCHEMA


def _examples() -> list[tuple[str, Any, Any]]:
    found = []
    for status, response in PATCH["responses"].items():
        media = response["content"]["application/json"]
        for name, example in media.get("examples", {}).items():
            found.append((f"{status}:{name}", media["schema"], example["value"]))
    for name, example in PATCH["requestBody"]["content"]["application/json"]["examples"].items():
        found.append((f"request:{name}", REQUEST_SCHEMA, example["value"]))
    return found


@pytest.mark.parametrize(("name", "schema", "value"), _examples(), ids=[e[0] for e in _examples()])
def test_spec_examples_validate(name: str, schema: Any, value: Any) -> None:
    jsonschema.Draft202012Validator(schema).validate(value)


def _page_examples(page: Path) -> dict[str, Any]:
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"```json (\d{3}) [^\n]*\n(.*?)```", text, re.S)
    found = {status: json.loads(body) for status, body in blocks}
    request = re.search(r"-d '(\{.*?\})'", text)
    assert request is not None
    found["request"] = json.loads(request.group(1))
    return found


@pytest.mark.skipif(not PAGE.exists(), reason="the API page (../shared/seed) is not beside this checkout")
def test_every_page_example_is_in_the_spec_and_validates() -> None:
    examples = {name.split(":")[0]: (schema, value) for name, schema, value in _examples()}
    page = _page_examples(PAGE)
    assert set(page) == {"200", "401", "404", "422", "request"}
    for status, value in page.items():
        schema, spec_value = examples[status]
        assert spec_value == value, f"the spec's {status} example is not the page's"
        jsonschema.Draft202012Validator(schema).validate(value)


REJECTED = {
    "empty name": {"name": ""},
    "513-character name": {"name": "n" * 513},
    "null name": {"name": None},
    "number description": {"description": 5},
    "1025-character URL": {"cover_image_url": "https://e.com/" + "a" * 1011},
    "array body": [],
    "string body": "name",
    "track id without prefix": {"cover_track_id": "track_1"},
    "boolean URL": {"cover_image_url": True},
}
ACCEPTED = {
    "empty body": {},
    "1-character name": {"name": "n"},
    "512 astral characters": {"name": "\U0001f3b5" * 512},
    "nulls": {"description": None, "cover_track_id": None, "cover_image_url": None},
    "1024-character URL": {"cover_image_url": "https://e.com/" + "a" * 1010},
    "unknown field (F2)": {"colour": "blue"},
}


@pytest.mark.parametrize("body", REJECTED.values(), ids=REJECTED.keys())
def test_request_schema_rejects_bodies_that_break_a_rule(body: Any) -> None:
    assert not jsonschema.Draft202012Validator(REQUEST_SCHEMA).is_valid(body)
    assert rules.body_errors(body), "the field rules must agree"


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_request_schema_accepts_good_bodies(body: Any) -> None:
    jsonschema.Draft202012Validator(REQUEST_SCHEMA).validate(body)
    assert rules.body_errors(body) == []
