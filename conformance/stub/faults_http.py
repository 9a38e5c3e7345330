"""Faults of the HTTP layer, each as a real stack ships it: lenient JSON parsers, which accept more
than RFC 8259 and apply what they read (VAL-8; ``conformance.malformed`` holds a case each of them
accepts), and an id cut short at a NUL (OWN-1)."""

from __future__ import annotations

import ast
import json
import re
from typing import ClassVar
from urllib.parse import unquote

from conformance.rules import JSON
from conformance.stub.app import Collection, Request
from conformance.stub.catalogue import Fault, _no_constant, fault

#: A JSON string, or a comment: comments are found outside strings only (as strip-json-comments does).
_STRING_OR_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*")|//[^\n]*|/\*.*?\*/', re.S)
#: A JSON string, or a comma before a closing bracket.
_STRING_OR_TRAILING_COMMA = re.compile(r'("(?:[^"\\]|\\.)*")|,(\s*[}\]])', re.S)


class _LenientParser(Fault):
    """Reads the body with ``loads``; what it cannot read gets the reference's 422. Lone surrogates
    are still refused (as the reference does), so that only the parser's leniency differs."""

    breaks: ClassVar[tuple[str, ...]] = ("VAL-8",)

    def loads(self, text: str) -> JSON:
        raise NotImplementedError

    def parse(self, request: Request) -> JSON:
        try:
            body = self.loads(request.body.decode("utf-8"))
            json.dumps(body, ensure_ascii=False).encode("utf-8")  # lone surrogates fail here
        except (UnicodeError, ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            return super().parse(request)
        return body


@fault
class TrailingContentApplied(_LenientParser):
    """VAL-8: the body is read with ``json.JSONDecoder().raw_decode`` (as Go's ``json.NewDecoder(r).Decode``
    reads one value): whatever follows the first value is ignored, and ``{"description": "x"} x`` is applied."""

    name = "trailing-content-applied"

    def loads(self, text: str) -> JSON:
        value, _ = json.JSONDecoder(parse_constant=_no_constant).raw_decode(text.lstrip(" \t\r\n"))
        return value


@fault
class PythonJsonDefaults(_LenientParser):
    """VAL-8: ``json.loads`` at its defaults (Flask's ``request.get_json()``): ``NaN``, ``Infinity`` and
    ``-Infinity`` are read as numbers, so a body holding one is applied."""

    name = "python-json-defaults"

    def loads(self, text: str) -> JSON:
        return json.loads(text)


@fault
class LiteralEvalFallback(_LenientParser):
    """VAL-8: what ``json.loads`` refuses is tried again with ``ast.literal_eval``: single quotes,
    ``True``/``None``, trailing commas, ``+1``, ``0x1F`` and ``#`` comments are applied as if JSON."""

    name = "literal-eval-fallback"

    def loads(self, text: str) -> JSON:
        try:
            return json.loads(text, parse_constant=_no_constant)
        except ValueError:
            value = ast.literal_eval(text)
            if not isinstance(value, dict):
                raise ValueError("not an object") from None
            return value


class _Preprocessed(_LenientParser):
    """Rewrites the text outside strings with ``pattern`` (a string, or the part to change) before
    ``json.loads``, as a preprocessing step bolted onto a strict parser."""

    pattern: ClassVar[re.Pattern[str]]

    def rewrite(self, match: re.Match[str]) -> str:
        raise NotImplementedError

    def loads(self, text: str) -> JSON:
        return json.loads(self.pattern.sub(self.rewrite, text), parse_constant=_no_constant)


@fault
class CommentsStripped(_Preprocessed):
    """VAL-8: ``//`` and ``/* */`` comments are stripped before parsing (JSONC, strip-json-comments,
    Jackson's ``ALLOW_COMMENTS``): a body with a comment is applied."""

    name = "comments-stripped"
    pattern = _STRING_OR_COMMENT

    def rewrite(self, match: re.Match[str]) -> str:
        return match.group(1) or " "


@fault
class TrailingCommasAccepted(_Preprocessed):
    """VAL-8: a comma before ``}`` or ``]`` is dropped before parsing (JSON5, Jackson's
    ``ALLOW_TRAILING_COMMA``): ``{"description": "x",}`` is applied."""

    name = "trailing-commas-accepted"
    pattern = _STRING_OR_TRAILING_COMMA

    def rewrite(self, match: re.Match[str]) -> str:
        return match.group(1) or match.group(2)


@fault
class ControlCharactersAccepted(_LenientParser):
    """VAL-8: ``json.loads(text, strict=False)``, to be tolerant of pasted text: a tab, line feed or NUL
    unescaped inside a string is read, and the body applied."""

    name = "control-characters-accepted"

    def loads(self, text: str) -> JSON:
        return json.loads(text, strict=False, parse_constant=_no_constant)


@fault
class NulTruncatesId(Fault):
    """OWN-1: the percent-decoded id reaches a C library as a NUL-terminated string: ``mcoll_4a1f...%00``
    is cut at the NUL and finds ``mcoll_4a1f...``, so an id that does not exist gets 200."""

    name = "nul-truncates-id"
    breaks = ("OWN-1",)

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        return super().find(caller, org_id, unquote(collection_id).split("\x00", 1)[0])
