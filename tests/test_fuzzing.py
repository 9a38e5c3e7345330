"""Self-tests of ``conformance.fuzzing``: the generation schema, the verdicts per body, the mapping of
schemathesis failures to rule IDs, and the schemathesis tests run against servers that take every
freedom (they must pass) and against broken ones (they must fail, naming the rule)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import jsonschema
import pytest
from hypothesis import given
from schemathesis.checks import CHECKS, load_all_checks

from conformance import checks, evidence, fields, fuzzing, requirements
from conformance.checks import Violation
from conformance.client import Exchange
from conformance.config import Secret, Settings
from conformance.fields import JSON, FieldSpec
from conformance.fuzzing import ANY_2XX, ANY_4XX, Case, Expectation
from conformance.stub import RunningStub, StubApp, variants

from .conftest import run_suite, target_options

TRACKS = ("mtrack_8d2e1f6a3c9b", "mtrack_1b7c4e9d2a05")
NAME_MAX = fields.NAME.limit(fields.Constraint.MAX_LENGTH)
URL_MAX = fields.COVER_IMAGE_URL.limit(fields.Constraint.MAX_LENGTH)
SETTINGS = Settings(
    base_url="http://127.0.0.1:9", api_key=Secret("sk_never_shown"), org_id="org_1", collection_id="mcoll_1", track_ids=TRACKS
)
SAMPLING = hypothesis.settings(
    max_examples=150, database=None, derandomize=True, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e"


# ---- the generation schema --------------------------------------------------------------------


def test_generation_schema_is_derived_from_the_field_rules() -> None:
    schema = fuzzing.generation_body_schema(TRACKS)
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert tuple(props) == fields.FIELD_NAMES
    assert (props["name"]["minLength"], props["name"]["maxLength"]) == (fields.NAME.min_length, fields.NAME.max_length)
    assert props["name"]["type"] == "string"
    assert props["description"]["maxLength"] == fuzzing.TEXT_LIMIT == fields.FREE_TEXT_LIMIT
    assert props["cover_image_url"]["maxLength"] == fields.COVER_IMAGE_URL.max_length
    assert props["cover_track_id"] == {"enum": [None, *TRACKS]}
    assert fuzzing.generation_body_schema(())["properties"]["cover_track_id"] == {"enum": [None]}


def test_generation_field_schema_follows_a_changed_declaration() -> None:
    spec = FieldSpec("title", nullable=False, min_length=2, max_length=10)
    assert fuzzing.generation_field_schema(spec) == {
        "type": "string",
        "minLength": 2,
        "maxLength": 10,
        "pattern": f"^{fuzzing.SAFE_CHARACTER}*{fuzzing.VISIBLE_CHARACTER}{fuzzing.SAFE_CHARACTER}*$",
    }
    assert fuzzing.generation_field_schema(FieldSpec("ref", nullable=False, pattern="^x_"), ("x_1", "y_2")) == {"enum": ["x_1"]}
    assert fuzzing.generation_field_schema(FieldSpec("ref", nullable=False, pattern="^x_")) is None


def test_generation_document_replaces_only_the_request_body() -> None:
    document = fuzzing.generation_document(TRACKS)
    body = document["paths"][fuzzing.PATH]["patch"]["requestBody"]["content"]["application/json"]
    assert body == {"schema": fuzzing.generation_body_schema(TRACKS)}
    canonical = fuzzing.operation("negative").schema.raw_schema
    assert document["components"] == canonical["components"]
    assert document["paths"][fuzzing.PATH]["patch"]["responses"] == canonical["paths"][fuzzing.PATH]["patch"]["responses"]


def _takes_no_freedom(body: Mapping[str, JSON]) -> list[str]:
    """Independent of the module under test: what a strict server could object to."""
    problems = [f"unknown field {k!r}" for k in body if k not in fields.FIELD_NAMES]
    problems += [f"{e.field}: {e.message}" for e in fields.body_errors(body)]
    for name, value in body.items():
        if not isinstance(value, str):
            continue
        if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
            problems.append(f"{name}: control character or surrogate")
        if name == "name" and not value.strip(" \t\n\r\x0b\x0c\u00a0\u3000" + ZERO_WIDTH).strip():
            problems.append("name: blank")
        if name == "description" and len(value) > fields.FREE_TEXT_LIMIT:
            problems.append("description: over F12's limit")
        if name == "cover_image_url":
            parts = urlsplit(value)
            if parts.scheme != "https" or not parts.hostname or not re.fullmatch(r"[A-Za-z0-9/._~-]*", parts.path):
                problems.append(f"cover_image_url: not a plain https URL: {value!r}")
        if name == "cover_track_id" and value not in TRACKS:
            problems.append(f"cover_track_id: not a configured track: {value!r}")
    return problems


@SAMPLING
@given(case=fuzzing.cases(SETTINGS, "strict"))
def test_strict_data_takes_no_freedom_and_is_pinned(case: Case) -> None:
    assert case.path_parameters == {"organization_id": "org_1", "collection_id": "mcoll_1"}
    assert not case.headers
    assert isinstance(case.body, dict)
    assert _takes_no_freedom(case.body) == []
    jsonschema.validate(case.body, fields.request_schema())
    expectation = fuzzing.expect_valid(fuzzing.encode(case.body), "strict", TRACKS)
    assert expectation.allowed == ANY_2XX


@SAMPLING
@given(case=fuzzing.cases(SETTINGS, "spec"))
def test_spec_positive_data_breaks_no_rule(case: Case) -> None:
    assert fuzzing.only_body_varies(case)
    expectation = fuzzing.expect_valid(fuzzing.encode(case.body), "spec", TRACKS)
    assert expectation.allowed >= ANY_2XX
    assert (expectation.allowed == ANY_2XX) == (not expectation.freedoms and expectation.why.endswith("no freedom"))


def test_strict_data_varies() -> None:
    seen: list[dict[str, JSON]] = []

    @SAMPLING
    @given(case=fuzzing.cases(SETTINGS, "strict"))
    def collect(case: Case) -> None:
        assert isinstance(case.body, dict)
        seen.append(case.body)

    collect()
    sent = {name for body in seen for name in body}
    assert sent == set(fields.FIELD_NAMES)
    assert {} in seen
    assert any(body.get("cover_track_id") in TRACKS for body in seen)
    assert any(any(ord(c) > 127 for c in body.get("name", "")) for body in seen)


# ---- verdicts per body ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "freedoms"),
    [
        ({}, ()),
        ({"name": "Deep Work", "description": None, "cover_track_id": TRACKS[0]}, ()),
        ({"cover_image_url": "https://cdn.example.com/covers/a.png"}, ()),
        ({"name": "x", "colour": "red"}, ("F2",)),
        ({"track_count": 3}, ("F3",)),
        ({"cover_track_id": "mtrack_unknown"}, ("F4",)),
        ({"cover_image_url": "cover.png"}, ("F5",)),
        ({"description": "a\x00b"}, ("F10",)),
        ({"name": "tab\there"}, ("F10",)),
        ({"name": "\ud800"}, ("F10",)),
        ({"x": ["\x07"]}, ("F2", "F10")),
        ({"name": " \u3000\u200b"}, ("F11",)),
        ({"description": "d" * (fields.FREE_TEXT_LIMIT + 1)}, ("F12",)),
        ({"description": "d" * fields.FREE_TEXT_LIMIT}, ()),
    ],
)
def test_freedoms_taken(body: dict[str, JSON], freedoms: tuple[str, ...]) -> None:
    assert fuzzing.freedoms_taken(body, TRACKS) == freedoms


def test_expect_valid_allows_the_rejection_of_each_freedom_only() -> None:
    strict = fuzzing.expect_valid(b'{"name": "ok"}', "spec", TRACKS)
    assert (strict.allowed, strict.rejected_rule) == (ANY_2XX, "VAL-3")
    assert fuzzing.expect_valid(b'{"cover_image_url": "x"}', "spec").allowed == ANY_2XX | {422}
    assert fuzzing.expect_valid(b'{"cover_track_id": "mtrack_zz"}', "spec", TRACKS).allowed == ANY_2XX | {404, 422}
    assert fuzzing.expect_valid(b'{"description": "\\ud800"}', "spec").allowed == ANY_2XX | {400, 422}
    with pytest.raises(ValueError, match="not a valid body"):
        fuzzing.expect_valid(b'{"name": ""}', "spec")
    with pytest.raises(ValueError, match="takes freedoms"):
        fuzzing.expect_valid(b'{"colour": "red"}', "strict")


@pytest.mark.parametrize(
    ("content", "rule_id", "allowed"),
    [
        (b"{", "VAL-8", ANY_4XX),
        (b"\xff\xfe", "VAL-8", ANY_4XX),
        (b"[]", "VAL-8", ANY_4XX),
        (b"null", "VAL-8", ANY_4XX),
        (b'"name"', "VAL-8", ANY_4XX),
        (b'{"name": ""}', "VAL-1", {422}),
        (b'{"name": "' + b"n" * (NAME_MAX + 1) + b'"}', "VAL-2", {422}),
        (b'{"name": null}', "VAL-4", {422}),
        (b'{"name": 5}', "VAL-5", {422}),
        (b'{"description": ["a"]}', "VAL-5", {422}),
        (b'{"cover_image_url": "' + b"u" * (URL_MAX + 1) + b'"}', "VAL-6", {422}),
        (b'{"cover_track_id": "trk_1"}', "VAL-7", ANY_4XX),
        (b'{"name": "", "cover_track_id": "mtrack_unknown"}', "VAL-1", {404, 422}),
        (b'{"name": "", "cover_track_id": "mtrack_8d2e1f6a3c9b"}', "VAL-1", {422}),
        (b'{"name": true, "note": "\\udc00"}', "VAL-5", {400, 422}),
        (b'{"name": NaN}', "VAL-8", ANY_4XX),  # NaN is not JSON (RFC 8259 §6)
        (b'{"name": 5, "colour": "red"}', "VAL-5", {422}),
    ],
)
def test_expect_invalid(content: bytes, rule_id: str, allowed: set[int]) -> None:
    expectation = fuzzing.expect_invalid(content, TRACKS)
    assert expectation is not None
    assert (expectation.accepted_rule, expectation.allowed) == (rule_id, frozenset(allowed))
    assert expectation.rule_for(200) == rule_id
    assert expectation.rule_for(500) == "RESP-3"
    assert expectation.rule_for(415) == (None if 415 in allowed else "VAL-10")


@pytest.mark.parametrize(
    "content",
    [
        b"{}",
        b'{"colour": 5}',
        b'{"description": "d"}',
        b'{"cover_track_id": "mtrack_unknown"}',
        b'{"name": "", "name": "x"}',
        b"",  # F17: taken as {}
        b'{"name": "\xff"}',  # F17: U+FFFD
    ],
)
def test_bodies_some_server_may_accept_are_not_negative(content: bytes) -> None:
    assert fuzzing.expect_invalid(content, TRACKS) is None


@SAMPLING
@given(case=fuzzing.cases(SETTINGS, "negative"))
def test_every_kept_negative_body_breaks_a_rule(case: Case) -> None:
    assert case.path_parameters == {"organization_id": "org_1", "collection_id": "mcoll_1"}
    assert fuzzing.only_body_varies(case)
    content = fuzzing.encode(case.body)
    expectation = fuzzing.expect_invalid(content, TRACKS)
    if expectation is None:
        return
    assert expectation.rule_for(200) in requirements.BY_ID
    assert not expectation.allowed & ANY_2XX
    try:
        value = json.loads(content)
    except ValueError:
        return
    if isinstance(value, dict):
        assert fields.body_errors(value), value


def test_negative_generation_is_mostly_kept() -> None:
    kept = []

    @SAMPLING
    @given(case=fuzzing.cases(SETTINGS, "negative"))
    def collect(case: Case) -> None:
        kept.append(fuzzing.expect_invalid(fuzzing.encode(case.body), TRACKS) is not None)

    collect()
    assert sum(kept) >= 0.9 * len(kept)


def test_negative_data_is_blamed_on_the_rule_the_table_gives_its_constraint() -> None:
    """``expect_invalid`` takes the rule from the field's error (the table), not from its own mapping."""
    for spec in fields.BODY_FIELDS:
        for constraint, rule_id in spec.rules.broken.items():
            value = {"null": None, "type": 5, "minLength": "", "pattern": "x"}.get(constraint)
            if constraint is fields.Constraint.MAX_LENGTH:
                value = "x" * (spec.limit(constraint) + 1)
            expectation = fuzzing.expect_invalid(json.dumps({spec.name: value}).encode())
            assert expectation is not None, (spec.name, constraint)
            assert expectation.accepted_rule == rule_id, (spec.name, constraint)


@pytest.mark.parametrize(
    ("body", "blamed", "rule_id"),
    [
        ({}, None, "SEM-4"),
        ({"colour": 1}, None, "SEM-4"),
        ({"description": "d", "name": "n"}, None, "VAL-3"),
        ({"description": "d", "name": "n"}, "description", "SEM-3"),
        ({"description": "d", "cover_image_url": "https://a.example.com"}, None, "VAL-6"),
        ({"description": None}, None, "SEM-2"),
        ({"cover_track_id": TRACKS[0]}, "nonsense", "SEM-3"),
    ],
)
def test_acceptance_rule_id(body: dict[str, JSON], blamed: str | None, rule_id: str) -> None:
    assert fuzzing.acceptance_rule_id(body, blamed) == rule_id


def test_decode_flags_what_a_strict_parser_may_reject() -> None:
    assert fuzzing.decode(b'{"a": "b"}') == ({"a": "b"}, False)
    assert fuzzing.decode(b'{"a": "\\ud800"}')[1]
    assert fuzzing.decode(b'{"\\udfff": 1}')[1]
    assert fuzzing.decode(b"[1e400]")[1]
    assert fuzzing.decode(b"[" * 70 + b"]" * 70)[1]
    for free in (b'{"a": 1, "a": 2}', b"", b'{"a": "\xff"}', b"\xef\xbb\xbf{}"):
        with pytest.raises(LookupError):  # F17, RFC 8259 §8.1: a conformant server may accept these
            fuzzing.decode(free)
    for not_json in (b"{", b"[Infinity]", b'{"a": NaN}', b'{"a": 1} x', b"\xff{}"):
        with pytest.raises(ValueError):
            fuzzing.decode(not_json)


# ---- schemathesis checks and failures as rule IDs ---------------------------------------------


def test_every_schemathesis_check_is_either_on_or_off_with_a_reason() -> None:
    load_all_checks()
    on = {fuzzing.check_name(f) for functions in fuzzing.CHECKS_ON.values() for f in functions}
    assert on.isdisjoint(fuzzing.CHECKS_OFF)
    assert on | set(fuzzing.CHECKS_OFF) == set(CHECKS.get_all_names())
    assert all(reason.strip() for reason in fuzzing.CHECKS_OFF.values())


def _exchange(status: int, body: Any = b"", content_type: str = "application/json", request: bytes = b"{}") -> Exchange:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(
        method="PATCH",
        url="http://127.0.0.1:9/v1/music/org_1/collections/mcoll_1",
        request_headers=(("X-API-Key", "***"), ("Content-Type", "application/json")),
        request_body=request,
        status=status,
        response_headers=(("content-type", content_type),),
        response_body=content,
        elapsed_ms=1.0,
    )


COLLECTION = {
    "id": "mcoll_1",
    "name": "n",
    "description": None,
    "cover_track_id": None,
    "cover_image_url": None,
    "track_count": 0,
    "created_at": "2026-06-28T10:30:00Z",
    "updated_at": "2026-06-28T10:30:00.5+00:00",
}


def _envelope(status: int, code: str, kind: str, **details: str) -> dict[str, Any]:
    return {
        "success": False,
        "error": {
            "code": code, "message": "m", "system_message": "s", "type": kind, "status": status,
            "details": details, "trace_id": "t", "timestamp": "2026-06-28T10:30:00Z",
        },
    }  # fmt: skip


def _case(kind: str) -> Case:
    strategy = fuzzing.cases(SETTINGS, kind)
    found: Case = hypothesis.find(
        strategy,
        lambda c: isinstance(c.body, dict),
        settings=hypothesis.settings(database=None, derandomize=True, phases=[hypothesis.Phase.generate]),
    )
    return found


@pytest.fixture(scope="module")
def strict_case() -> Case:
    return _case("strict")


@pytest.fixture(scope="module")
def negative_case() -> Case:
    return _case("negative")


def _violation(case: Case, exchange: Exchange, expectation: Expectation) -> Violation:
    with pytest.raises(Violation) as raised:
        fuzzing.judge(case, exchange, expectation)
    return raised.value


def test_a_server_error_is_resp_3_with_a_redacted_curl(strict_case: Case) -> None:
    expectation = fuzzing.expect_valid(b'{"name": "x"}', "strict", TRACKS)
    violation = _violation(strict_case, _exchange(500, b"boom", "text/plain"), expectation)
    assert violation.rule_id == "RESP-3"
    assert "curl -sS -X PATCH" in str(violation)
    assert "X-API-Key: ***" in str(violation)


def test_a_refused_valid_body_names_the_blamed_field_rule(strict_case: Case) -> None:
    expectation = fuzzing.expect_valid(b'{"name": "x", "description": "d"}', "strict", TRACKS)
    blamed = _exchange(422, _envelope(422, "VALIDATION_ERROR", "validation_error", field="description"))
    assert _violation(strict_case, blamed, expectation).rule_id == "SEM-3"
    unblamed = _exchange(400, b"bad", "text/plain")
    assert _violation(strict_case, unblamed, expectation).rule_id == "VAL-3"
    assert _violation(strict_case, _exchange(302, b""), fuzzing.expect_valid(b"{}", "strict")).rule_id == "SEM-4"


def test_a_200_that_is_not_the_collection_object_is_resp_1(strict_case: Case) -> None:
    expectation = fuzzing.expect_valid(b"{}", "strict")
    fuzzing.judge(strict_case, _exchange(200, COLLECTION), expectation)
    assert _violation(strict_case, _exchange(200, b"{}", "text/plain"), expectation).rule_id == "RESP-1"
    no_count = {k: v for k, v in COLLECTION.items() if k != "track_count"}
    assert _violation(strict_case, _exchange(200, no_count), expectation).rule_id == "RESP-1"
    spaced = {**COLLECTION, "created_at": "2026-06-28 10:30:00"}
    assert _violation(strict_case, _exchange(200, spaced), expectation).rule_id == "RESP-1"


def test_freedoms_pass_only_with_their_own_rejection(strict_case: Case) -> None:
    f4 = fuzzing.expect_valid(b'{"cover_track_id": "mtrack_zz"}', "spec", TRACKS)
    for status, code, kind in ((404, "RESOURCE_NOT_FOUND", "client_error"), (422, "VALIDATION_ERROR", "validation_error")):
        fuzzing.judge(strict_case, _exchange(status, _envelope(status, code, kind)), f4)
    assert _violation(strict_case, _exchange(400, b"no", "text/plain"), f4).rule_id == "VAL-10"
    bare_404 = _exchange(404, {"detail": "Not Found"})
    assert _violation(strict_case, bare_404, f4).rule_id == "RESP-2"


def test_negative_data_accepted_or_mis_rejected(negative_case: Case) -> None:
    too_long = fuzzing.expect_invalid(b'{"name": "' + b"n" * (NAME_MAX + 1) + b'"}')
    assert too_long is not None
    assert _violation(negative_case, _exchange(200, COLLECTION), too_long).rule_id == "VAL-2"
    assert _violation(negative_case, _exchange(400, _envelope(400, "BAD_REQUEST", "client_error")), too_long).rule_id == "VAL-10"
    assert _violation(negative_case, _exchange(422, {"detail": []}), too_long).rule_id == "RESP-2"
    fuzzing.judge(negative_case, _exchange(422, _envelope(422, "VALIDATION_ERROR", "validation_error")), too_long)
    malformed = fuzzing.expect_invalid(b"{")
    assert malformed is not None
    fuzzing.judge(negative_case, _exchange(400, b"bad json", "text/plain"), malformed)
    assert _violation(negative_case, _exchange(502, b"", "text/plain"), malformed).rule_id == "RESP-3"


@pytest.mark.parametrize(
    ("name", "status", "rule_id"),
    [
        ("not_a_server_error", 500, "RESP-3"),
        ("content_type_conformance", 200, "RESP-1"),
        ("response_schema_conformance", 200, "RESP-1"),
        ("response_schema_conformance", 404, "RESP-2"),
        ("response_schema_conformance", 422, "RESP-2"),
        ("positive_data_acceptance", 422, "SEM-4"),
        ("negative_data_rejection", 200, "VAL-99"),
        ("status_code_conformance", 503, "RESP-3"),
    ],
)
def test_rule_of_each_check(name: str, status: int, rule_id: str) -> None:
    expectation = Expectation("strict", b"{}", ANY_2XX, "why", accepted_rule="VAL-99", rejected_rule="SEM-4")
    assert fuzzing.rule_of(name, _exchange(status), expectation) == rule_id


def test_an_unmapped_check_is_an_error_of_the_suite() -> None:
    with pytest.raises(ValueError, match="ignored_auth"):
        fuzzing.rule_of("ignored_auth", _exchange(200), Expectation("strict", b"{}", ANY_2XX, "why"))


# ---- what was stored --------------------------------------------------------------------------

BEFORE = {"name": "a", "description": "b", "cover_track_id": None, "cover_image_url": None}


@pytest.mark.parametrize(
    ("body", "returned", "stored", "violated"),
    [
        ({"name": "x "}, {**BEFORE, "name": "x "}, {**BEFORE, "name": "x "}, set()),
        ({"name": "x "}, {**BEFORE, "name": "x"}, {**BEFORE, "name": "x"}, {"SEM-3"}),
        ({"description": None}, BEFORE, BEFORE, {"SEM-2"}),
        # PATCH as PUT: the omitted fields are cleared in the answer and in storage
        ({"name": "x"}, {**BEFORE, "name": "x", "description": None}, {**BEFORE, "name": "x", "description": None}, {"SEM-1"}),
        # a server that stores nothing: the 200 said so, a read does not: SEM-6, not SEM-3
        ({"name": "x"}, {**BEFORE, "name": "x"}, BEFORE, {"SEM-6"}),
        ({"name": "x"}, BEFORE, {**BEFORE, "name": "x"}, {"SEM-6"}),
        ({"name": "x"}, {**BEFORE, "name": "x", "description": "z"}, {**BEFORE, "name": "x"}, {"SEM-6"}),
    ],
)
def test_what_was_stored_names_the_rule_broken(
    body: dict[str, JSON], returned: dict[str, JSON], stored: dict[str, JSON], violated: set[str]
) -> None:
    ledger = evidence.Ledger()
    with evidence.recording(ledger):
        checks.applied(body, BEFORE, returned, stored)
    assert {c.rule_id for c in ledger.checks if not c.passed} == violated
    assert {c.rule_id for c in ledger.checks if c.passed} >= {"SEM-6", "SEM-1"} - violated
    assert len(ledger.pending) == len(violated), "each is recorded softly: the test goes on, then fails"


def test_what_was_stored_judges_no_omitted_field_without_a_state_before() -> None:
    """A lane knows no state before (other lanes change the other fields): SEM-1 is not judged, never passed."""
    ledger = evidence.Ledger()
    with evidence.recording(ledger):
        checks.applied(
            {"name": "x"},
            {},
            {**BEFORE, "name": "x", "description": "other lane"},
            {**BEFORE, "name": "x", "description": "other lane"},
        )
    assert {c.rule_id for c in ledger.checks} == {"SEM-3", "SEM-6"}
    assert all(c.passed for c in ledger.checks)


class EveryFreedomStub(
    variants.ValidateBeforeFind,
    variants.RejectUnknownFields,
    variants.RejectReadOnlyFields,
    variants.UnknownTrack404,
    variants.RejectNonHttpUrl,
    variants.RejectControlCharacters,
    variants.RejectBlankName,
    variants.DescriptionMax512,
    variants.MalformedJson400,
    variants.FractionalOffsetTimestamps,
    variants.ExtraResponseFields,
):
    """A conformant server that takes every freedom the schemathesis tests can meet the other way."""

    name = "every-freedom"


class NonAsciiNameCrashes(StubApp):
    """RESP-3: a name that is not Latin-1 makes the server fail with a 500."""

    def validate(self, body: JSON) -> None:
        super().validate(body)
        if isinstance(body, Mapping) and isinstance(body.get("name"), str):
            body["name"].encode("latin-1")  # UnicodeEncodeError: the server answers 500


class NameMaxOffByAHundred(StubApp):
    """VAL-2: the name limit is a hundred over the spec's maximum."""

    def validate(self, body: JSON) -> None:
        relaxed = {k: v for k, v in body.items() if k != "name"} if isinstance(body, Mapping) else body
        super().validate(relaxed)
        name = body.get("name") if isinstance(body, Mapping) else None
        if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX + 100):
            super().validate({"name": name})


def _run_against(app: StubApp, *extra: str) -> tuple[int, str, str]:
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        run = run_suite(*target_options(seed, foreign=False), "-k", "schemathesis", "--seed", "3", *extra)
    return run.returncode, run.output, seed.api_key


def test_a_server_taking_every_freedom_passes(tmp_path: Any) -> None:
    code, output, key = _run_against(EveryFreedomStub(), "--report-dir", str(tmp_path))
    assert code == 0, output
    assert "3 passed" in output
    assert key not in output


@pytest.mark.parametrize(("app", "rule_id"), [(NonAsciiNameCrashes(), "RESP-3"), (NameMaxOffByAHundred(), "VAL-2")])
def test_a_broken_server_fails_naming_the_rule(app: StubApp, rule_id: str, tmp_path: Any) -> None:
    code, output, key = _run_against(app, "--report-dir", str(tmp_path))
    assert code == 1, output
    assert re.search(rf"^FAIL\s+{rule_id}\s", output, re.MULTILINE), output
    assert "reproduce: curl" in output
    assert key not in output


def test_the_codec_table_written_for_hypothesis_is_the_one_it_works_out(tmp_path: Any) -> None:
    """``profiles`` writes hypothesis' table of the ``utf-8`` codec (saving 3 s of CPU per new report
    folder); it must be exactly the table hypothesis works out itself, and read back as that."""
    import gzip

    from hypothesis.configuration import set_hypothesis_home_dir, storage_directory
    from hypothesis.internal import charmap

    from conformance import profiles

    before = storage_directory().path
    try:
        set_hypothesis_home_dir(tmp_path / "own")
        worked_out = [list(map(list, intervals.intervals)) for intervals in charmap.intervals_from_codec.__wrapped__("utf-8")]
        set_hypothesis_home_dir(tmp_path / "seeded")
        profiles._seed_codec_table(tmp_path / "seeded")
        with gzip.GzipFile(charmap.charmap_file("codec-v2-utf-8")) as file:
            written = json.load(file)
        read = [list(map(list, intervals.intervals)) for intervals in charmap.intervals_from_codec.__wrapped__("utf-8")]
    finally:
        set_hypothesis_home_dir(before)
    assert written == worked_out == read


def test_hypothesis_draws_no_constant_found_in_the_suites_own_source() -> None:
    """Hypothesis mixes literals of "local" modules into its data; here those are the suite's own, so
    ``profiles`` turns that off (see ``_without_local_constants``). Without it, hypothesis finds them."""
    import subprocess
    import sys

    from .conftest import ROOT, clean_environ

    script = (
        "import sys\n"
        "from conformance import profiles, checks, fuzzing\n"
        "if sys.argv[1] == 'off': profiles._without_local_constants()\n"
        "from hypothesis.internal.conjecture import providers\n"
        "print(len(providers._get_local_constants()))\n"
    )
    found = {}
    for mode in ("off", "on"):
        done = subprocess.run(
            [sys.executable, "-c", script, mode], cwd=ROOT, env=clean_environ(), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        found[mode] = int(done.stdout.strip().splitlines()[-1])
    assert found["on"] > 0, "hypothesis found no constant in the suite's modules: the test shows nothing"
    assert found["off"] == 0
