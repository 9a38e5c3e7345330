"""The production guard: the suite changes data, so it refuses a production-looking target.

Production-looking means the public host of the API page (``api.aitronos.com``) or any other host
under ``aitronos.com``; ``--allow-production`` overrides, for someone who really means it.

The host is read exactly as the HTTP client will read it (``httpx.URL(...).raw_host``: the host it
resolves and connects to, after its IDNA encoding, which maps the Unicode full stops U+3002, U+FF0E
and U+FF61 to dots, and lower-cases), and then normalized further, never less: a trailing dot, a
percent-encoded host (``api%2Eaitronos.com``) and the UTS-46 mapping (full-width letters, which a
later client may accept) are undone as well. A host matches when any of these forms does.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import idna

from conformance._httpx import httpx

#: The API page's public host, and the domain every other production host lives under.
PUBLIC_HOST = "api.aitronos.com"
PRODUCTION_DOMAIN = "aitronos.com"


def hosts(base_url: str) -> set[str]:
    """Every form of the host of ``base_url`` a client may connect to, lower-case, without trailing dots."""
    forms: set[str] = set()
    try:
        raw = httpx.URL(base_url).raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raw = urlsplit(base_url).hostname or ""
    candidates = {raw, unquote(raw)}
    for candidate in list(candidates):
        for uts46 in (False, True):
            try:
                candidates.add(idna.decode(idna.encode(candidate, uts46=uts46)))
                candidates.add(idna.encode(candidate, uts46=uts46).decode("ascii"))
            except (idna.IDNAError, UnicodeError, ValueError):
                pass
    for candidate in candidates:
        forms.add(candidate.lower().rstrip("."))
    return forms


def production_reason(base_url: str) -> str | None:
    """Why ``base_url`` looks like production, or ``None`` when it does not."""
    for host in sorted(hosts(base_url)):
        if host == PUBLIC_HOST:
            return f"{host} is the public production host of the API page"
        if host == PRODUCTION_DOMAIN or host.endswith("." + PRODUCTION_DOMAIN):
            return f"{host} is under {PRODUCTION_DOMAIN}, the production domain of the API page"
    return None
