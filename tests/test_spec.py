"""The hand-written OpenAPI document: valid, faithful to the page, and read whole by ``conformance.fields``
(the spec is the source: the declarations are read from it, and the table of contract rules covers it)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from conformance import fields, requirements, spec_path
from conformance.fields import Constraint, SpecError

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
NAME_MAX = REQUEST_SCHEMA["properties"]["name"]["maxLength"]
URL_MAX = REQUEST_SCHEMA["properties"]["cover_image_url"]["maxLength"]


def test_document_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_the_packaged_spec_is_the_one_in_openapi_dir() -> None:
    assert spec_path().read_bytes() == (ROOT / "openapi" / "music-collections.yaml").read_bytes()


def test_operation_as_the_page_describes_it() -> None:
    params = {p["name"]: p for p in _resolve(SPEC["paths"][PATH]["parameters"])}
    assert set(params) == {"organization_id", "collection_id"}
    assert all(p["in"] == "path" and p["required"] for p in params.values())
    assert params["collection_id"]["schema"]["pattern"] == "^" + fields.COLLECTION_ID_PREFIX
    assert SPEC["components"]["securitySchemes"]["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert SPEC["security"] == [{"ApiKey": []}]
    assert set(PATCH["responses"]) == {"200", "401", "404", "422"}
    assert "get" in SPEC["paths"][PATH]
    assert "required" not in REQUEST_SCHEMA


def test_the_declarations_read_the_spec_whole() -> None:
    """What the declarations stand for is the spec's schema, keyword for keyword (nothing dropped)."""
    assert fields.DECLARATIONS.source == spec_path()
    assert _strip_docs(REQUEST_SCHEMA) == fields.request_schema()
    assert _resolve(SPEC["components"]["schemas"]["Collection"]) == fields.RESPONSE_SCHEMA
    assert _resolve(SPEC["components"]["schemas"]["Error"]) == fields.ERROR_SCHEMA
    collection = SPEC["components"]["schemas"]["Collection"]["properties"]
    assert tuple(n for n, s in collection.items() if s.get("readOnly")) == fields.READ_ONLY_FIELDS
    assert set(fields.READ_ONLY_FIELDS) == {"id", "track_count", "created_at", "updated_at"}  # SEM-5, F3
    assert REQUEST_SCHEMA["properties"]["cover_track_id"]["pattern"].removeprefix("^") == fields.TRACK_ID_PREFIX
    for status, (code, kind) in fields.ERRORS.items():
        for example in PATCH["responses"][str(status)]["content"]["application/json"]["examples"].values():
            assert (example["value"]["error"]["code"], example["value"]["error"]["type"]) == (code, kind)
    assert set(fields.ERRORS) == {401, 404, 422}


def _declared_constraints(schema: dict[str, Any]) -> set[Constraint]:
    """Independent of the module under test: the constraints the spec declares for one body field."""
    found = {Constraint.TYPE}
    if "null" not in schema["type"]:
        found.add(Constraint.NULL)
    found |= {c for c in (Constraint.MIN_LENGTH, Constraint.MAX_LENGTH, Constraint.PATTERN) if c.value in schema}
    return found


def test_the_table_gives_every_constraint_of_the_spec_its_rule() -> None:
    """Each constraint the spec declares has a rule in the table, and the table names no constraint the
    spec lacks (a new limit in the spec must be given its contract rule there, not fall to VAL-10)."""
    declared = REQUEST_SCHEMA["properties"]
    assert set(fields.RULES_BY_FIELD) == set(declared)
    for name, schema in declared.items():
        rules = fields.RULES_BY_FIELD[name]
        assert set(rules.broken) == _declared_constraints(schema), name
        assert rules.code_points is None or "maxLength" in schema, name
        for rule_id in (*rules.broken.values(), rules.code_points or rules.accepted, rules.accepted):
            assert rule_id in requirements.BY_ID, (name, rule_id)
    expected = {
        ("name", "minLength"): "VAL-1", ("name", "maxLength"): "VAL-2", ("name", "null"): "VAL-4",
        ("name", "type"): "VAL-5", ("cover_image_url", "maxLength"): "VAL-6", ("cover_track_id", "pattern"): "VAL-7",
    }  # fmt: skip
    for (name, constraint), rule_id in expected.items():
        assert fields.FIELDS_BY_NAME[name].rule_id(Constraint(constraint)) == rule_id
    assert (fields.NAME.rules.code_points, fields.COVER_IMAGE_URL.rules.code_points) == ("VAL-3", "VAL-6")


def test_validation_errors_carry_their_rule() -> None:
    cases = {
        ("name", ""): "VAL-1",
        ("name", "n" * (NAME_MAX + 1)): "VAL-2",
        ("name", None): "VAL-4",
        ("description", 5): "VAL-5",
        ("cover_image_url", "u" * (URL_MAX + 1)): "VAL-6",
        ("cover_track_id", "track_1"): "VAL-7",
    }
    for (name, value), rule_id in cases.items():
        (error,) = fields.body_errors({name: value})
        assert (error.field, error.rule_id) == (name, rule_id)
    assert fields.body_errors([])[0].rule_id == "VAL-8"


@pytest.mark.parametrize(
    ("field", "keyword"),
    [("cover_image_url", "format: uri"), ("description", "enum: [a, b]"), ("name", "x-trim: true")],
)
def test_a_keyword_the_suite_cannot_read_is_refused(tmp_path: Path, field: str, keyword: str) -> None:
    """A spec the suite would read wrong (a keyword its validation would ignore) is refused, naming it."""
    text = spec_path().read_text(encoding="utf-8")
    anchor = f"        {field}:\n          type:"
    assert text.count(anchor) == 2  # the request body's field (first), the collection's (second)
    copy = tmp_path / "spec.yaml"
    copy.write_text(text.replace(anchor, f"        {field}:\n          {keyword}\n          type:", 1), encoding="utf-8")
    with pytest.raises(SpecError, match=keyword.split(":")[0]):
        fields.load(copy)


def test_a_body_field_of_another_type_is_refused(tmp_path: Path) -> None:
    text = spec_path().read_text(encoding="utf-8")
    copy = tmp_path / "spec.yaml"
    anchor = "      properties:\n        name:\n"
    copy.write_text(text.replace(anchor, "      properties:\n        rank:\n          type: integer\n        name:\n", 1))
    with pytest.raises(SpecError, match=r"'rank'.*strings"):
        fields.load(copy)


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
    "name over the maximum": {"name": "n" * (NAME_MAX + 1)},
    "null name": {"name": None},
    "number description": {"description": 5},
    "URL over the maximum": {"cover_image_url": "https://e.com/" + "a" * (URL_MAX + 1 - len("https://e.com/"))},
    "array body": [],
    "string body": "name",
    "track id without prefix": {"cover_track_id": "track_1"},
    "boolean URL": {"cover_image_url": True},
}
ACCEPTED = {
    "empty body": {},
    "1-character name": {"name": "n"},
    "the maximum in astral characters": {"name": "\U0001f3b5" * NAME_MAX},
    "nulls": {"description": None, "cover_track_id": None, "cover_image_url": None},
    "a URL of the maximum": {"cover_image_url": "https://e.com/" + "a" * (URL_MAX - len("https://e.com/"))},
    "unknown field (F2)": {"colour": "blue"},
}


@pytest.mark.parametrize("body", REJECTED.values(), ids=REJECTED.keys())
def test_request_schema_rejects_bodies_that_break_a_rule(body: Any) -> None:
    assert not jsonschema.Draft202012Validator(REQUEST_SCHEMA).is_valid(body)
    assert fields.body_errors(body), "the field declarations must agree"


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_request_schema_accepts_good_bodies(body: Any) -> None:
    jsonschema.Draft202012Validator(REQUEST_SCHEMA).validate(body)
    assert fields.body_errors(body) == []
