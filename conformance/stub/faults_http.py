"""Faults of the HTTP layer, each as a real stack ships it: lenient JSON parsers, which accept more
than RFC 8259 and apply what they read (VAL-8; ``conformance.malformed`` holds a case each of them
accepts), an id cut short at a NUL (OWN-1), and what F16 and F17 do not allow (SEM-3), a method
lookup that fails (RESP-3)."""

from __future__ import annotations

import ast
import json
import re
from typing import ClassVar
from urllib.parse import unquote

from conformance.fields import BODY_SIZE_FLOOR, JSON
from conformance.stub.app import Collection, Rejected, Reply, Request
from conformance.stub.catalogue import Fault, _no_constant, _recode, fault

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


@fault
class Latin1Fallback(Fault):
    """SEM-3: bytes that are not UTF-8 are decoded as Latin-1 instead (``except UnicodeDecodeError:
    body.decode("latin-1")``): a body F17 lets a server refuse, or accept with U+FFFD, stores ``ÿ`` for ``\\xff``."""

    name = "latin1-fallback"
    breaks = ("SEM-3",)

    def parse(self, request: Request) -> JSON:
        try:
            request.body.decode("utf-8")
        except UnicodeDecodeError:
            body = request.body.decode("latin-1").encode("utf-8")
            return super().parse(Request(request.method, request.path, request.headers, body))
        return super().parse(request)


@fault
class BodyLimit400(Fault):
    """SEM-3: the framework's body limit is set to 64 KiB and a larger body gets 400 (Django's
    ``RequestDataTooBig``): a valid body over 64 KiB is neither stored nor refused with 413 (F16)."""

    name = "body-limit-400"
    breaks = ("SEM-3",)

    def parse(self, request: Request) -> JSON:
        if len(request.body) > BODY_SIZE_FLOOR:
            raise Rejected(_recode(self.error(422, "request body too large", {}), "BAD_REQUEST", "client_error", status=400))
        return super().parse(request)


@fault
class MethodLookup500(Fault):
    """RESP-3: the handler is looked up as ``getattr(view, method.lower())``, unguarded: a method the view
    lacks (TRACE, an unknown token) raises AttributeError, a 500 (F14 allows 405, 404 or 501)."""

    name = "method-lookup-500"
    breaks = ("RESP-3",)

    def dispatch(self, request: Request) -> Reply:
        if request.method not in ("GET", "HEAD", "PATCH", "OPTIONS"):
            raise AttributeError(request.method.lower())
        return super().dispatch(request)
