"""Keep secrets out of everything the suite prints or writes: API keys become ``***``."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
#: Header names whose values are always masked, whatever they hold.
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "cookie", "proxy-authorization"})


class Redactor:
    """Replaces every known secret in a text with ``***``; secrets shorter than 4 characters are
    masked only in secret headers (masking every ``a`` of a text would hide the evidence)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        for secret in secrets:
            if secret and len(secret) >= 4 and secret not in self._secrets:
                self._secrets.append(secret)
        self._secrets.sort(key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` with every secret masked, in any letter case (a target may echo a key case-changed)."""
        folded = value.casefold()
        for secret in self._secrets:
            if secret.casefold() in folded:
                value = re.sub(re.escape(secret), MASK, value, flags=re.IGNORECASE)
                folded = value.casefold()
        return value

    def header(self, name: str, value: str) -> str:
        return MASK if name.lower() in SECRET_HEADERS else self.text(value)
