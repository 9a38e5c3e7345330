"""Nothing leaked: a run with canary keys against a target that echoes them back writes them nowhere.

The target (a stub served in this process) puts every request header into its error bodies, its
response headers and cookies, as is and in escaped forms (every character percent-encoded, JSON
``\\u`` escapes, the ``repr`` of the bytes), and answers some PATCHes with a 500 that does the same.
The base URL carries a ``user:password@``, sent as Basic authentication, which the target echoes too.
The suite runs against it as verbosely as it can (every log record, local variables in tracebacks,
JUnit, reports, pytest's cache) from a scratch directory, and every byte it printed or wrote is
searched, in any letter case, for each secret, the keys the suite derives from them (the real key less
its last character), and their escaped forms.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from pathlib import Path

from conformance.stub import RunningStub, StubApp
from conformance.stub.app import Reply, Request

from .conftest import ROOT, clean_environ


class Echoing(StubApp):
    """The reference stub with known keys, which sends every request header back, everywhere it can."""

    name = "echoing"

    def __init__(self, key: str, foreign_key: str) -> None:
        super().__init__()
        self.keys = {key: self.org_id, foreign_key: self.foreign_org_id}
        self.api_key, self.foreign_api_key = key, foreign_key

    def handle(self, request: Request) -> Reply:
        echoed: dict[str, object] = dict(request.headers)
        echoed["forms"] = forms(request.headers.get("x-api-key", ""))
        if request.method == "PATCH" and b"cover_image_url" in request.body and b'"name"' not in request.body:  # not the restore
            reply = Reply(500, json.dumps({"success": False, "request_headers": echoed}).encode())
        else:
            reply = super().handle(request)
        if reply.status >= 400:
            document = json.loads(reply.body or b"{}")
            document.setdefault("error", {}).setdefault("details", {})["request_headers"] = echoed
            reply.body = json.dumps(document).encode()
        key = request.headers.get("x-api-key", "")
        reply.headers.update({"x-echo-api-key": key, "set-cookie": f"session={key}", "www-authenticate": f'Key realm="{key}"'})
        reply.headers.update({f"x-echo-{name}": form for name, form in forms(key).items() if form.isascii()})
        reply.headers["x-echo-authorization"] = request.headers.get("authorization", "")
        return reply


def forms(value: str) -> dict[str, str]:
    """``value`` written as a target, a library or a renderer may write it."""
    return {
        "percent": "".join(f"%{byte:02X}" for byte in value.encode()),
        "json": "".join(f"\\u{ord(char):04x}" for char in value),
        "repr": repr((value + "\n").encode()),
    }


def test_canary_keys_appear_nowhere_the_suite_prints_or_writes(tmp_path: Path) -> None:
    key, foreign_key = "sk_canary_" + secrets.token_hex(12), "sk_canary_foreign_" + secrets.token_hex(12)
    password = "pw_canary_" + secrets.token_hex(8)
    app = Echoing(key, foreign_key)
    work = tmp_path / "work"
    work.mkdir()
    (work / "pytest.ini").write_text("[pytest]\n")
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        env = clean_environ({"CONFORMANCE_API_KEY": key, "CONFORMANCE_FOREIGN_API_KEY": foreign_key, "PYTHONPATH": str(ROOT)})
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "--pyargs", "conformance", "-c", str(work / "pytest.ini"), "--rootdir", str(work),
             "--base-url", seed.base_url.replace("://", f"://ci-user:{password}@"), "--org-id", seed.org_id,
             "--collection-id", seed.collection_id,
             "--foreign-org-id", seed.foreign_org_id, "--foreign-collection-id", seed.foreign_collection_id,
             "--track-id", seed.track_ids[0], "--examples", "1", "--report-dir", str(work / "reports"),
             "--junitxml", str(work / "junit.xml"), "-o", "junit_logging=all", "--log-level", "DEBUG",
             "-l", "-vv", "--tb=long", "-rA"],
            cwd=work, env=env, capture_output=True, timeout=180, check=False,
        )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output.decode(errors="replace")[-3000:]  # the 500s fail rules: a judged run
    assert b"received: HTTP 500" in output  # the echoing answers were shown as evidence
    written = [path for path in work.rglob("*") if path.is_file()]
    assert work / "junit.xml" in written
    assert any(path.parent == work / "reports" for path in written), "no report was written"
    assert any(".pytest_cache" in path.parts for path in written), "pytest's cache was not written"
    assert b"x-echo-percent" in output  # the escaped forms were echoed, and shown as evidence
    basic = base64.b64encode(f"ci-user:{password}".encode()).decode()
    canaries = [key, key[:-1], foreign_key, foreign_key[:-1], password, basic]
    needles = {needle.lower().encode() for canary in canaries for needle in (canary, *forms(canary).values())}
    needles |= {repr(canary.encode())[2:-1].lower().encode() for canary in canaries}
    for data, where in [(output, "printed"), *((path.read_bytes(), str(path.relative_to(work))) for path in written)]:
        lowered = data.lower()
        for needle in needles:
            assert needle not in lowered, f"{where}: ...{_around(lowered, needle)}..."


def _around(data: bytes, needle: bytes) -> str:
    at = data.find(needle)
    return data[max(0, at - 200) : at + len(needle) + 50].decode(errors="replace")
