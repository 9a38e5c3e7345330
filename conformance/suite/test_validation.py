"""VAL: what is rejected, how, and that a rejected request changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance import checks, malformed, strategies
from conformance.batch import LANE, Answer, Probe
from conformance.client import Client, Exchange
from conformance.config import Settings
from conformance.fields import COVER_IMAGE_URL, JSON, NAME, Constraint
from conformance.requirements import Level
from conformance.strategies import URL_PREFIX, InvalidBody
from conformance.suite.support import probe, stored_in_lane, unique

FIELD_CASES = strategies.invalid_field_values()
#: The spec's limits (``openapi/``, read by ``conformance.fields``): every length below derives from them.
NAME_MIN, NAME_MAX = NAME.limit(Constraint.MIN_LENGTH), NAME.limit(Constraint.MAX_LENGTH)
URL_MAX = COVER_IMAGE_URL.limit(Constraint.MAX_LENGTH)


def _cases(*rule_ids: str) -> list[InvalidBody]:
    return [case for case in FIELD_CASES if case.rule in rule_ids]


def _ids(cases: list[InvalidBody]) -> list[str]:
    return [case.why for case in cases]


def _rejected_unchanged(answer: Answer, case: InvalidBody, statuses: set[int] | range, index: int = 0) -> Exchange:
    """``case`` got one of ``statuses`` (a violation of the case's rule otherwise) and changed nothing (VAL-12)."""
    exchange = answer.get(index)
    # a wrong 4xx still rejects the request: what it changed is judged all the same (VAL-12)
    checks.expect_status(case.rule, exchange, statuses, f"{case.why} is rejected", soft=400 <= exchange.status < 500)
    answer.unchanged("VAL-12", f"a rejected request ({case.why}) changes nothing")
    return exchange


def _case(case: InvalidBody) -> Probe:
    return Probe(body=case.body)


@pytest.mark.requirement("VAL-1", "VAL-12")
@pytest.mark.parametrize("case", _cases("VAL-1"), ids=_ids(_cases("VAL-1")))
@probe(_case)
def test_empty_name_gets_422(answer: Answer, case: InvalidBody) -> None:
    _rejected_unchanged(answer, case, {422})


PADDED_NAMES = [
    InvalidBody("VAL-2", "name", {"name": " " + "n" * NAME_MAX}, f"a space and {NAME_MAX} characters"),
    InvalidBody("VAL-2", "name", {"name": "n" * NAME_MAX + " "}, f"{NAME_MAX} characters and a space"),
    InvalidBody(
        "VAL-2",
        "name",
        {"name": "\u00a0" + "n" * (NAME_MAX - 1) + "\u3000"},
        f"{NAME_MAX - 1} characters between two unusual spaces",
    ),
]


@pytest.mark.requirement("VAL-2", "VAL-12")
@pytest.mark.parametrize("case", _cases("VAL-2") + PADDED_NAMES, ids=_ids(_cases("VAL-2") + PADDED_NAMES))
@probe(_case)
def test_name_over_the_maximum_gets_422(answer: Answer, case: InvalidBody) -> None:
    _rejected_unchanged(answer, case, {422})


NAME_CLASSES = strategies.TEXT_BOUNDARY_CLASSES
#: min, max−1 and max (``strategies.boundaries``).
NAME_LENGTHS = sorted({b.length for b in strategies.boundaries("name") if b.accepted})
_exact = strategies.exact_text


@pytest.mark.requirement("VAL-3", "SEM-3", "SEM-6")
@pytest.mark.parametrize("cls", NAME_CLASSES)
@pytest.mark.parametrize("length", NAME_LENGTHS)
@probe(lambda cls, length: Probe(body={"name": _exact(cls, length)}, lane="name"), kind=LANE)
def test_name_within_its_limits_is_accepted(answer: Answer, settings: Settings, cls: str, length: int) -> None:
    # refusing a name within the limits breaks VAL-3; not storing it exactly, SEM-3
    checks.expect_status("VAL-3", answer.exchange, {200}, f"a name of {length} {cls} code points is accepted")
    stored_in_lane(answer, {"name": _exact(cls, length)}, "SEM-3", settings.collection_id)


def _name_over(cls: str) -> InvalidBody:
    return InvalidBody("VAL-3", "name", {"name": _exact(cls, NAME_MAX + 1)}, f"a name of {NAME_MAX + 1} {cls} code points")


@pytest.mark.requirement("VAL-3", "VAL-12")
@pytest.mark.parametrize("cls", NAME_CLASSES)
@probe(lambda cls: _case(_name_over(cls)))
def test_name_one_over_the_maximum_in_code_points_is_rejected(answer: Answer, cls: str) -> None:
    _rejected_unchanged(answer, _name_over(cls), {422})


@pytest.mark.requirement("VAL-4", "VAL-12")
@probe(lambda: _case(_cases("VAL-4")[0]))
def test_null_name_gets_422(answer: Answer) -> None:
    _rejected_unchanged(answer, _cases("VAL-4")[0], {422})


@pytest.mark.requirement("VAL-5", "VAL-12")
@pytest.mark.parametrize("case", _cases("VAL-5"), ids=_ids(_cases("VAL-5")))
@probe(_case)
def test_wrong_json_type_gets_422_never_coerced(answer: Answer, case: InvalidBody) -> None:
    _rejected_unchanged(answer, case, {422})


URL_CLASSES = strategies.URL_BOUNDARY_CLASSES
#: max−1 and max (``strategies.boundaries``).
URL_LENGTHS = sorted({b.length for b in strategies.boundaries("cover_image_url") if b.accepted})
_url = strategies.exact_url


@pytest.mark.requirement("VAL-6", "SEM-3", "SEM-6")
@pytest.mark.parametrize("cls", URL_CLASSES)
@pytest.mark.parametrize("length", URL_LENGTHS)
@probe(lambda cls, length: Probe(body={"cover_image_url": _url(cls, length)}, lane="cover_image_url"), kind=LANE)
def test_url_up_to_the_maximum_is_accepted(api: Client, answer: Answer, cls: str, length: int) -> None:
    url = _url(cls, length)
    exchange = answer.exchange
    if exchange.status == 422:  # F5: the target may reject this form of URL; then only if it rejects it short too
        short = api.patch({"cover_image_url": _url(cls, len(URL_PREFIX) + 8)})
        if short.status == 422:
            pytest.skip(f"the target does not accept {cls} URLs at all (freedom F5)")
    checks.expect_status("VAL-6", exchange, {200}, f"a URL of {length} {cls} code points is accepted")
    stored_in_lane(answer, {"cover_image_url": url}, "SEM-3", api.settings.collection_id)


def _long_url(cls: str, length: int) -> InvalidBody:
    return InvalidBody("VAL-6", "cover_image_url", {"cover_image_url": _url(cls, length)}, f"a URL of {length} {cls} code points")


@pytest.mark.requirement("VAL-6", "VAL-12")
@pytest.mark.parametrize("cls", URL_CLASSES)
@pytest.mark.parametrize("length", [URL_MAX + 1, URL_MAX + 2, 2 * URL_MAX])
@probe(lambda cls, length: _case(_long_url(cls, length)))
def test_url_over_the_maximum_gets_422(answer: Answer, cls: str, length: int) -> None:
    _rejected_unchanged(answer, _long_url(cls, length), {422})


def _pad(prefix: str, unit: str, length: int) -> str:
    return prefix + (unit * length)[: length - len(prefix)]


LONG_URL_FORMS = {
    "long query": _pad(URL_PREFIX + "c.png?q=", "x", URL_MAX + 1),
    "percent-escapes": _pad(URL_PREFIX, "%41", URL_MAX + 1),
    "fragment": _pad(URL_PREFIX + "c.png#", "f", URL_MAX + 1),
    "data URI": _pad("data:image/png;base64,", "QUFB", URL_MAX + 1),
    "relative path": _pad("/covers/", "r", URL_MAX + 1),
    "http with port": _pad("http://cdn.example.com:8080/", "p", URL_MAX + 1),
}


def _url_form(url: str) -> InvalidBody:
    assert len(url) == URL_MAX + 1
    return InvalidBody("VAL-6", "cover_image_url", {"cover_image_url": url}, f"a {URL_MAX + 1}-character URL")


@pytest.mark.requirement("VAL-6", "VAL-12")
@pytest.mark.parametrize("url", LONG_URL_FORMS.values(), ids=LONG_URL_FORMS.keys())
@probe(lambda url: _case(_url_form(url)))
def test_url_of_any_form_over_the_maximum_gets_422(answer: Answer, url: str) -> None:
    _rejected_unchanged(answer, _url_form(url), {422})


@pytest.mark.requirement("VAL-7", "VAL-12")
@pytest.mark.parametrize("case", _cases("VAL-7"), ids=_ids(_cases("VAL-7")))
@probe(_case)
def test_not_a_track_id_gets_4xx(answer: Answer, case: InvalidBody) -> None:
    _rejected_unchanged(answer, case, range(400, 500))


@pytest.mark.requirement("VAL-7")
@pytest.mark.parametrize("case", _cases("VAL-7")[:3], ids=_ids(_cases("VAL-7")[:3]))
@probe(_case)
def test_not_a_track_id_should_get_422(answer: Answer, case: InvalidBody) -> None:
    exchange = answer.exchange
    checks.expect_status("VAL-7", exchange, range(400, 500), f"{case.why} is rejected")
    checks.expect_status("VAL-7", exchange, {422}, f"{case.why} should get 422", level=Level.SHOULD)


def _not_object(kind: str) -> Probe:
    return Probe(body=strategies.NOT_OBJECTS[kind])


@pytest.mark.requirement("VAL-8", "VAL-12")
@pytest.mark.parametrize("kind", strategies.NOT_OBJECTS)
@probe(_not_object)
def test_body_not_a_json_object_gets_4xx(answer: Answer, kind: str) -> None:
    exchange = answer.exchange
    checks.expect_status("VAL-8", exchange, range(400, 500), f"a body that is not a JSON object ({kind}) gets 4xx, never 5xx")
    answer.unchanged("VAL-12", "a rejected request changes nothing")


@pytest.mark.requirement("VAL-9", "VAL-8")
@pytest.mark.parametrize("kind", strategies.NOT_OBJECTS)
@probe(_not_object)
def test_body_not_a_json_object_should_get_422(answer: Answer, kind: str) -> None:
    exchange = answer.exchange
    checks.expect_status("VAL-8", exchange, range(400, 500), f"a body that is not a JSON object ({kind}) gets 4xx")
    checks.error_code("VAL-9", exchange, 422, f"a body that is not a JSON object ({kind}) should get 422 VALIDATION_ERROR")


@pytest.mark.requirement("VAL-8", "VAL-12", "VAL-9")
@pytest.mark.parametrize("case", malformed.CASES, ids=[case.id for case in malformed.CASES])
@probe(lambda case: Probe(content=case.body_with(malformed.new_marker())))
def test_malformed_json_gets_4xx(answer: Answer, case: malformed.Case, observe_freedom: Callable[..., None]) -> None:
    """One case of RFC 8259's grammar broken (``conformance.malformed``): 4xx, never 2xx or 5xx (VAL-8);
    nothing stored (VAL-12: the body's ``description`` holds a fresh marker, which a lenient parser
    would store); then 422 VALIDATION_ERROR, or a warning (VAL-9; 400 is F13's other side)."""
    exchange = answer.exchange
    title = f"malformed JSON ({case.id}: {case.why}; {case.source}) gets 4xx, never 2xx or 5xx"
    checks.expect_status("VAL-8", exchange, range(400, 500), title)
    if exchange.status in (400, 422):
        observe_freedom("F13", "either" if exchange.status == 422 else "or", f"{case.id}: HTTP {exchange.status}")
    answer.unchanged("VAL-12", f"a rejected request ({case.id}) changes nothing")
    checks.error_code("VAL-9", exchange, 422, f"malformed JSON ({case.id}) should get 422 VALIDATION_ERROR")


FIELD_FAILURES = [case for case in FIELD_CASES if case.rule != "VAL-7"]


@pytest.mark.requirement("VAL-10")
@pytest.mark.parametrize("case", FIELD_FAILURES, ids=_ids(FIELD_FAILURES))
@probe(_case)
def test_field_failure_is_422_validation_error(answer: Answer, case: InvalidBody) -> None:
    exchange = answer.exchange
    checks.error_code("VAL-10", exchange, 422, f"{case.why} gets 422 VALIDATION_ERROR")


@pytest.mark.requirement("VAL-11", "VAL-10")
@pytest.mark.parametrize("case", FIELD_FAILURES[::3], ids=_ids(FIELD_FAILURES[::3]))
@probe(_case)
def test_422_names_the_field(answer: Answer, case: InvalidBody) -> None:
    exchange = answer.exchange
    checks.expect_status("VAL-10", exchange, {422}, f"{case.why} is rejected")
    try:
        got = exchange.json()["error"]["details"]["field"]
    except (ValueError, KeyError, TypeError):
        got = "<absent>"
    checks.require(
        "VAL-11",
        got == case.field,
        "a 422 names the offending field",
        f"error.details.field = {case.field!r}",
        repr(got),
        exchange,
    )


# ---- VAL-12: atomicity ------------------------------------------------------------------------

ATOMIC_INVALID = [
    InvalidBody("VAL-1", "name", {"name": "n" * (NAME_MIN - 1)}, f"{NAME_MIN - 1}-character name"),
    InvalidBody("VAL-2", "name", {"name": "n" * (NAME_MAX + 1)}, f"{NAME_MAX + 1}-character name"),
    InvalidBody("VAL-4", "name", {"name": None}, "null name"),
    InvalidBody("VAL-5", "description", {"description": 5}, "number description"),
    InvalidBody("VAL-7", "cover_track_id", {"cover_track_id": strategies.NOT_TRACK_IDS[1]}, "not a track id"),
    InvalidBody(
        "VAL-6",
        "cover_image_url",
        {"cover_image_url": URL_PREFIX + "a" * (URL_MAX + 1 - len(URL_PREFIX))},
        f"{URL_MAX + 1}-character URL",
    ),
    InvalidBody("VAL-5", "cover_image_url", {"cover_image_url": False}, "boolean URL"),
]


def _mixed(invalid: InvalidBody, position: int, valid: dict[str, JSON]) -> dict[str, JSON]:
    """``valid`` fields (all but the invalid one) with the invalid field inserted at ``position``."""
    assert invalid.field is not None
    items = [(k, v) for k, v in valid.items() if k != invalid.field]
    items.insert(min(position, len(items)), (invalid.field, invalid.body[invalid.field]))
    return dict(items)


def _mixed_bodies(invalid: InvalidBody) -> list[Probe]:
    """The invalid field at every position among 1 or 3 valid ones (a name, and nulls that would clear)."""
    valid: dict[str, JSON] = {
        "name": unique("atomic name"),
        "description": None,
        "cover_track_id": None,
        "cover_image_url": None,
    }
    probes = []
    for position in range(4):
        for size in (2, 4):
            companions = dict(list({k: v for k, v in valid.items() if k != invalid.field}.items())[: size - 1])
            probes.append(Probe(body=_mixed(invalid, position, companions)))
    return probes


@pytest.mark.requirement("VAL-12", "VAL-1", "VAL-2", "VAL-4", "VAL-5", "VAL-6", "VAL-7")
@pytest.mark.parametrize("invalid", ATOMIC_INVALID, ids=_ids(ATOMIC_INVALID))
@probe(_mixed_bodies)
def test_mixed_body_applies_nothing(answer: Answer, invalid: InvalidBody) -> None:
    """Valid fields sent with an invalid one (the state holds non-null values, so a null that is
    applied shows): the body is rejected and none of its fields applied, whatever their order."""
    for index in range(len(answer.exchanges)):
        exchange = answer.get(index)
        # accepting it breaks the rule of the invalid field; a rejection must change nothing (VAL-12)
        checks.expect_status(
            invalid.rule, exchange, range(400, 500), f"a body with {invalid.why} is rejected (keys {exchange.request_body!r})"
        )
    answer.unchanged("VAL-12", f"no field of a rejected body with {invalid.why} is applied, in any order")
