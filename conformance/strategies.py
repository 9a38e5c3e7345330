"""Hypothesis strategies for the PATCH body, built from :mod:`conformance.rules`.

Public API (keyword-only options, checked up front):

- :func:`text` — strings of an exact length in code points, from chosen character classes;
- :func:`urls` — well-formed ``https://`` URLs of an exact length;
- :func:`valid_values` — values a conformant server must accept for one field;
- :func:`patches` — PATCH bodies as any subset of the four fields, omitted-vs-null explicit;
- :func:`invalid_bodies` — bodies every conformant server must reject, each naming its rule;
- :func:`malformed_json` — request bytes that are not JSON at all (``conformance.malformed``).

Generated strings never hold control characters, NUL or lone surrogates (a server may reject
those: freedom F10), and names always hold a non-space character (F11). Shrinking goes towards
short ASCII strings, fewer fields and ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance import malformed, rules
from conformance.rules import JSON

#: Character classes by UTF-8 width, plus combining marks and the troublesome ones.
CHARACTER_CLASSES: dict[str, str] = {
    "ascii": "abcXYZ019 -_.~!*'()",
    "two_byte": "éßñøÆΩжЯ",  # U+0080..U+07FF: 2 UTF-8 bytes, 1 UTF-16 unit
    "three_byte": "€中日本語한ｶ",  # U+0800..U+FFFF: 3 UTF-8 bytes, 1 UTF-16 unit
    "astral": "\U0001f3b5\U0001f600\U0001d11e\U00020000",  # 4 UTF-8 bytes, 2 UTF-16 units
    "combining": "\u0301\u0308\u0327\u20dd",  # combining marks: one code point each, never normalized away
    "special": "\"\\'/<>&%{}",  # quotes, backslashes and what breaks naive escaping
    "bidi": "\u05d0\u05d1\u05e9\u0627\u0644\u0645",  # right-to-left letters (not the bidi controls: F10)
    "joiners": "\u200d\u200b\u2060\ufeff",  # zero-width joiner, space, word joiner, BOM
    "space": " \u00a0\u2003\u3000",  # spaces a server might strip
}
ALL_CLASSES: tuple[str, ...] = tuple(CHARACTER_CLASSES)
#: Lengths where the limits of the page live.
NAME_LENGTHS = (0, 1, 511, 512, 513)
URL_LENGTHS = (1023, 1024, 1025)
URL_PREFIX = "https://cdn.example.com/covers/"


def _check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(classes, str) or not classes:
        raise ValueError(f"classes={classes!r} must be a non-empty sequence of names from {ALL_CLASSES}")
    unknown = [c for c in classes if c not in CHARACTER_CLASSES]
    if unknown:
        raise ValueError(f"classes={classes!r} names unknown classes {unknown}; known: {ALL_CLASSES}")
    return tuple(classes)


def _check_length(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer")


def text(*, length: int, classes: Sequence[str] = ALL_CLASSES, nonblank: bool = False) -> st.SearchStrategy[str]:
    """Strings of exactly ``length`` code points drawn from ``classes`` of :data:`CHARACTER_CLASSES`.

    A string is a short varied head (up to 24 characters from every chosen class), then a filler
    character repeated to the length: long strings stay cheap, and a server that counts UTF-8
    bytes or UTF-16 units meets fillers that are two-byte, three-byte or astral. With
    ``nonblank`` the string holds a character that is not white space (the first one).
    Shrinks towards an ASCII filler and an empty head.
    """
    _check_length("length", length)
    chosen = _check_classes(classes)
    pool = "".join(CHARACTER_CLASSES[c] for c in chosen)
    fillers = [c for cls in ("ascii", "two_byte", "three_byte", "astral") if cls in chosen for c in CHARACTER_CLASSES[cls][:2]]
    fillers = [c for c in fillers if not c.isspace()] or [c for c in pool if not c.isspace()] or ["a"]
    if length == 0:
        return st.just("")

    @st.composite
    def build(draw: st.DrawFn) -> str:
        filler = draw(st.sampled_from(fillers))
        head = draw(st.text(alphabet=pool, max_size=min(24, length - 1)))
        body = head + filler * (length - len(head))
        if nonblank and body[0].isspace():
            body = filler + body[1:]
        at_end = draw(st.booleans())  # the varied part at the start or at the end
        return body if not at_end or nonblank else body[len(head) :] + head

    return build()


def urls(*, length: int, classes: Sequence[str] = ("ascii",)) -> st.SearchStrategy[str]:
    """Well-formed ``https://`` URLs of exactly ``length`` code points; the path is filled with
    URL-safe ASCII, plus characters of ``classes`` other than ASCII (non-ASCII URLs, IRIs)."""
    _check_length("length", length)
    chosen = _check_classes(classes)
    if length < len(URL_PREFIX) + 1:
        raise ValueError(f"length={length} is too short for a URL (at least {len(URL_PREFIX) + 1})")
    safe = "abcdefghijklmnopqrstuvwxyz0123456789-_."
    extra = "".join(CHARACTER_CLASSES[c] for c in chosen if c in ("two_byte", "three_byte", "astral"))
    pool = safe + extra
    room = length - len(URL_PREFIX)

    @st.composite
    def build(draw: st.DrawFn) -> str:
        filler = draw(st.sampled_from(list(pool)))
        head = draw(st.text(alphabet=pool, max_size=min(16, room - 1)))
        return URL_PREFIX + head + filler * (room - len(head))

    return build()


def valid_values(field: str, *, tracks: Sequence[str] = (), nullable: bool = True) -> st.SearchStrategy[JSON]:
    """Values of ``field`` that every conformant server must accept and store exactly.

    ``cover_track_id`` takes one of ``tracks`` (or ``null``: with no tracks, only ``null``).
    Lengths include the boundaries (1 and 512 for ``name``, 1024 for ``cover_image_url``).
    With ``nullable`` a nullable field may also be ``null``.
    """
    if field not in rules.FIELDS_BY_NAME:
        raise ValueError(f"field={field!r} must be one of {rules.FIELD_NAMES}")
    rule = rules.FIELDS_BY_NAME[field]
    values: st.SearchStrategy[JSON]
    if field == "name":
        lengths = st.sampled_from((1, 2, 40, 511, 512)) | st.integers(1, 512)
        values = lengths.flatmap(lambda n: text(length=n, nonblank=True))
    elif field == "description":
        values = st.integers(0, 512).flatmap(lambda n: text(length=n))
    elif field == "cover_track_id":
        if not tracks:
            return st.none()
        values = st.sampled_from(list(tracks))
    else:
        max_length = rule.max_length or 1024
        floor = len(URL_PREFIX) + 1
        values = (st.sampled_from((floor, 64, max_length - 1, max_length)) | st.integers(floor, max_length)).flatmap(
            lambda n: urls(length=n)
        )
    return st.none() | values if nullable and rule.nullable else values


@dataclass(frozen=True)
class Patch:
    """A PATCH body with the omitted-vs-null distinction explicit: ``sent`` holds what is sent
    (``None`` meaning an explicit JSON ``null``), ``omitted`` names the fields left out."""

    sent: Mapping[str, JSON]

    @property
    def omitted(self) -> tuple[str, ...]:
        return tuple(f for f in rules.FIELD_NAMES if f not in self.sent)

    @property
    def nulled(self) -> tuple[str, ...]:
        return tuple(f for f, v in self.sent.items() if v is None)

    @property
    def body(self) -> dict[str, JSON]:
        return dict(self.sent)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.sent.items())
        return f"Patch({shown}; omitted={list(self.omitted)})"


def _short(value: JSON) -> str:
    text_ = repr(value)
    return text_ if len(text_) <= 40 else f"{text_[:30]}...<{len(value)} code points>"


def patches(
    *, tracks: Sequence[str] = (), fields: Sequence[str] = rules.FIELD_NAMES, min_fields: int = 0
) -> st.SearchStrategy[Patch]:
    """PATCH bodies: any subset of ``fields``, each sent field a valid value or ``null`` where
    nullable; the field order in the body varies. Shrinks towards fewer fields."""
    unknown = [f for f in fields if f not in rules.FIELDS_BY_NAME]
    if unknown:
        raise ValueError(f"fields={fields!r} names unknown fields {unknown}")
    if not 0 <= min_fields <= len(fields):
        raise ValueError(f"min_fields={min_fields!r} must be between 0 and {len(fields)}")

    @st.composite
    def build(draw: st.DrawFn) -> Patch:
        chosen = draw(st.lists(st.sampled_from(list(fields)), unique=True, min_size=min_fields, max_size=len(fields)))
        return Patch({name: draw(valid_values(name, tracks=tracks)) for name in chosen})

    return build()


@dataclass(frozen=True)
class InvalidBody:
    """A body a conformant server must reject, with the rule that says so and the field at fault
    (``None`` when the body as a whole is wrong). ``raw`` bodies are sent as bytes, not JSON."""

    rule: str
    field: str | None
    body: JSON
    why: str
    raw: bytes | None = None


WRONG_TYPES: dict[str, JSON] = {
    "number": 5, "float": 1.5, "boolean": True, "array": ["x"], "object": {"x": "y"},
    "zero": 0, "false": False, "empty array": [], "empty object": {},
}  # fmt: skip
NOT_TRACK_IDS: tuple[str, ...] = (
    "", "track_123", "MTRACK_abc", "mcoll_4a1f9c7e2b8d", "123", "mtrack", "trk_8d2e1f6a3c9b", "null", "None", "undefined",
)  # fmt: skip
NOT_OBJECTS: dict[str, JSON] = {
    "array": [],
    "array of object": [{"name": "x"}],
    "string": "name",
    "number": 1,
    "null": None,
    "true": True,
}
#: Malformed JSON, derived from RFC 8259's grammar (``conformance.malformed``): each case's id (the
#: production it breaks and how) and its bytes, ``description`` holding :data:`conformance.malformed.MARKER`.
MALFORMED_JSON: dict[str, bytes] = {case.id: case.body for case in malformed.CASES}


def invalid_field_values() -> list[InvalidBody]:
    """Every documented way a single field's value is wrong, as a list (the tests parametrize it)."""
    cases: list[InvalidBody] = [
        InvalidBody("VAL-1", "name", {"name": ""}, "name of 0 characters"),
        InvalidBody("VAL-4", "name", {"name": None}, "name: null"),
    ]
    for n in (513, 514, 1000):
        cases.append(InvalidBody("VAL-2", "name", {"name": "n" * n}, f"name of {n} ASCII characters"))
    cases.append(InvalidBody("VAL-3", "name", {"name": "\U0001f3b5" * 513}, "name of 513 astral characters"))
    cases.append(InvalidBody("VAL-3", "name", {"name": "é" * 513}, "name of 513 two-byte characters"))
    for field in rules.FIELD_NAMES:
        for kind, value in WRONG_TYPES.items():
            cases.append(InvalidBody("VAL-5", field, {field: value}, f"{field} as a {kind}"))
    room = 1025 - len(URL_PREFIX)
    cases.append(InvalidBody("VAL-6", "cover_image_url", {"cover_image_url": URL_PREFIX + "a" * room}, "URL of 1025 characters"))
    cases.append(
        InvalidBody("VAL-6", "cover_image_url", {"cover_image_url": URL_PREFIX + "é" * room}, "URL of 1025 characters, non-ASCII")
    )
    cases.append(
        InvalidBody("VAL-6", "cover_image_url", {"cover_image_url": URL_PREFIX + "a" * (room + 500)}, "URL of 1525 characters")
    )
    for value in NOT_TRACK_IDS:
        cases.append(InvalidBody("VAL-7", "cover_track_id", {"cover_track_id": value}, f"cover_track_id {value!r}"))
    return cases


def invalid_bodies(*, rules_: Sequence[str] | None = None) -> st.SearchStrategy[InvalidBody]:
    """Bodies every conformant server rejects: the fixed cases of :func:`invalid_field_values`,
    non-object bodies, the malformed JSON of ``conformance.malformed``, and generated out-of-range lengths in every character
    class. ``rules_`` keeps only the cases of those rule IDs."""
    fixed = invalid_field_values()
    fixed += [InvalidBody("VAL-8", None, body, f"a JSON {kind} body") for kind, body in NOT_OBJECTS.items()]
    fixed += [InvalidBody("VAL-8", None, None, f"malformed JSON: {case.id} ({case.why})", case.body) for case in malformed.CASES]
    generated: list[st.SearchStrategy[InvalidBody]] = [
        st.integers(513, 700)
        .flatmap(lambda n: text(length=n, nonblank=True))
        .map(lambda s: InvalidBody("VAL-2", "name", {"name": s}, f"name of {len(s)} characters")),
        st.integers(1025, 1100)
        .flatmap(lambda n: urls(length=n, classes=ALL_CLASSES))
        .map(lambda s: InvalidBody("VAL-6", "cover_image_url", {"cover_image_url": s}, f"URL of {len(s)} characters")),
    ]
    if rules_ is not None:
        wanted = set(rules_)
        fixed = [c for c in fixed if c.rule in wanted]
        generated = [g.filter(lambda c: c.rule in wanted) for g in generated] if wanted & {"VAL-2", "VAL-6"} else []
    if not fixed and not generated:
        raise ValueError(f"rules_={rules_!r} selects no invalid body")
    # the malformed JSON corpus is drawn from on its own, so that its many cases do not crowd out the field cases
    groups = ([c for c in fixed if c.raw is None], [c for c in fixed if c.raw is not None])
    options: list[st.SearchStrategy[InvalidBody]] = [st.sampled_from(group) for group in groups if group]
    return st.one_of(*options, *generated)


def malformed_json() -> st.SearchStrategy[bytes]:
    """Request bytes that are not a JSON text (RFC 8259) and that no freedom lets a server accept: the
    cases of ``conformance.malformed`` (one per production and kind of mutation), then short UTF-8
    texts that the grammar's recognizer refuses. Never zero bytes, bytes that are not UTF-8 or a
    leading byte order mark (F17, RFC 8259 §8.1). Shrinks towards the first corpus cases."""
    corpus = st.sampled_from([case.body for case in malformed.CASES])
    texts = st.text(min_size=1, max_size=64).map(lambda text: text.encode("utf-8"))
    return corpus | texts.filter(lambda data: malformed.classify(data) == "malformed")


def read_only_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Bodies carrying read-only fields (freedom F3: ignored or rejected, never applied)."""
    values: dict[str, JSON] = {
        "id": "mcoll_000000000000",
        "track_count": 9999,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
    }
    return st.lists(st.sampled_from(list(values)), min_size=1, unique=True).map(lambda keys: {k: values[k] for k in keys})
