"""httpx, imported without its command-line client.

httpx's ``__init__`` imports its command-line client (``httpx._main``, and with it click, rich and
pygments) whenever those are installed, and schemathesis installs them: about 0.04 s of CPU in every
process that imports httpx (each pytest-xdist worker, and the controller), for a command the suite
never runs. While httpx is first imported here, a stand-in without ``main`` takes that module's place,
so that httpx defines the fallback it has for when they are missing; the stand-in is then removed, so
that an explicit ``import httpx._main`` still gets the real one. Should a later httpx not fall back,
it is imported again as it is.

The suite's modules import httpx from here (``from conformance._httpx import httpx``).
"""

from __future__ import annotations

import sys
import types


def _without_cli() -> None:
    if "httpx" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main")
    sys.modules["httpx._main"] = stand_in
    try:
        import httpx  # noqa: F401
    except ImportError:
        for name in [n for n in sys.modules if n == "httpx" or n.startswith("httpx.")]:
            del sys.modules[name]
    finally:
        if sys.modules.get("httpx._main") is stand_in:
            del sys.modules["httpx._main"]


_without_cli()

import httpx  # noqa: E402

__all__ = ["httpx"]
