"""Keys are masked in any letter case and any escaped form, keys the suite derives from the real one are
secrets too, and no log record of any logger, at any level, shows one."""

from __future__ import annotations

import base64
import html
import json
import logging
from urllib.parse import quote

import pytest

from conformance.redaction import MASK, Redactor, char_pattern, redact_logs

KEY = "sk_Live_AbCd1234/x'y\"z\\w"


def test_secrets_are_masked_in_any_case() -> None:
    redactor = Redactor(["sk_Live_AbCd1234"])
    text = "got sk_Live_AbCd1234, SK_lIVE_aBcD1234 and sk_live_abcd1234"
    assert redactor.text(text) == f"got {MASK}, {MASK} and {MASK}"


def test_added_secrets_are_masked_longest_first() -> None:
    redactor = Redactor(["sk_live_abcd1234"])
    redactor.add("sk_live_abcd123")  # the real key less its last character, sent by an AUTH-2 test
    assert redactor.text("echo: sk_live_abcd123|") == f"echo: {MASK}|"
    assert redactor.text("echo: sk_live_abcd1234|") == f"echo: {MASK}|"


def test_short_values_are_masked_only_in_secret_headers() -> None:
    redactor = Redactor(["abc"])
    assert redactor.text("abc") == "abc"
    assert redactor.header("X-Api-Key", "abc") == MASK


def _every_char(key: str, form: str) -> str:
    return "".join(form.format(ord(c)) for c in key)


FORMS = {
    "repr of str": repr(KEY),
    "repr of bytes": repr(KEY.encode()),
    "repr of bytes with a newline": repr((KEY + "\n").encode()),
    "JSON": json.dumps(KEY),
    "JSON, every character escaped": '"' + _every_char(KEY, "\\u{:04x}") + '"',
    "JSON, upper-case escapes": '"' + _every_char(KEY, "\\u{:04X}") + '"',
    "JSON, some characters escaped": json.dumps(KEY).replace("s", "\\u0073").replace("_", "\\u005F"),
    "percent-encoded": quote(KEY, safe=""),
    "percent-encoded, every character": _every_char(KEY, "%{:02X}"),
    "percent-encoded, lower-case": _every_char(KEY, "%{:02x}"),
    "Python hex escapes": _every_char(KEY, "\\x{:02x}"),
    "HTML": html.escape(KEY),
    "HTML, numeric references": _every_char(KEY, "&#{};"),
    "HTML, hexadecimal references": _every_char(KEY, "&#x{:x};"),
    "upper case": KEY.upper(),
}


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_secret_is_masked(form: str) -> None:
    written = FORMS[form]
    assert written != MASK
    masked = Redactor([KEY]).text(f"before {written} after")
    assert masked.startswith("before ")
    assert masked.endswith(" after")
    assert "Live" not in masked, masked
    assert "AbCd" not in masked, masked
    assert MASK in masked


def test_non_ascii_and_astral_secrets_are_masked_in_their_escaped_forms() -> None:
    secret = "clé🎵-secret"
    redactor = Redactor([secret])
    for written in (json.dumps(secret), quote(secret), repr(secret.encode()), secret, ascii(secret)):
        masked = redactor.text(f"<{written}>")
        assert MASK in masked, written
        assert "secret" not in masked, masked
        assert "cl" not in masked, masked


def test_bytes_are_masked_and_bytes_that_are_not_utf8_kept() -> None:
    redactor = Redactor([KEY])
    assert redactor.bytes(b"\xff " + KEY.encode() + b" \xfe") == b"\xff *** \xfe"


def test_text_without_a_secret_is_returned_unchanged() -> None:
    redactor = Redactor([KEY])
    for text in ("plain", "with \\u00e9 escapes and %20 and &amp;", "sk_Live_AbCd123 is not the key"):
        assert redactor.text(text) == text


def test_a_character_pattern_matches_only_that_character() -> None:
    import re

    pattern = re.compile(char_pattern("a"), re.IGNORECASE)
    for form in ("a", "A", "%61", "\\u0061", "\\x61", "&#97;", "&#x61;"):
        assert pattern.fullmatch(form), form
    for other in ("b", "%62", "\\u0062", "&#98;"):
        assert not pattern.fullmatch(other), other


def test_a_long_secret_compiles() -> None:
    secret = "k" * 5000
    assert Redactor([secret]).text(f"[{secret}]") == f"[{MASK}]"


# ---- log records -------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL])
@pytest.mark.parametrize("logger", ["httpcore.http11", "schemathesis", "some.library", ""])
def test_no_log_record_of_any_logger_or_level_shows_a_key(caplog: pytest.LogCaptureFixture, logger: str, level: int) -> None:
    key = "sk_logged_" + logger.replace(".", "_") + str(level)
    redactor = Redactor([key])
    redact_logs(redactor)
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger(logger)
    log.log(level, "headers %r and %s", [(b"x-api-key", key.encode())], quote(key, safe=""))
    log.log(level, f"formatted already: {json.dumps(key, ensure_ascii=True)}")
    assert len(caplog.records) == 2
    assert key not in caplog.text
    assert key.encode().hex() not in caplog.text
    assert caplog.text.count(MASK) == 3


def test_keys_derived_later_are_masked_in_logs_too(caplog: pytest.LogCaptureFixture) -> None:
    real = "sk_derived_base_0123456789"
    redactor = Redactor([real])
    redact_logs(redactor)
    redactor.add(real[:-1], real.swapcase())  # what AUTH-2 sends, added as the test makes it
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpcore.http11").debug("receive_response_headers.complete return_value=%r", [real[:-1].encode()])
    logging.getLogger("anything").info("echo %s", real.swapcase())
    assert real[:-1] not in caplog.text
    assert real.swapcase()[:-1] not in caplog.text
    assert caplog.text.count(MASK) == 2


def test_tracebacks_stacks_and_broken_arguments_of_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    key = "sk_in_a_traceback_42"
    redact_logs([key])
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("any.logger")
    try:
        raise ValueError(f"Illegal header value {(key + chr(10)).encode()!r}")
    except ValueError:
        log.exception("request failed")
    log.warning("with its stack", stack_info=True, extra={"unused": key})
    log.error("arguments that do not fit %d", key)  # logging would print both, raw
    text = caplog.text + "".join(logging.Formatter().format(record) for record in caplog.records)
    assert key not in text
    assert "Illegal header value b'***\\n'" in text


def test_the_basic_authorization_value_is_a_secret_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    basic = base64.b64encode(b"ci-user:pa55-word-long").decode()
    redact_logs([basic])
    caplog.set_level(logging.DEBUG)
    logging.getLogger("x").debug("Authorization: Basic %s", basic)
    assert basic not in caplog.text
