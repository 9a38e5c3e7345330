"""The malformed-JSON corpus: every case is malformed per RFC 8259, every production and mutation class
is met, what the grammar allows or F17 leaves free is kept out, and the recognizer is right both ways."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import malformed

CASES = malformed.CASES


def _python_json(text: str) -> object:
    """Python's json, with the constants it accepts beyond the grammar (NaN, Infinity) refused."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_every_case_is_malformed_per_rfc_8259(case: malformed.Case) -> None:
    text = case.body.decode("utf-8")  # valid UTF-8: F17's replacement never applies to a case
    assert not text.startswith("\ufeff")
    assert not malformed.is_json_text(text), case.why
    with pytest.raises(ValueError):
        _python_json(text)
    assert malformed.classify(case.body) == "malformed"
    with_marker = case.body_with(malformed.new_marker())
    assert malformed.classify(with_marker) == "malformed"
    assert malformed.MARKER.encode() not in with_marker


def test_cases_cover_every_production_and_mutation_class_and_stay_few() -> None:
    assert {case.production for case in CASES} == set(malformed.PRODUCTIONS)
    assert {case.mutation for case in CASES} == set(malformed.MUTATIONS)
    assert 40 <= len(CASES) <= 80, len(CASES)
    assert len(malformed.BY_ID) == len(CASES), "case ids are unique"
    for required in ("trailing-content", "second-value", "comment", "single-quote", "unquoted-key", "trailing-comma",
                     "leading-zero", "plus-sign", "bare-fraction", "bare-point", "hex", "non-finite",
                     "control-character", "bad-escape", "truncation", "missing-colon", "missing-comma", "bare-word"):  # fmt: skip
        assert required in malformed.MUTATIONS
    assert {c.id.split("/")[1] for c in CASES if c.mutation == "non-finite"} == {"nan", "infinity", "minus-infinity"}
    assert {c.id.split("/")[1] for c in CASES if c.mutation == "comment"} >= {"block-comment", "line-comment"}


def test_a_description_value_in_a_case_is_the_marker_and_every_case_names_its_source() -> None:
    for case in CASES:
        if b'"description": "' in case.body:
            assert b'"description": "' + malformed.MARKER.encode() in case.body, case.id
        assert case.source.startswith("RFC 8259 §")
    assert sum(malformed.MARKER.encode() in case.body for case in CASES) >= len(CASES) - 8


def test_truncations_are_proper_prefixes_of_a_valid_base_at_every_level() -> None:
    assert malformed.is_json_text(malformed.BASE)
    truncated = [case for case in CASES if case.mutation == "truncation"]
    assert {case.production for case in truncated} >= {"object", "member", "array", "string", "escape", "number", "literal"}
    for case in truncated:
        assert malformed.BASE.encode().startswith(case.body)
        assert case.body != malformed.BASE.encode()


def test_free_forms_are_not_malformed() -> None:
    kinds = {name: malformed.classify(body) for name, (body, _) in malformed.FREE_FORMS.items()}
    assert kinds == {
        "zero-bytes": "free",
        "not-utf-8": "free",
        "duplicate-key": "json",
        "byte-order-mark": "free",
        "lone-surrogate-escape": "json",
    }
    assert not {body for body, _ in malformed.FREE_FORMS.values()} & {case.body for case in CASES}


WELL_FORMED = [
    "0", "-0", "1E+2", "1e-2", "-1.5e+300", "123456789012345678901234567890", '"\\/"', '"\\b\\f\\n\\r\\t\\"\\\\"',
    '"\\u00e9\\uD834\\uDD1E"', '"\\ud800"', '"\x7f\u2028\u00e9\U0001f3b5"', ' \t\r\n{ "a" : [ ] , "" : { } } \t\r\n',
    '{"a": 1, "a": 2}', "[true, false, null]", "[[[[[[[[]]]]]]]]", '{"a":{"b":{"c":[{"d":null}]}}}', '""',
]  # fmt: skip
NOT_JSON = ["", " ", "{", "}", "[1,]", "01", "1.", ".1", "+1", "NaN", "[1 2]", '{"a" 1}', '"\t"', '"\\x"', "truex", "nul", "[]]"]


@pytest.mark.parametrize("text", WELL_FORMED)
def test_the_recognizer_accepts_what_the_grammar_allows(text: str) -> None:
    assert malformed.is_json_text(text)
    assert malformed.classify(text.encode("utf-8", "surrogatepass")) == "json"


@pytest.mark.parametrize("text", NOT_JSON)
def test_the_recognizer_refuses_what_the_grammar_does_not(text: str) -> None:
    assert not malformed.is_json_text(text)


def test_the_recognizer_takes_any_depth() -> None:
    assert malformed.is_json_text("[" * 100_000 + "]" * 100_000)
    assert not malformed.is_json_text("[" * 100_000 + "]" * 99_999)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON_VALUES, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_the_recognizer_accepts_every_document_python_writes(value: object, ensure_ascii: bool, indent: int | None) -> None:
    assert malformed.is_json_text(json.dumps(value, ensure_ascii=ensure_ascii, indent=indent))


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("{}[],:\"\\ -+.0123456789eEtrufalsn\t\n\x00'x/*")), max_size=12))
def test_the_recognizer_agrees_with_python_json_on_short_texts(text: str) -> None:
    try:
        _python_json(text)
    except (ValueError, RecursionError):
        python = False
    else:
        python = True
    assert malformed.is_json_text(text) == python, text


def test_a_marker_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="must be of the shape"):
        CASES[0].body_with("probe-x")
    assert malformed.new_marker() != malformed.new_marker()
