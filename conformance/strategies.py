"""Hypothesis strategies for the PATCH body, built from the field declarations of the spec
(:mod:`conformance.fields`): every length, prefix and rule below is the spec's and the table's,
none is written here.

Public API (keyword-only options, checked up front):

- :func:`text` — strings of an exact length in code points, from chosen character classes;
- :func:`urls` — well-formed ``https://`` URLs of an exact length;
- :func:`valid_values` — values a conformant server must accept for one field;
- :func:`patches` — PATCH bodies as any subset of the four fields, omitted-vs-null explicit;
- :func:`boundaries` — each length limit of a field at min−1, min, max−1, max, max+1, in every
  character class, accepted or rejected under the rule of the table;
- :func:`invalid_bodies` — bodies every conformant server must reject, each naming its rule;
- :func:`malformed_json` — request bytes that are not JSON at all (``conformance.malformed``).

The functions that depend on the declarations take ``declarations=`` (default: the installed spec's),
so that a changed spec can be tried without installing it.

Generated strings never hold control characters, NUL or lone surrogates (a server may reject
those: freedom F10), and names always hold a non-space character (F11). Shrinking goes towards
short ASCII strings, fewer fields and ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance import malformed
from conformance.fields import (
    COLLECTION_ID_PREFIX,
    DECLARATIONS,
    FREE_TEXT_LIMIT,
    JSON,
    Constraint,
    Declarations,
    FieldSpec,
)

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
#: The classes the limits of a text field are tried in: by UTF-8 width, and combining marks.
TEXT_BOUNDARY_CLASSES: tuple[str, ...] = ("ascii", "two_byte", "three_byte", "astral", "combining")
#: The classes the limits of a URL field are tried in.
URL_BOUNDARY_CLASSES: tuple[str, ...] = ("ascii", "two_byte", "three_byte", "astral")
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


def _spec(field: str, declarations: Declarations | None) -> FieldSpec:
    known = (declarations or DECLARATIONS).fields_by_name
    if field not in known:
        raise ValueError(f"field={field!r} must be one of {tuple(known)}")
    return known[field]


def _length_range(spec: FieldSpec) -> tuple[int, int]:
    """The lengths every conformant server must accept: the declared ones; without a ``maxLength``
    up to :data:`~conformance.fields.FREE_TEXT_LIMIT` (F12); a URL at least as long as :data:`URL_PREFIX`."""
    low = spec.min_length or 0
    high = FREE_TEXT_LIMIT if spec.max_length is None else spec.max_length
    if spec.is_url:
        low = max(low, len(URL_PREFIX) + 1)
    return low, high


def valid_values(
    field: str, *, tracks: Sequence[str] = (), nullable: bool = True, declarations: Declarations | None = None
) -> st.SearchStrategy[JSON]:
    """Values of ``field`` that every conformant server must accept and store exactly.

    A field whose pattern requires a prefix (``cover_track_id``) takes one of ``tracks`` that has it
    (or ``null``: with no tracks, only ``null``: F4). A URL field takes plain ``https://`` URLs (F5);
    another text field takes text, with a non-space character when it has a ``minLength`` (F11).
    Lengths include the declared boundaries (min, min+1, max−1, max); a field without a ``maxLength``
    goes up to :data:`~conformance.fields.FREE_TEXT_LIMIT` (F12). With ``nullable`` a nullable field
    may also be ``null``.
    """
    spec = _spec(field, declarations)
    values: st.SearchStrategy[JSON]
    if spec.prefix is not None:
        ids = [t for t in tracks if t.startswith(spec.prefix)]
        if not ids:
            return st.none()
        values = st.sampled_from(ids)
    else:
        low, high = _length_range(spec)
        typical = sorted({n for n in (low, low + 1, 40, 64, high - 1, high) if low <= n <= high})
        lengths = st.sampled_from(typical) | st.integers(low, high)
        if spec.is_url:
            values = lengths.flatmap(lambda n: urls(length=n))
        else:
            values = lengths.flatmap(lambda n: text(length=n, nonblank=bool(spec.min_length)))
    return st.none() | values if nullable and spec.nullable else values


@dataclass(frozen=True)
class Patch:
    """A PATCH body with the omitted-vs-null distinction explicit: ``sent`` holds what is sent
    (``None`` meaning an explicit JSON ``null``), ``omitted`` names the fields left out."""

    sent: Mapping[str, JSON]

    @property
    def omitted(self) -> tuple[str, ...]:
        return tuple(f for f in DECLARATIONS.field_names if f not in self.sent)

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
    *,
    tracks: Sequence[str] = (),
    fields: Sequence[str] | None = None,
    min_fields: int = 0,
    declarations: Declarations | None = None,
) -> st.SearchStrategy[Patch]:
    """PATCH bodies: any subset of ``fields`` (default: every body field), each sent field a valid
    value or ``null`` where nullable; the field order in the body varies. Shrinks towards fewer fields."""
    decl = declarations or DECLARATIONS
    chosen_fields = decl.field_names if fields is None else tuple(fields)
    unknown = [f for f in chosen_fields if f not in decl.fields_by_name]
    if unknown:
        raise ValueError(f"fields={fields!r} names unknown fields {unknown}")
    if not 0 <= min_fields <= len(chosen_fields):
        raise ValueError(f"min_fields={min_fields!r} must be between 0 and {len(chosen_fields)}")

    @st.composite
    def build(draw: st.DrawFn) -> Patch:
        size = len(chosen_fields)
        chosen = draw(st.lists(st.sampled_from(chosen_fields), unique=True, min_size=min_fields, max_size=size))
        return Patch({name: draw(valid_values(name, tracks=tracks, declarations=decl)) for name in chosen})

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


def exact_text(cls: str, length: int) -> str:
    """A string of exactly ``length`` code points of class ``cls`` (its characters in turn, spaces left
    out); ``combining`` is a base letter, then combining marks, never normalized, one code point each."""
    _check_length("length", length)
    chars = CHARACTER_CLASSES[_check_classes([cls])[0]].replace(" ", "")
    if cls == "combining":
        return ("e" + chars * length)[:length]
    return (chars * length)[:length]


def exact_url(cls: str, length: int) -> str:
    """An ``https://`` URL of exactly ``length`` code points, its path filled with class ``cls``."""
    _check_length("length", length)
    room = length - len(URL_PREFIX)
    if room < 1:
        raise ValueError(f"length={length} is too short for a URL (at least {len(URL_PREFIX) + 1})")
    fill = CHARACTER_CLASSES[_check_classes([cls])[0]].replace(" ", "") if cls != "ascii" else "abcxyz019"
    return URL_PREFIX + (fill * room)[:room]


def _value_of(spec: FieldSpec, cls: str, length: int) -> str:
    return exact_url(cls, length) if spec.is_url else exact_text(cls, length)


def not_matching(spec: FieldSpec) -> tuple[str, ...]:
    """Strings that ``spec``'s pattern refuses: near misses of the prefix it requires (cut short,
    upper-cased, without its first letter), another kind of id, a legacy prefix, words for null."""
    if spec.pattern is None:
        return ()
    prefix = spec.prefix or ""
    candidates = (
        "", prefix[1:] + "123", prefix.upper() + "abc", COLLECTION_ID_PREFIX + "4a1f9c7e2b8d", "123", prefix[:-1],
        "trk_8d2e1f6a3c9b", "null", "None", "undefined",
    )  # fmt: skip
    return tuple(dict.fromkeys(v for v in candidates if spec.failure(v) is Constraint.PATTERN))


#: Values ``cover_track_id`` must refuse (VAL-7).
NOT_TRACK_IDS: tuple[str, ...] = not_matching(DECLARATIONS.field("cover_track_id"))
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


@dataclass(frozen=True)
class Boundary:
    """One length at a limit of a field, in one character class: whether every conformant server
    accepts it, and the rule that says so (the table's, :mod:`conformance.fields`)."""

    field: str
    length: int
    cls: str
    accepted: bool
    rule: str
    value: str

    @property
    def why(self) -> str:
        return f"a {self.field} of {self.length} {self.cls} code points"

    def invalid(self) -> InvalidBody:
        """The body of a rejected boundary, as the tests of invalid bodies take it."""
        if self.accepted:
            raise ValueError(f"{self.why} is accepted, not invalid")
        return InvalidBody(self.rule, self.field, {self.field: self.value}, self.why)


def boundaries(field: str, *, classes: Sequence[str] | None = None, declarations: Declarations | None = None) -> list[Boundary]:
    """Each declared length limit of ``field`` at min−1, min, max−1, max and max+1 code points, in each
    of ``classes`` (default: :data:`URL_BOUNDARY_CLASSES` for a URL field, else
    :data:`TEXT_BOUNDARY_CLASSES`), ordered by length. Within the limits a value is accepted under the
    field's acceptance rule; below the minimum it breaks ``minLength``'s rule; above the maximum
    ``maxLength``'s in ASCII and the code-point rule in wider characters (``name``: VAL-2, VAL-3).
    The empty string is one boundary, not one per class; URLs shorter than :data:`URL_PREFIX` are left out."""
    spec = _spec(field, declarations)
    chosen = _check_classes(classes or (URL_BOUNDARY_CLASSES if spec.is_url else TEXT_BOUNDARY_CLASSES))
    limits: dict[int, tuple[bool, Constraint | None]] = {}
    if spec.min_length is not None:
        if spec.min_length > 0:
            limits[spec.min_length - 1] = (False, Constraint.MIN_LENGTH)
        limits[spec.min_length] = (True, None)
    if spec.max_length is not None:
        limits.update({spec.max_length - 1: (True, None), spec.max_length: (True, None)})
        limits[spec.max_length + 1] = (False, Constraint.MAX_LENGTH)
    found = []
    for length, (accepted, broken) in sorted(limits.items()):
        if length < 0 or (spec.is_url and length <= len(URL_PREFIX)):
            continue
        for cls in chosen[:1] if length == 0 else chosen:
            if broken is None:
                rule = spec.rules.accepted
            elif broken is Constraint.MAX_LENGTH and cls != "ascii":
                rule = spec.rules.code_points or spec.rule_id(broken)
            else:
                rule = spec.rule_id(broken)
            found.append(Boundary(spec.name, length, cls, accepted, rule, _value_of(spec, cls, length)))
    return found


def invalid_field_values(*, declarations: Declarations | None = None) -> list[InvalidBody]:
    """Every documented way a single field's value is wrong, as a list (the tests parametrize it):
    below the minimum, ``null`` where not nullable, over the maximum (one, two and the maximum again
    over, in ASCII; one over in two-byte and astral characters), each wrong JSON type, and values the
    pattern refuses. Each case names the rule of the table for the constraint it breaks."""
    decl = declarations or DECLARATIONS
    cases: list[InvalidBody] = []
    for spec in decl.body_fields:
        if spec.min_length:
            n = spec.min_length - 1
            value = _value_of(spec, "ascii", n) if n else ""
            cases.append(
                InvalidBody(spec.rule_id(Constraint.MIN_LENGTH), spec.name, {spec.name: value}, f"{spec.name} of {n} characters")
            )
        if not spec.nullable:
            cases.append(InvalidBody(spec.rule_id(Constraint.NULL), spec.name, {spec.name: None}, f"{spec.name}: null"))
    for spec in decl.body_fields:
        if spec.max_length is None:
            continue
        top = spec.max_length
        for n in dict.fromkeys((top + 1, top + 2, 2 * top)):
            why = f"{spec.name} of {n} ASCII characters"
            cases.append(
                InvalidBody(spec.rule_id(Constraint.MAX_LENGTH), spec.name, {spec.name: _value_of(spec, "ascii", n)}, why)
            )
        for cls in ("astral", "two_byte"):
            rule = spec.rules.code_points or spec.rule_id(Constraint.MAX_LENGTH)
            why = f"{spec.name} of {top + 1} {cls} characters"
            cases.append(InvalidBody(rule, spec.name, {spec.name: _value_of(spec, cls, top + 1)}, why))
    for spec in decl.body_fields:
        for kind, value in WRONG_TYPES.items():
            cases.append(InvalidBody(spec.rule_id(Constraint.TYPE), spec.name, {spec.name: value}, f"{spec.name} as a {kind}"))
    for spec in decl.body_fields:
        for text_ in not_matching(spec):
            cases.append(InvalidBody(spec.rule_id(Constraint.PATTERN), spec.name, {spec.name: text_}, f"{spec.name} {text_!r}"))
    return cases


def invalid_bodies(
    *, rules: Sequence[str] | None = None, declarations: Declarations | None = None
) -> st.SearchStrategy[InvalidBody]:
    """Bodies every conformant server rejects: the fixed cases of :func:`invalid_field_values`,
    non-object bodies, the malformed JSON of ``conformance.malformed``, and generated lengths over each
    declared maximum in every character class. ``rules`` keeps only the cases of those rule IDs."""
    decl = declarations or DECLARATIONS
    fixed = invalid_field_values(declarations=decl)
    fixed += [InvalidBody("VAL-8", None, body, f"a JSON {kind} body") for kind, body in NOT_OBJECTS.items()]
    fixed += [InvalidBody("VAL-8", None, None, f"malformed JSON: {case.id} ({case.why})", case.body) for case in malformed.CASES]
    generated: list[tuple[str, st.SearchStrategy[InvalidBody]]] = []
    for spec in decl.body_fields:
        if spec.max_length is not None:
            generated.append((spec.rule_id(Constraint.MAX_LENGTH), _over_the_maximum(spec)))
    if rules is not None:
        wanted = set(rules)
        fixed = [c for c in fixed if c.rule in wanted]
        generated = [(rule, g) for rule, g in generated if rule in wanted]
    if not fixed and not generated:
        raise ValueError(f"rules={rules!r} selects no invalid body")
    # the malformed JSON corpus is drawn from on its own, so that its many cases do not crowd out the field cases
    groups = ([c for c in fixed if c.raw is None], [c for c in fixed if c.raw is not None])
    options: list[st.SearchStrategy[InvalidBody]] = [st.sampled_from(group) for group in groups if group]
    return st.one_of(*options, *(g for _, g in generated))


def _over_the_maximum(spec: FieldSpec) -> st.SearchStrategy[InvalidBody]:
    """Values of ``spec`` longer than its maximum (up to a quarter of it over), in every character class."""
    top = spec.limit(Constraint.MAX_LENGTH)
    lengths = st.integers(top + 1, top + 1 + max(64, top // 4))
    values = lengths.flatmap(lambda n: urls(length=n, classes=ALL_CLASSES) if spec.is_url else text(length=n, nonblank=True))
    rule = spec.rule_id(Constraint.MAX_LENGTH)
    return values.map(lambda v: InvalidBody(rule, spec.name, {spec.name: v}, f"{spec.name} of {len(v)} characters"))


def malformed_json() -> st.SearchStrategy[bytes]:
    """Request bytes that are not a JSON text (RFC 8259) and that no freedom lets a server accept: the
    cases of ``conformance.malformed`` (one per production and kind of mutation), then short UTF-8
    texts that the grammar's recognizer refuses. Never zero bytes, bytes that are not UTF-8 or a
    leading byte order mark (F17, RFC 8259 §8.1). Shrinks towards the first corpus cases."""
    corpus = st.sampled_from([case.body for case in malformed.CASES])
    texts = st.text(min_size=1, max_size=64).map(lambda text: text.encode("utf-8"))
    return corpus | texts.filter(lambda data: malformed.classify(data) == "malformed")


def read_only_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Bodies carrying the collection's ``readOnly`` fields (freedom F3: ignored or rejected, never
    applied), each with a value of its type that differs from the collection's."""
    properties = DECLARATIONS.response_schema["properties"]
    values = {name: read_only_value(properties[name]) for name in DECLARATIONS.read_only_fields}
    return st.lists(st.sampled_from(list(values)), min_size=1, unique=True).map(lambda keys: {k: values[k] for k in keys})


def read_only_value(schema: Mapping[str, JSON]) -> JSON:
    """A value of the response ``schema`` of a read-only field no collection holds: an integer of 9999,
    a date-time in 2000, an id of the pattern's prefix and zeros."""
    if schema.get("type") == "integer":
        return 9999
    if schema.get("format") == "date-time":
        return "2000-01-01T00:00:00Z"
    return (FieldSpec("id", False, pattern=schema.get("pattern")).prefix or "") + "000000000000"
