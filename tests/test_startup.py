"""What a process of the suite imports before its first request: only what it uses."""

from __future__ import annotations

import ssl
import subprocess
import sys

from conformance.transport import certificates


def test_httpx_comes_without_its_command_line_client() -> None:
    """httpx imports its command-line client (click, rich, pygments: about 0.04 s of CPU in every
    process and worker) whenever they are installed; the suite's client imports httpx without it, and
    the client module stays there for whoever asks for it by name."""
    code = (
        "import sys\n"
        "import conformance.client, conformance.guard\n"
        "import httpx\n"
        "loaded = sorted(m for m in ('click', 'rich', 'pygments', 'httpx._main') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
        "assert httpx.Client and httpx.URL('http://example.test/a').raw_host == b'example.test'\n"
        "import httpx._main\n"
        "assert callable(httpx._main.main), 'the real command-line client, asked for by name'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_a_plain_http_target_loads_no_certificates_and_trusts_none() -> None:
    """Loading certifi's certificates costs 0.05 s of CPU per process; a plain-HTTP target negotiates no
    TLS, so the client gets a context that trusts no certificate (a handshake would fail, never go
    unverified). An ``https`` target gets httpx's default verification."""
    assert certificates("https://staging.example.test") is True
    assert certificates("HTTPS://staging.example.test") is True
    found = certificates("http://127.0.0.1:8080")
    assert isinstance(found, ssl.SSLContext)
    assert found.verify_mode == ssl.CERT_REQUIRED
    assert found.check_hostname
    assert found.cert_store_stats()["x509_ca"] == 0, "no certificate is trusted"
