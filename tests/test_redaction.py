"""Keys are masked in any letter case, and keys the suite derives from the real one are secrets too."""

from __future__ import annotations

from conformance.redaction import MASK, Redactor


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
