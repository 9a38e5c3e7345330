"""Malformed JSON, derived from the grammar of RFC 8259: the request bodies VAL-8 says a server must refuse.

Every case breaks one production of the grammar (RFC 8259 §2-§7, quoted in :data:`PRODUCTIONS`) by
one kind of mutation (:data:`MUTATIONS`), in a body that a lenient parser would read as a valid
PATCH: the mutation sits in ``description`` (which holds a marker, see :meth:`Case.body_with`) or in
an unknown member ``extra`` (ignored or rejected: F2). So a server whose parser accepts the mutation
answers 200 and stores the marker, and the suite sees it; a conformant server answers 4xx (VAL-8).
The cases are chosen so that each production and each mutation class is met at least once, not
every combination (each case is a test of its own); the truncations are cut mechanically from one
base document that holds every production (:func:`truncations`).

Not here, because the grammar allows them or the contract leaves them free (:data:`FREE_FORMS`): a
body of zero bytes, bytes that are not UTF-8 and a duplicate key (F17), a leading byte order mark
(RFC 8259 §8.1: a parser MAY ignore it), a lone surrogate escape (the grammar's ``4HEXDIG``; F10,
F13). :func:`classify` tells the three kinds of body apart; :func:`is_json_text` is a strict
recognizer of the grammar, the judge of what is malformed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

#: The productions of RFC 8259 a case can break, with their ABNF (and the section that defines them).
PRODUCTIONS: dict[str, str] = {
    "JSON-text": "§2: JSON-text = ws value ws",
    "ws": "§2: ws = *( %x20 / %x09 / %x0A / %x0D ) ; space, horizontal tab, line feed, carriage return",
    "value": "§3: value = false / null / true / object / array / number / string",
    "literal": "§3: false = %x66.61.6c.73.65, null = %x6e.75.6c.6c, true = %x74.72.75.65 (lowercase)",
    "object": "§4: object = begin-object [ member *( value-separator member ) ] end-object",
    "member": "§4: member = string name-separator value; name-separator = ws %x3A ws",
    "array": "§5: array = begin-array [ value *( value-separator value ) ] end-array",
    "number": "§6: number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT )",
    "frac": "§6: frac = decimal-point 1*DIGIT",
    "exp": "§6: exp = e [ minus / plus ] 1*DIGIT",
    "string": "§7: string = quotation-mark *char quotation-mark",
    "char": "§7: unescaped = %x20-21 / %x23-5B / %x5D-10FFFF (no control character below U+0020)",
    "escape": '§7: escape ( %x22 / %x5C / %x2F / %x62 / %x66 / %x6E / %x72 / %x74 / %x75 4HEXDIG ): \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX',
}

#: The kinds of mutation, each something some parser accepts (the README lists where each is seen).
MUTATIONS: dict[str, str] = {
    "empty-text": "no value at all, only white space",
    "trailing-content": "content after the value (Python's raw_decode, Go's json.Decoder.Decode stop at the first value)",
    "second-value": "a second value after the first (newline-delimited JSON)",
    "content-before": "content before the value (an anti-XSSI prefix)",
    "extra-close": "a closing bracket with nothing to close",
    "mismatched-close": "an object closed by ] or an array by }",
    "whitespace": "a character JSON does not count as white space (JSON5 does)",
    "comment": "a comment: // line, /* block */, # hash (JSONC, JSON5, Jackson ALLOW_COMMENTS)",
    "trailing-comma": "a comma before the closing bracket (JSON5, Jackson ALLOW_TRAILING_COMMA)",
    "elision": "a comma with no value or member before it",
    "missing-comma": "two members or values with no comma between them",
    "missing-colon": "a member without its name-separator",
    "wrong-separator": "= or , where the name-separator : belongs, : between array values",
    "missing-value": "a member or value left empty",
    "missing-name": "a member without a name",
    "unquoted-key": "a member name that is not a string (JavaScript object literals, JSON5)",
    "single-quote": "a string in single quotes (Python literals, JSON5, Jackson ALLOW_SINGLE_QUOTES)",
    "bare-word": "a value that is no literal, number or string",
    "literal-case": "a literal in another case or language (True, None, NULL)",
    "leading-zero": "an integer with a leading zero",
    "plus-sign": "a number with a leading +",
    "bare-fraction": "a fraction with no integer part (.5)",
    "bare-point": "a decimal point with no digit after it (1.)",
    "empty-exponent": "an exponent with no digit",
    "hex": "a hexadecimal number (0x1F)",
    "non-finite": "NaN, Infinity, -Infinity (Python's json and Jackson ALLOW_NON_NUMERIC_NUMBERS accept them)",
    "digit-separator": "an underscore between digits (1_000)",
    "control-character": "a control character below U+0020 unescaped inside a string (Python's strict=False)",
    "bad-escape": "a backslash escape JSON does not define",
    "truncation": "the text cut short inside a production",
}

#: The placeholder in every case's ``description``; :meth:`Case.body_with` puts a fresh marker there.
MARKER = "probe-000000000000"


def new_marker() -> str:
    """A fresh marker of :data:`MARKER`'s shape (same length, same characters): finding it stored
    proves which request stored it."""
    return "probe-" + secrets.token_hex(6)


@dataclass(frozen=True)
class Case:
    """One malformed body: ``id`` (``production/name``), the production it breaks, the kind of
    mutation, the bytes (with :data:`MARKER` in ``description``) and why they are not JSON."""

    id: str
    production: str
    mutation: str
    body: bytes
    why: str

    @property
    def source(self) -> str:
        """Where the case comes from: the RFC 8259 rule it breaks."""
        return f"RFC 8259 {PRODUCTIONS[self.production]}"

    def body_with(self, marker: str) -> bytes:
        """The body with ``marker`` (from :func:`new_marker`) in place of :data:`MARKER`."""
        if len(marker) != len(MARKER) or not re.fullmatch(r"probe-[0-9a-f]{12}", marker):
            raise ValueError(f"marker={marker!r} must be of the shape {MARKER!r} (see new_marker())")
        return self.body.replace(MARKER.encode(), marker.encode())


_D = f'"description": "{MARKER}"'


def _object(inside: str) -> str:
    return "{" + inside + "}"


def _value(value: str) -> str:
    """``value`` as the value of the unknown member ``extra``, after a valid ``description``."""
    return "{" + _D + ', "extra": ' + value + "}"


def _string(inside: str) -> str:
    """``inside`` at the end of the ``description`` string, before its closing quote."""
    return '{"description": "' + MARKER + inside + '"}'


#: (production, mutation, name, text, why) of every case but the truncations.
_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    # §2 JSON-text = ws value ws
    ("JSON-text", "empty-text", "white-space-only", " \t\r\n ", "white space and no value (zero bytes are F17's, not this)"),
    ("JSON-text", "trailing-content", "word-after", _object(_D) + " x", "a word after the object"),
    ("JSON-text", "trailing-content", "nul-after", _object(_D) + "\x00", "a NUL byte after the object (a C string's end)"),
    ("JSON-text", "second-value", "two-objects", _object(_D) + _object(_D), "a second object right after the first"),
    ("JSON-text", "content-before", "xssi-prefix", ")]}',\n" + _object(_D), "the anti-XSSI prefix )]}', before the object"),
    ("JSON-text", "extra-close", "extra-brace", _object(_D) + "}", "one closing brace too many"),
    ("JSON-text", "bare-word", "top-level-word", "description", "a bare word as the whole body"),
    # §2 ws
    ("ws", "whitespace", "vertical-tab", "{\v" + _D + "}", "U+000B vertical tab is not JSON white space"),
    ("ws", "whitespace", "form-feed", '{"description":\f"' + MARKER + '"}', "U+000C form feed is not JSON white space"),
    (
        "ws",
        "whitespace",
        "no-break-space",
        '{"description":\u00a0"' + MARKER + '"}',
        "U+00A0 no-break space is not JSON white space",
    ),
    ("ws", "comment", "block-comment", "{" + _D + " /* note */}", "a /* block */ comment"),
    ("ws", "comment", "line-comment", "{" + _D + " // note\n}", "a // line comment"),
    ("ws", "comment", "hash-comment", "{" + _D + " # note\n}", "a # comment"),
    ("ws", "comment", "leading-comment", "// note\n" + _object(_D), "a // comment before the object"),
    # §3 values and literals
    ("value", "bare-word", "unquoted-string", '{"description": ' + MARKER + "}", "a string without quotes"),
    ("value", "bare-word", "undefined", _value("undefined"), "JavaScript's undefined"),
    ("value", "missing-value", "empty-value", '{"description": }', "a member with no value"),
    ("literal", "literal-case", "capital-true", _value("True"), "Python's True"),
    ("literal", "literal-case", "python-none", _value("None"), "Python's None"),
    ("literal", "literal-case", "upper-null", _value("NULL"), "NULL in capitals"),
    # §4 objects and members
    ("object", "trailing-comma", "trailing-comma", "{" + _D + ",}", "a comma before the closing brace"),
    ("object", "elision", "leading-comma", "{," + _D + "}", "a comma before the first member"),
    ("object", "elision", "double-comma", '{"extra": 1,,' + _D + "}", "two commas between members"),
    ("object", "missing-comma", "missing-comma", '{"extra": 1 ' + _D + "}", "no comma between two members"),
    ("object", "mismatched-close", "closed-by-bracket", "{" + _D + "]", "an object closed by ]"),
    ("object", "unquoted-key", "unquoted-key", "{description: " + f'"{MARKER}"' + "}", "a member name without quotes"),
    ("object", "unquoted-key", "number-key", "{" + _D + ', 1: "x"}', "a number as a member name"),
    ("object", "single-quote", "single-quoted-key", "{'description': " + f'"{MARKER}"' + "}", "a member name in single quotes"),
    ("member", "missing-colon", "missing-colon", '{"description" "' + MARKER + '"}', "no : between name and value"),
    ("member", "wrong-separator", "equals-sign", '{"description" = "' + MARKER + '"}', "= instead of :"),
    ("member", "wrong-separator", "comma-for-colon", '{"description", "' + MARKER + '"}', ", instead of :"),
    ("member", "missing-value", "name-only", '{"extra", ' + _D + "}", "a name with no separator and no value"),
    ("member", "missing-name", "missing-name", "{" + _D + ', : "x"}', "a member with no name"),
    # §5 arrays
    ("array", "trailing-comma", "trailing-comma", _value("[1, 2,]"), "a comma before the closing bracket"),
    ("array", "elision", "leading-comma", _value("[,1]"), "a comma before the first value"),
    ("array", "elision", "hole", _value("[1,,2]"), "an empty slot between two commas (a sparse JavaScript array)"),
    ("array", "missing-comma", "missing-comma", _value("[1 2]"), "no comma between two values"),
    ("array", "mismatched-close", "closed-by-brace", _value("[1, 2}"), "an array closed by }"),
    ("array", "wrong-separator", "colon-in-array", _value('["a": 1]'), "a : between array values"),
    # §6 numbers
    ("number", "leading-zero", "leading-zero", _value("01"), "int = zero / ( digit1-9 *DIGIT ): no leading zero"),
    ("number", "plus-sign", "plus-sign", _value("+1"), "minus = %x2D: there is no plus sign"),
    ("number", "bare-fraction", "bare-fraction", _value(".5"), "a fraction needs an int before the point"),
    ("number", "hex", "hex", _value("0x1F"), "numbers are decimal"),
    ("number", "non-finite", "nan", _value("NaN"), "NaN is not a number of the grammar"),
    ("number", "non-finite", "infinity", _value("Infinity"), "Infinity is not a number of the grammar"),
    ("number", "non-finite", "minus-infinity", _value("-Infinity"), "-Infinity is not a number of the grammar"),
    ("number", "digit-separator", "underscore", _value("1_000"), "no digit separator"),
    ("frac", "bare-point", "bare-point", _value("1."), "frac = decimal-point 1*DIGIT: a digit after the point"),
    ("frac", "bare-point", "point-exponent", _value("1.e5"), "a point with no digit before the exponent"),
    ("exp", "empty-exponent", "empty-exponent", _value("1e"), "exp = e [ minus / plus ] 1*DIGIT: a digit"),
    # §7 strings, characters and escapes
    ("string", "single-quote", "single-quoted-value", '{"description": \'' + MARKER + "'}", "a string in single quotes"),
    ("char", "control-character", "raw-tab", _string("\t"), "an unescaped tab (U+0009)"),
    ("char", "control-character", "raw-line-feed", _string("\n"), "an unescaped line feed (U+000A)"),
    ("char", "control-character", "raw-nul", _string("\x00"), "an unescaped NUL (U+0000)"),
    ("escape", "bad-escape", "hex-escape", _string("\\x41"), "\\x is not an escape"),
    ("escape", "bad-escape", "quote-escape", _string("\\'"), "\\' is not an escape"),
    ("escape", "bad-escape", "long-unicode-escape", _string("\\U0001F3B5"), "\\U is not an escape"),
    ("escape", "bad-escape", "short-unicode-escape", _string("\\u12"), "\\u takes exactly four hex digits"),
    ("escape", "bad-escape", "non-hex-unicode-escape", _string("\\uZZZZ"), "\\u takes hex digits"),
    (
        "escape",
        "bad-escape",
        "line-continuation",
        _string("\\\n"),
        "a backslash before a line feed (JavaScript's line continuation)",
    ),
)

#: A valid body holding every production (escapes, a nested array and object, a number with sign,
#: fraction and exponent, the three literals), and where :func:`truncations` cuts it: after each
#: ``(production, prefix)``, the text ends inside that production.
BASE = '{"description": "' + MARKER + '\\u00e9", "extra": [-1.5e+2, true, false, {"k": null}]}'
_CUTS: tuple[tuple[str, str, str], ...] = (
    ("object", "after-open", "{"),
    ("member", "after-name", '{"description"'),
    ("member", "after-colon", '{"description":'),
    ("string", "inside-string", '{"description": "' + MARKER),
    ("escape", "after-backslash", '{"description": "' + MARKER + "\\"),
    ("escape", "inside-unicode-escape", '{"description": "' + MARKER + "\\u00"),
    ("object", "after-comma", '{"description": "' + MARKER + '\\u00e9",'),
    ("array", "after-open-bracket", '{"description": "' + MARKER + '\\u00e9", "extra": ['),
    ("number", "after-minus", '{"description": "' + MARKER + '\\u00e9", "extra": [-'),
    ("frac", "after-point", '{"description": "' + MARKER + '\\u00e9", "extra": [-1.'),
    ("exp", "after-exponent-sign", '{"description": "' + MARKER + '\\u00e9", "extra": [-1.5e+'),
    ("literal", "inside-literal", '{"description": "' + MARKER + '\\u00e9", "extra": [-1.5e+2, tru'),
    ("object", "inside-nested-object", '{"description": "' + MARKER + '\\u00e9", "extra": [-1.5e+2, true, false, {"k": null'),
    ("object", "before-last-brace", BASE[:-1]),
)


def truncations() -> list[Case]:
    """:data:`BASE` cut short inside each production it holds (every proper prefix of an object is
    malformed: the closing brace is missing)."""
    cases = []
    for production, name, prefix in _CUTS:
        if not BASE.startswith(prefix) or prefix == BASE:
            raise AssertionError(f"{name}: {prefix!r} is not a proper prefix of BASE")
        why = f"cut short: {prefix[-12:]!r} is the end of the body"
        cases.append(Case(f"{production}/truncated-{name}", production, "truncation", prefix.encode(), why))
    return cases


def _cases() -> tuple[Case, ...]:
    cases = [
        Case(f"{production}/{name}", production, mutation, text.encode("utf-8"), why)
        for production, mutation, name, text, why in _TABLE
    ]
    return (*cases, *truncations())


#: Every malformed body, in grammar order, truncations last.
CASES: tuple[Case, ...] = _cases()
BY_ID: dict[str, Case] = {case.id: case for case in CASES}

#: Bodies that look malformed but are not VAL-8's: the grammar allows them or the contract leaves them
#: free. A server may refuse them with any 4xx, or accept them as described (never a 5xx).
FREE_FORMS: dict[str, tuple[bytes, str]] = {
    "zero-bytes": (b"", "F17: a body of zero bytes is refused with 4xx or taken as {}"),
    "not-utf-8": (
        b'{"description": "' + MARKER.encode() + b' \xff end"}',
        "F17: bytes that are not UTF-8 are refused with 4xx or replaced by U+FFFD",
    ),
    "duplicate-key": (
        b'{"description": "' + MARKER.encode() + b' first", "description": "' + MARKER.encode() + b' last"}',
        "RFC 8259 §4: names SHOULD be unique, the grammar allows duplicates; F17: refused with 4xx or the last wins",
    ),
    "byte-order-mark": (
        b"\xef\xbb\xbf" + _object(_D).encode(),
        "RFC 8259 §8.1: a parser MAY ignore a leading byte order mark rather than treating it as an error",
    ),
    "lone-surrogate-escape": (
        _string("\\ud800").encode(),
        "the grammar's \\u 4HEXDIG allows a lone surrogate; F10 and F13 let a server refuse it with 422 or 400",
    ),
}

# ---- the grammar, recognized strictly -----------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERAL = re.compile(r"true|false|null")


def _skip_ws(text: str, position: int) -> int:
    match = _WS.match(text, position)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def is_json_text(text: str) -> bool:
    """Whether ``text`` is a JSON-text of RFC 8259's grammar (§2-§7), exactly: no extension of any
    parser, any depth of nesting (a pushdown recognizer, not recursion), duplicate names allowed."""
    position = 0
    stack: list[str] = []  # "{" or "[" for each open container
    expect = "value"  # value, first-value, name, first-name, colon, after
    while True:
        position = _skip_ws(text, position)
        char = text[position : position + 1]
        if expect in ("value", "first-value"):
            if char == "]" and expect == "first-value":
                stack.pop()
                position, expect = position + 1, "after"
            elif char in "{[" and char:
                stack.append(char)
                position, expect = position + 1, "first-name" if char == "{" else "first-value"
            else:
                match = _STRING.match(text, position) or _NUMBER.match(text, position) or _LITERAL.match(text, position)
                if match is None:
                    return False
                position, expect = match.end(), "after"
        elif expect in ("name", "first-name"):
            if char == "}" and expect == "first-name":
                stack.pop()
                position, expect = position + 1, "after"
            else:
                match = _STRING.match(text, position)
                if match is None:
                    return False
                position, expect = match.end(), "colon"
        elif expect == "colon":
            if char != ":":
                return False
            position, expect = position + 1, "value"
        else:  # after a value
            if not stack:
                return position == len(text)
            close = "}" if stack[-1] == "{" else "]"
            if char == ",":
                position, expect = position + 1, "name" if close == "}" else "value"
            elif char == close:
                stack.pop()
                position += 1
            else:
                return False


def classify(content: bytes) -> str:
    """What VAL-8 and F17 make of request bytes:

    - ``"json"``: a JSON text in UTF-8 (any value, duplicate names included: F17 judges those);
    - ``"free"``: a server may refuse it with any 4xx or accept it: zero bytes, bytes that are not
      UTF-8 but a JSON text once each bad byte is replaced by U+FFFD (F17), or a JSON text after a
      leading byte order mark (RFC 8259 §8.1);
    - ``"malformed"``: anything else, which VAL-8 says gets 4xx.
    """
    if content == b"":
        return "free"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return "free" if is_json_text(content.decode("utf-8", errors="replace")) else "malformed"
    if is_json_text(text):
        return "json"
    if text.startswith("\ufeff") and is_json_text(text[1:]):
        return "free"
    return "malformed"
