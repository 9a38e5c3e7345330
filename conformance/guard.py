"""The production guard: the suite changes data, so it refuses a production-looking target.

Production-looking means the public host of the API page (``api.aitronos.com``) or any other host
under ``aitronos.com``; ``--allow-production`` overrides, for someone who really means it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: The API page's public host, and the domain every other production host lives under.
PUBLIC_HOST = "api.aitronos.com"
PRODUCTION_DOMAIN = "aitronos.com"


def production_reason(base_url: str) -> str | None:
    """Why ``base_url`` looks like production, or ``None`` when it does not."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == PUBLIC_HOST:
        return f"{host} is the public production host of the API page"
    if host == PRODUCTION_DOMAIN or host.endswith("." + PRODUCTION_DOMAIN):
        return f"{host} is under {PRODUCTION_DOMAIN}, the production domain of the API page"
    return None
