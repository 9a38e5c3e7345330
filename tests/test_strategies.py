"""The public strategies: exact lengths in code points, valid values, omitted-vs-null, invalid bodies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import fields, strategies
from conformance.strategies import CHARACTER_CLASSES, InvalidBody, Patch

FAST = settings(max_examples=25, deadline=None, database=None)


@FAST
@given(data=st.data(), length=st.sampled_from([0, 1, 511, 512, 513, 1023, 1024, 1025]))
def test_text_has_the_exact_length_in_code_points(data: st.DataObject, length: int) -> None:
    value = data.draw(strategies.text(length=length))
    assert len(value) == length


@pytest.mark.parametrize("cls", ["two_byte", "three_byte", "astral"])
@FAST
@given(data=st.data())
def test_text_reaches_the_limit_with_wide_characters(cls: str, data: st.DataObject) -> None:
    """A filler of the class makes the 512-code-point string longer in bytes or UTF-16 units."""
    value = data.draw(strategies.text(length=512, classes=[cls]))
    assert len(value) == 512
    assert len(value.encode("utf-8")) > 512
    if cls == "astral":
        assert len(value.encode("utf-16-le")) // 2 > 512


@FAST
@given(data=st.data(), length=st.integers(1, 600))
def test_nonblank_text_has_a_non_space_character(data: st.DataObject, length: int) -> None:
    value = data.draw(strategies.text(length=length, nonblank=True))
    assert len(value) == length
    assert value.strip() != ""


@FAST
@given(data=st.data(), length=st.sampled_from([1023, 1024, 1025]))
def test_urls_are_https_of_exact_length(data: st.DataObject, length: int) -> None:
    url = data.draw(strategies.urls(length=length, classes=("ascii", "astral")))
    assert len(url) == length
    assert url.startswith("https://")
    assert not any(c.isspace() for c in url)


def test_no_generated_string_holds_control_characters_or_surrogates() -> None:
    pool = "".join(CHARACTER_CLASSES.values())
    assert not fields.has_control(pool)
    assert fields.has_control("a\u202eb")
    assert fields.has_control("\x00")


@FAST
@given(data=st.data())
def test_valid_values_satisfy_the_field_declarations(data: st.DataObject) -> None:
    for field in fields.FIELD_NAMES:
        value = data.draw(strategies.valid_values(field, tracks=(fields.TRACK_ID_PREFIX + "1",)))
        assert fields.FIELDS_BY_NAME[field].error(value) is None
        if field == "name":
            assert isinstance(value, str)
            assert value.strip()
        if field == "description" and value is not None:
            assert len(value) <= fields.FREE_TEXT_LIMIT  # freedom F12


@FAST
@given(value=strategies.valid_values("cover_track_id"))
def test_cover_track_id_without_tracks_is_null_only(value: object) -> None:
    assert value is None


@FAST
@given(patch=strategies.patches(tracks=("mtrack_1", "mtrack_2")))
def test_patches_make_omitted_and_null_explicit(patch: Patch) -> None:
    assert set(patch.sent) | set(patch.omitted) == set(fields.FIELD_NAMES)
    assert not set(patch.sent) & set(patch.omitted)
    assert all(patch.sent[f] is None for f in patch.nulled)
    assert fields.body_errors(patch.body) == []
    assert "omitted=" in repr(patch)


def test_patches_cover_every_subset_and_null() -> None:
    seen: set[frozenset[str]] = set()
    nulls: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(patch=strategies.patches(tracks=("mtrack_1",)))
    def collect(patch: Patch) -> None:
        seen.add(frozenset(patch.sent))
        nulls.update(patch.nulled)

    collect()
    assert len(seen) >= 12
    assert nulls == set(fields.NULLABLE_FIELDS)


@FAST
@given(case=strategies.invalid_bodies())
def test_invalid_bodies_break_the_rule_they_name(case: InvalidBody) -> None:
    if case.raw is not None:
        with pytest.raises(ValueError):
            _strict_json(case.raw)
        return
    errors = fields.body_errors(case.body)
    assert errors, case
    if case.field is not None:
        assert errors[0].field == case.field
        assert case.rule in (errors[0].rule_id, fields.FIELDS_BY_NAME[case.field].rules.code_points)


def test_invalid_bodies_cover_every_validation_rule() -> None:
    assert {c.rule for c in strategies.invalid_field_values()} == {"VAL-1", "VAL-2", "VAL-3", "VAL-4", "VAL-5", "VAL-6", "VAL-7"}


@FAST
@given(data=strategies.malformed_json())
def test_malformed_json_does_not_parse(data: bytes) -> None:
    with pytest.raises(ValueError):
        _strict_json(data)


def _strict_json(data: bytes) -> object:
    def reject(name: str) -> None:
        raise ValueError(name)

    return json.loads(data.decode("utf-8"), parse_constant=reject)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: strategies.text(length=-1), "length=-1 must be a non-negative integer"),
        (lambda: strategies.text(length=3, classes=["klingon"]), "unknown classes"),
        (lambda: strategies.text(length=3, classes="ascii"), "must be a non-empty sequence"),
        (lambda: strategies.urls(length=5), "too short for a URL"),
        (lambda: strategies.valid_values("colour"), "field='colour' must be one of"),
        (lambda: strategies.patches(fields=["colour"]), "names unknown fields"),
        (lambda: strategies.patches(min_fields=9), "min_fields=9 must be between"),
        (lambda: strategies.invalid_bodies(rules=["AUTH-1"]), "selects no invalid body"),
    ],
)
def test_arguments_are_checked_up_front_naming_the_argument(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
