"""Conformant variants where the HTTP layer answers first (F14-F18), or the parser is stricter (F10):
each as a framework ships it. Those whose HTTP layer answers without the envelope break RESP-4 only
(``warns``): the suite must warn, and pass."""

from __future__ import annotations

import json
from typing import ClassVar
from urllib.parse import unquote

from conformance.fields import BODY_SIZE_FLOOR, JSON
from conformance.stub.app import ALLOWED_METHODS, PATH, Rejected, Reply, Request
from conformance.stub.catalogue import Variant, _no_constant, _recode, variant

#: F16: the size over which a body may be refused with 413.
MAX_BODY = BODY_SIZE_FLOOR


def _route(request: Request) -> dict[str, str] | None:
    """The path's ``org`` and ``collection`` segments (raw, percent-escapes kept), or ``None``."""
    match = PATH.match(request.path.split("?", 1)[0])
    return None if match is None else {"org": match["org"], "collection": match["collection"]}


def _unroutable(segment: str) -> bool:
    """F15: an id holding an encoded slash, NUL, or a dot segment (also percent-encoded)."""
    decoded = unquote(segment)
    return "/" in decoded or "\x00" in decoded or decoded in (".", "..")


def _accepts_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header admits ``application/json`` (RFC 9110 §12.5.1: the most specific
    matching range decides, ``q=0`` excludes); a header with no valid range is taken as absent."""
    if accept is None:
        return True
    valid, best = False, (-1, 0.0)
    for part in accept.split(","):
        kind, *parameters = (p.strip() for p in part.split(";"))
        if kind.count("/") != 1:
            continue
        valid = True
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        specificity = {"application/json": 2, "application/*": 1, "*/*": 0}.get(kind.lower(), -1)
        if specificity > best[0]:
            best = (specificity, q)
    return not valid or best[1] > 0


# ---- F15: ids an HTTP layer cannot route ---------------------------------------------------------


@variant
class RouterNotFoundOddIds(Variant):
    """F15, breaking RESP-4 only: the router matches the decoded, normalized path, so an id holding
    ``%2F`` or a dot segment matches no route and gets the framework's ``{"detail": "Not Found"}``; a
    ``%00`` is refused by the container with its HTML 400 page. Neither is the envelope."""

    name = "router-404-odd-ids"
    freedom = "F15"
    warns = ("RESP-4",)

    def dispatch(self, request: Request) -> Reply:
        route = _route(request)
        if route is not None and any(_unroutable(segment) for segment in route.values()):
            if any("\x00" in unquote(segment) for segment in route.values()):
                return Reply(400, b"<html><body><h1>400 Bad Request</h1></body></html>", {"content-type": "text/html"})
            return Reply(404, b'{"detail":"Not Found"}')
        return super().dispatch(request)


@variant
class OddIds400(Variant):
    """F15: a middleware refuses ids holding ``%2F``, a dot segment or NUL with 400 and the envelope,
    before the endpoint runs."""

    name = "odd-ids-400"
    freedom = "F15"

    def dispatch(self, request: Request) -> Reply:
        route = _route(request)
        if route is not None and any(_unroutable(segment) for segment in route.values()):
            return _recode(self.error(400, "malformed path", {}), "BAD_REQUEST", "client_error")
        return super().dispatch(request)


# ---- F14: other methods ---------------------------------------------------------------------------


class _OtherMethodsPage(Variant):
    """Methods other than those in ``handled`` never reach the endpoint: ``page`` answers them."""

    handled: ClassVar[tuple[str, ...]] = ALLOWED_METHODS

    def page(self, request: Request) -> Reply:
        raise NotImplementedError

    def dispatch(self, request: Request) -> Reply:
        if request.method not in self.handled and _route(request) is not None:
            return self.page(request)
        return super().dispatch(request)


@variant
class Starlette405Detail(_OtherMethodsPage):
    """F14, breaking RESP-4 only: Starlette's router answers a method the route lacks with 405
    ``{"detail": "Method Not Allowed"}`` and an ``Allow`` header (HEAD is served as GET), not the envelope."""

    name = "starlette-405-detail"
    freedom = "F14"
    warns = ("RESP-4",)

    def page(self, request: Request) -> Reply:
        return Reply(405, b'{"detail":"Method Not Allowed"}', {"content-type": "application/json", "allow": "GET, HEAD, PATCH"})


@variant
class ExpressDefaults(_OtherMethodsPage):
    """F14, breaking RESP-4 only: Express answers HEAD as GET and OPTIONS with 200 and the allowed
    methods as text (as HTTP defines them); TRACE gets its HTML 404 page ``Cannot TRACE /v1/...``; a
    method Node's parser does not know gets 400 with no body. None of them is the envelope."""

    name = "express-defaults"
    freedom = "F14"
    warns = ("RESP-4",)
    handled = ("GET", "HEAD", "PATCH")

    def page(self, request: Request) -> Reply:
        if request.method == "OPTIONS":
            return Reply(200, b"GET,HEAD,PATCH", {"content-type": "text/html; charset=utf-8", "allow": "GET,HEAD,PATCH"})
        if request.method == "TRACE":
            page = f"<!DOCTYPE html><html><body><pre>Cannot {request.method} {request.path}</pre></body></html>"
            return Reply(404, page.encode(), {"content-type": "text/html; charset=utf-8"})
        return Reply(400, b"", {"connection": "close"})


@variant
class Options204Others501(_OtherMethodsPage):
    """F14: OPTIONS is answered as HTTP defines it (204 with ``Allow``), HEAD as GET, and every other
    method gets 501 Not Implemented with the envelope."""

    name = "options-204-others-501"
    freedom = "F14"

    def page(self, request: Request) -> Reply:
        if request.method == "OPTIONS":
            return Reply(204, b"", {"allow": "GET, HEAD, OPTIONS, PATCH"})
        return _recode(self.error(501, f"{request.method} is not implemented", {}), "NOT_IMPLEMENTED", "server_error")


# ---- F13, F16, F17, F18, F10: what the HTTP layer or the parser refuses -----------------------


@variant
class BodyParser400Html(Variant):
    """F13, breaking VAL-9 and RESP-4 only: Express's ``body-parser`` (strict) refuses what is not JSON,
    and a top-level value that is not an object or array, with 400 and its HTML error page, before
    the endpoint runs."""

    name = "body-parser-400-html"
    freedom = "F13"
    warns = ("VAL-9", "RESP-4")

    def parse(self, request: Request) -> JSON:
        try:
            value = json.loads(request.body.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeError, ValueError, RecursionError):
            value = None
        if not isinstance(value, dict | list):
            page = b"<!DOCTYPE html><html><body><pre>SyntaxError: Unexpected token in JSON</pre></body></html>"
            raise Rejected(Reply(400, page, {"content-type": "text/html; charset=utf-8"}))
        return super().parse(request)


@variant
class BodyOver64KiB413(Variant):
    """F16: a body over 64 KiB is refused with 413 and the envelope, before the endpoint runs."""

    name = "body-over-64k-413"
    freedom = "F16"

    def dispatch(self, request: Request) -> Reply:
        if len(request.body) > MAX_BODY and _route(request) is not None:
            return _recode(self.error(413, "request body over 64 KiB", {}), "PAYLOAD_TOO_LARGE", "client_error")
        return super().dispatch(request)


@variant
class LenientBytes(Variant):
    """F17, its second side: a body of zero bytes is taken as ``{}``, bytes that are not UTF-8 are
    replaced by U+FFFD (``errors="replace"``), and of duplicate keys the last one wins (``json.loads``)."""

    name = "lenient-bytes"
    freedom = "F17"

    def parse(self, request: Request) -> JSON:
        if request.body == b"":
            return {}
        text = request.body.decode("utf-8", errors="replace")
        try:
            body = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            return super().parse(request)
        return super().parse(Request(request.method, request.path, request.headers, json.dumps(body).encode()))


@variant
class NotAcceptable406(Variant):
    """F18: an ``Accept`` header that excludes ``application/json`` is refused with 406 and the envelope."""

    name = "not-acceptable-406"
    freedom = "F18"

    def dispatch(self, request: Request) -> Reply:
        if not _accepts_json(request.headers.get("accept")) and _route(request) is not None:
            reply = self.error(406, "only application/json is served", {"accept": request.headers.get("accept")})
            return _recode(reply, "NOT_ACCEPTABLE", "client_error")
        return super().dispatch(request)


@variant
class LoneSurrogate400(Variant):
    """F10, widened: a lone surrogate escape (``"\\ud800"``) is a syntax error to the parser (serde_json's
    ``lone leading surrogate in hex escape``): 400 ``INVALID_JSON`` with the envelope, as malformed JSON."""

    name = "lone-surrogate-400"
    freedom = "F10"

    def parse(self, request: Request) -> JSON:
        try:
            value = json.loads(request.body.decode("utf-8"), parse_constant=_no_constant)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate cannot be encoded
            raise Rejected(
                _recode(self.error(400, "lone surrogate in a \\u escape", {}), "INVALID_JSON", "client_error")
            ) from None
        except (UnicodeError, ValueError, RecursionError):
            pass  # the reference refuses it (422)
        return super().parse(request)
