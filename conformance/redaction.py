"""Keep secrets out of everything the suite prints or writes: API keys become ``***``.

A secret is masked in every form a target, a library or a renderer may write it, not only as is:

- in any letter case (a target may echo a key case-changed);
- with any of its characters escaped, mixed freely, the way JSON writes them (``\\u0073``, ``\\"``,
  ``\\/``), Python's ``repr`` of a ``str`` or ``bytes`` (``\\x73``, ``\\\\``, ``\\'``, ``\\n``), a URL
  (``%73``, ``%5F``, ``+``) or HTML and XML (``&#x73;``, ``&#115;``, ``&amp;``).

The secrets are compiled into one regular expression shaped as a trie (secrets that share a prefix,
such as a key and the keys derived from it, share its pattern), so a text is scanned once whatever
the number of secrets; a text holding no escape at all is searched with plain substring tests.

:func:`redact_logs` masks them in every log record of the process as well, whatever its logger and
level, before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

MASK = "***"
#: Header names whose values are always masked, whatever they hold.
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "cookie", "proxy-authorization"})
#: Secrets shorter than this are masked only in secret headers (masking every ``a`` of a text would hide the evidence).
MIN_LENGTH = 4

#: The characters that start an escaped form; a text without any holds a secret only as is.
_ESCAPES = re.compile(r"[\\%&+]")
#: Escapes of JSON and Python that name the character instead of its code.
_NAMED = {"\\": "\\\\", "'": "\\'", '"': '\\"', "/": "\\/", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_HTML = {"&": ("&amp;",), "<": ("&lt;",), ">": ("&gt;",), '"': ("&quot;",), "'": ("&apos;", "&#x27;")}


def char_pattern(char: str) -> str:
    """A regular expression (used with ``re.IGNORECASE``) for ``char`` as is or in any escaped form."""
    code = ord(char)
    utf8 = char.encode("utf-8", "surrogatepass")
    forms = [char, "".join(f"%{byte:02x}" for byte in utf8)]
    if code < 0x10000:
        forms.append(f"\\u{code:04x}")
    else:  # JSON writes an astral character as a surrogate pair; Python as \U
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms += [f"\\u{high:04x}\\u{low:04x}", f"\\U{code:08x}"]
    if code < 0x100:
        forms.append(f"\\x{code:02x}")
    if code >= 0x80:  # the repr of the UTF-8 bytes
        forms.append("".join(f"\\x{byte:02x}" for byte in utf8))
    if char == " ":
        forms.append("+")
    forms += [_NAMED[char]] if char in _NAMED else []
    forms += _HTML.get(char, ())
    alternatives = [re.escape(form) for form in forms] + [rf"&\#(?:0*{code}|x0*{code:x});"]
    return "(?:" + "|".join(alternatives) + ")"


_Node = dict[str, "_Node"]


def _trie(secrets: Iterable[str]) -> str:
    """One pattern for all ``secrets``; at every branch the longer continuations are tried first."""
    root: _Node = {}
    for secret in secrets:
        node = root
        for char in secret:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: _Node) -> str:
        parts: list[str] = []
        while len(node) == 1 and "" not in node:  # a chain without a branch: no recursion, whatever its length
            ((char, node),) = node.items()
            parts.append(char_pattern(char))
        alternatives = [char_pattern(char) + emit(child) for char, child in node.items() if char]
        if "" in node:
            alternatives.append("")
        if alternatives != [""]:
            parts.append("(?:" + "|".join(alternatives) + ")")
        return "".join(parts)

    return emit(root)


class Redactor:
    """Replaces every known secret in a text, in any of its forms, with ``***``; secrets shorter than
    4 characters are masked only in secret headers. Thread-safe: tests add derived keys while other
    threads redact."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        #: The pattern and the case-folded secrets, replaced together (readers take no lock).
        self._compiled: tuple[re.Pattern[str], tuple[str, ...]] | None = None
        self.add(*secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def add(self, *secrets: str) -> None:
        """Mask these values too from now on (a key derived from the real one, a password)."""
        with self._lock:
            known = list(self._secrets)
            for secret in secrets:
                if secret and len(secret) >= MIN_LENGTH and secret not in known:
                    known.append(secret)
            if len(known) == len(self._secrets):
                return
            known.sort(key=len, reverse=True)
            self._compiled = (re.compile(_trie(known), re.IGNORECASE), tuple(secret.casefold() for secret in known))
            self._secrets = tuple(known)

    def text(self, value: str) -> str:
        """``value`` with every secret masked, in any letter case and any escaped form."""
        compiled = self._compiled
        if compiled is None:
            return value
        pattern, folded_secrets = compiled
        if _ESCAPES.search(value) is None:  # only the plain forms are possible: a fast test first
            folded = value.casefold()
            if not any(secret in folded for secret in folded_secrets):
                return value
        return pattern.sub(MASK, value)

    def bytes(self, data: bytes) -> bytes:
        """``data`` with every secret masked; bytes that are not UTF-8 are kept as they are."""
        text = data.decode("utf-8", "surrogateescape")
        masked = self.text(text)
        return data if masked is text else masked.encode("utf-8", "surrogateescape")

    def header(self, name: str, value: str) -> str:
        return MASK if name.lower() in SECRET_HEADERS else self.text(value)


# ---- log records -----------------------------------------------------------------------------------

_PROCESS = Redactor()  # secrets given by value: masked for the life of the process
_REDACTORS: weakref.WeakSet[Redactor] = weakref.WeakSet([_PROCESS])
_INSTALL = threading.Lock()
_installed: list[Callable[..., logging.LogRecord]] = []


def redact_logs(secrets: Iterable[str] | Redactor) -> None:
    """Mask ``secrets`` in every log record created from now on in this process, of any logger and
    level. Given a :class:`Redactor`, what is added to it later (keys derived from the real one) is
    masked too, for as long as it lives."""
    if isinstance(secrets, Redactor):
        _REDACTORS.add(secrets)
    else:
        _PROCESS.add(*secrets)
    with _INSTALL:
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                mask_record(record)
                return record

            _installed.append(factory)
            logging.setLogRecordFactory(factory)


def _masked(text: str) -> str:
    for redactor in list(_REDACTORS):
        text = redactor.text(text)
    return text


def mask_record(record: logging.LogRecord) -> None:
    """Mask every known secret in ``record``: its message with its arguments, its traceback, its stack.

    A record factory calls it as the record is created, before any filter or handler (pytest's
    capture, ``--log-level DEBUG``, JUnit's logs, a log file) sees it: a logger's own filters see only
    the records of that logger, a handler's only those that reach it. A record that holds no secret
    is left as it is.
    """
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: logging would print both, raw
        message = f"{record.msg} {record.args!r}"
        record.msg, record.args = message, None
    masked = _masked(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        masked = _masked(text)
        if masked != text:
            record.exc_text = masked
    if record.stack_info:
        record.stack_info = _masked(record.stack_info)
