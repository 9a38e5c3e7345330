"""Targets that misbehave: refused connections, silence, garbage, rate limits; and the production guard.

Each test starts a small server on 127.0.0.1 (``tests/misbehaving.py``) and runs the suite against it
in a subprocess, with short timeouts and a few conformance tests, so the whole module stays fast.
"""

from __future__ import annotations

import base64
import email.utils
import json
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from conformance import checks, config, guard
from conformance.checks import Violation
from conformance.client import PROBE_METHODS, UNKNOWN_METHOD, BrokenResponse, Client, UnsafeMethod
from conformance.pacing import Pacer, parse_rate, retry_after
from conformance.stub.app import Request

from .conftest import SuiteRun, run_suite
from .misbehaving import CLOSE, HANG, Misbehaving, Respond, raw, well_formed

#: The conformance tests of the responses section: a few PATCHes and GETs, fast.
FEW = ("-k", "test_responses", "--examples", "1")


def against(server: Misbehaving, *args: str, timeout: float = 60) -> tuple[SuiteRun, float]:
    """Run the suite against ``server`` with its seed's key and ids; returns the run and its seconds."""
    seed = server.seed()
    started = time.monotonic()
    run = run_suite(
        "--base-url", seed["base_url"], "--api-key", seed["api_key"], "--org-id", seed["org_id"],
        "--collection-id", seed["collection_id"], *args, timeout=timeout,
    )  # fmt: skip
    return run, time.monotonic() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- refused, silent, slow ---------------------------------------------------------------------


def test_connection_refused_exits_3_within_15_s_with_one_line_naming_url_and_cause(tmp_path: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    run = run_suite(
        "--base-url", url, "--api-key", "k-refused", "--org-id", "org_1", "--collection-id", "mcoll_1",
        "--report-dir", str(tmp_path), timeout=30,
    )  # fmt: skip
    assert time.monotonic() - started < 15
    assert run.returncode == 3, run.output
    lines = [line for line in run.output.splitlines() if url in line and "Connection refused" in line]
    assert lines, run.output
    assert "target unreachable" in lines[0]


def test_a_target_that_never_answers_is_bounded_by_the_request_timeout(tmp_path: Any) -> None:
    with Misbehaving(respond=lambda request: HANG) as server:
        run, seconds = against(server, "--request-timeout", "1", "--report-dir", str(tmp_path), timeout=30)
    assert run.returncode == 3, run.output
    assert seconds < 12, f"{seconds:.1f} s: the request timeout of 1 s was not applied"
    assert any(server.base_url in line and "ReadTimeout" in line for line in run.output.splitlines()), run.output


def test_max_time_bounds_the_whole_run_and_still_restores(tmp_path: Any) -> None:
    """GETs answer (so the run starts), every PATCH hangs: only --max-time ends the run early."""
    with Misbehaving(patch=lambda request: HANG) as server:
        run, seconds = against(
            server, "--request-timeout", "1", "--max-time", "3", "--examples", "1", "--report-dir", str(tmp_path), timeout=45
        )
    assert run.returncode == 3, run.output
    assert seconds < 20, f"{seconds:.1f} s for --max-time 3"
    # the time bound ends it, or sooner the PATCHes that never answer: three in a row are a target down
    assert "--max-time 3 s exceeded" in run.output or "stopped answering" in run.output, run.output[-3000:]
    assert "NOT JUDGED" in run.output
    assert "collection unchanged; nothing to restore" in run.output


# ---- garbage answers ---------------------------------------------------------------------------

GARBAGE: dict[str, tuple[Respond, str]] = {
    "html": (lambda r: raw(200, b"<html><body>Bad gateway</body></html>", "text/html"), "text/html"),
    "truncated JSON": (lambda r: raw(200, b'{"id": "mcoll_4a1f9c7e2b8d", "name": "Deep'), "a JSON body"),
    "wrong Content-Length": (lambda r: raw(200, b'{"id": "mcoll_4a1f9c7e2b8d"}', length=400), "expected 400"),
    "closed connection": (lambda r: CLOSE, "Server disconnected without sending a response"),
}


def settings_for(server: Misbehaving) -> config.Settings:
    seed = server.seed()
    return config.load({k: seed[k] for k in ("base_url", "api_key", "org_id", "collection_id")}, {})


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_garbage_answers_raise_the_rules_violation_with_the_request_as_curl(kind: str) -> None:
    respond, evidence = GARBAGE[kind]
    with Misbehaving(patch=respond) as server:
        settings = settings_for(server)
        client = Client(settings)
        try:
            with pytest.raises((Violation, BrokenResponse)) as error:
                checks.collection("RESP-1", client.patch({"name": "x"}), settings.collection_id)
        finally:
            client.close()
    text = error.value.render() if isinstance(error.value, (Violation, BrokenResponse)) else ""
    assert evidence in text
    assert f"reproduce: curl -sS -X PATCH {server.base_url}/v1/music/" in text
    assert "X-API-Key: ***" in text
    assert settings.api_key.reveal() not in text


@pytest.mark.parametrize("kind", ["html", "closed connection"])
def test_garbage_answers_fail_the_rule_in_a_run_never_crash_it(kind: str, tmp_path: Any) -> None:
    respond, evidence = GARBAGE[kind]
    with Misbehaving(patch=respond) as server:
        run, _ = against(server, *FEW, "--report-dir", str(tmp_path), timeout=60)
    assert run.returncode == 1, run.output
    summary = [line for line in run.output.splitlines() if line.startswith(("FAIL ", "ERROR "))]
    assert any(line.split()[:2] == ["FAIL", "RESP-1"] for line in summary), run.output
    assert not any(line.startswith("ERROR ") for line in summary), run.output
    assert evidence in run.output
    assert "reproduce: curl -sS -X PATCH" in run.output
    assert "INTERNALERROR" not in run.output


# ---- rate limits -------------------------------------------------------------------------------


def limited(times: int, retry_after_value: str) -> Misbehaving:
    """A target whose first ``times`` PATCHes get 429 with that Retry-After; the others, the stub's answer."""
    count = {"n": 0}
    lock = threading.Lock()
    server: Misbehaving

    def patch(request: Request) -> bytes | None:
        with lock:
            count["n"] += 1
            limit = count["n"] <= times
        if limit:
            return raw(429, b'{"success": false}', headers={"Retry-After": retry_after_value})
        return well_formed(server.app.handle(request))

    server = Misbehaving(patch=patch)
    return server


def test_429_with_retry_after_is_waited_out_retried_not_judged_and_counted(tmp_path: Any) -> None:
    with limited(2, "1") as server:
        run, seconds = against(server, *FEW, "--report-dir", str(tmp_path))
    assert run.returncode == 0, run.output
    assert "rate limited: 2 answers HTTP 429 waited out and retried" in run.output
    assert seconds >= 2


def test_a_retry_after_beyond_max_retry_wait_is_not_judged_and_not_waited(tmp_path: Any) -> None:
    with limited(10_000, "120") as server:
        run, seconds = against(server, *FEW, "--max-retry-wait", "2", "--report-dir", str(tmp_path), timeout=60)
    assert run.returncode == 3, run.output
    assert "exceeds --max-retry-wait 2 s" in run.output
    assert seconds < 30


def test_rate_limit_caps_the_suites_pace(tmp_path: Any) -> None:
    moments: list[float] = []

    def note(request: Request) -> bytes | None:
        moments.append(time.monotonic())
        return well_formed(server.app.handle(request))

    with Misbehaving(respond=note) as server:
        run, _ = against(server, *FEW, "--rate-limit", "20/s", "--report-dir", str(tmp_path))
    assert run.returncode == 0, run.output
    assert len(moments) >= 5
    spacing = (moments[-1] - moments[0]) / (len(moments) - 1)
    assert spacing > 0.045, f"{len(moments)} requests {spacing * 1000:.0f} ms apart on average with --rate-limit 20/s"


def test_pacer_spaces_requests_over_all_threads() -> None:
    pacer = Pacer(20.0)
    started = time.monotonic()
    threads = [threading.Thread(target=pacer.acquire) for _ in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 8 / 20 - 0.02


def test_pacer_hold_delays_every_request() -> None:
    pacer = Pacer()
    pacer.hold(0.3)
    started = time.monotonic()
    pacer.acquire()
    assert time.monotonic() - started >= 0.25
    assert pacer.waited == pytest.approx(0.3)


@pytest.mark.parametrize(("text", "per_second"), [("5/s", 5.0), ("120/min", 2.0), ("2.5", 2.5), (" 10 / s ", 10.0)])
def test_rate_is_parsed(text: str, per_second: float) -> None:
    assert parse_rate(text) == per_second


@pytest.mark.parametrize("text", ["fast", "0/s", "5/h", "-1"])
def test_malformed_rate_is_a_config_error(text: str) -> None:
    values = {"base_url": "http://127.0.0.1:9", "api_key": "k", "org_id": "o", "collection_id": "c"}
    with pytest.raises(config.ConfigError, match=r"--rate-limit \(CONFORMANCE_RATE_LIMIT\) must be a positive rate"):
        config.load(values, {"CONFORMANCE_RATE_LIMIT": text})


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_900_000_000.0
    assert retry_after("7") == 7.0
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now=lambda: now) == pytest.approx(30.0)
    assert retry_after(email.utils.formatdate(now - 30, usegmt=True), now=lambda: now) == 0.0
    assert retry_after("soon") is None
    assert retry_after(None) is None


# ---- only GET and PATCH, and bodiless probes --------------------------------------------------


@pytest.mark.parametrize("method", ["DELETE", "PUT", "POST", "CONNECT", "PROPPATCH", "MERGE", "patch", "head"])
def test_the_client_refuses_every_method_but_get_patch_and_the_probes_before_sending(method: str) -> None:
    with Misbehaving() as server:
        seed = server.seed()
        client = Client(settings_for(server))
        try:
            with pytest.raises(UnsafeMethod, match="only GET and PATCH"):
                client.send(method)
            assert client.get().status == 200
        finally:
            client.close()
        time.sleep(0.05)
    assert server.seen == [("GET", f"/v1/music/{seed['org_id']}/collections/{seed['collection_id']}")]


def test_probes_go_without_a_body_and_raw_paths_as_written() -> None:
    with Misbehaving() as server:
        seed = server.seed()
        client = Client(settings_for(server))
        collections = f"/v1/music/{seed['org_id']}/collections"
        try:
            for method in sorted(PROBE_METHODS):
                with pytest.raises(UnsafeMethod, match="without a body"):
                    client.send(method, body={})
                with pytest.raises(UnsafeMethod, match="without a body"):
                    client.send(method, content=b"x")
            for method in sorted(PROBE_METHODS):
                client.send(method)
            exchange = client.send("PATCH", body={}, raw_path=f"{collections}/..")
            with pytest.raises(ValueError, match="raw_path"):
                client.send("PATCH", body={}, raw_path="collections/..")
        finally:
            client.close()
        time.sleep(0.05)
    probed = f"{collections}/{seed['collection_id']}"
    assert server.seen == [(method, probed) for method in sorted(PROBE_METHODS)] + [("PATCH", f"{collections}/..")]
    assert exchange.url.endswith("/collections/..")
    assert "--path-as-is" in exchange.curl()
    assert UNKNOWN_METHOD in PROBE_METHODS
    assert not PROBE_METHODS & {"PUT", "POST", "DELETE", "PATCH"}


# ---- the production guard ----------------------------------------------------------------------

STAGING = {"api_key": "k", "org_id": "o", "collection_id": "c"}


@pytest.mark.parametrize(
    "url",
    [
        "https://api.aitronos.com",
        "https://API.Aitronos.com/",
        "https://eu.api.aitronos.com:443",
        "https://api\u3002aitronos\u3002com",  # ideographic full stops: the HTTP client maps them to dots
        "https://api\uff0eaitronos\uff61com",  # full-width and half-width full stops
        "https://api.aitronos.com.",  # a trailing dot: the same host
        "https://api.aitronos.com../v1",
        "https://user:secret@api.aitronos.com",
        "https://staging.example.com@api.aitronos.com",  # the host is what follows the @
        "https://\u0430pi.aitronos.com",  # a Cyrillic a: another host, still under the domain
        "https://xn--pi-6kc.aitronos.com",
        "https://API.AITRONOS.COM/",
    ],
)
def test_production_looking_base_url_is_refused_saying_why(url: str) -> None:
    with pytest.raises(config.ConfigError) as error:
        config.load({**STAGING, "base_url": url}, {})
    message = str(error.value)
    assert "looks like production" in message
    assert "aitronos.com" in message
    assert "--allow-production (CONFORMANCE_ALLOW_PRODUCTION)" in message
    assert "\n" not in message


def test_allow_production_lets_it_through_from_flag_or_environment() -> None:
    values = {**STAGING, "base_url": "https://api.aitronos.com"}
    assert config.load({**values, "allow_production": True}, {}).allow_production
    assert config.load(values, {"CONFORMANCE_ALLOW_PRODUCTION": "1"}).base_url == "https://api.aitronos.com"
    with pytest.raises(config.ConfigError):
        config.load(values, {"CONFORMANCE_ALLOW_PRODUCTION": "0"})


@pytest.mark.parametrize("url", ["https://staging.example.com", "https://aitronos.com.evil.test", "http://127.0.0.1:8000"])
def test_other_hosts_are_not_production(url: str) -> None:
    assert config.load({**STAGING, "base_url": url}, {}).base_url == url


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://api\u3002aitronos\u3002com", "api.aitronos.com"),
        ("https://api%2Eaitronos%2ecom", "api.aitronos.com"),  # percent-encoded
        ("https://api.aitronos%E3%80%82com", "api.aitronos.com"),  # a percent-encoded full stop
        ("https://\uff21\uff30\uff29.aitronos.com", "api.aitronos.com"),  # full-width letters (UTS-46)
        ("https://Api.Aitronos.Com.", "api.aitronos.com"),
    ],
)
def test_the_guard_reads_the_host_as_the_client_will_and_normalizes_further(url: str, host: str) -> None:
    assert host in guard.hosts(url)
    assert guard.production_reason(url) is not None


def test_the_guard_reads_the_host_httpx_connects_to() -> None:
    for url in ("https://api\u3002aitronos\u3002com/", "https://u:p@API.aitronos.com./x", "https://api\uff0eaitronos.com:8443"):
        connects_to = httpx.URL(url).raw_host.decode().rstrip(".")
        assert connects_to in guard.hosts(url)


def test_the_guard_stops_the_run_with_status_4_and_the_flag_lets_it_configure(tmp_path: Any) -> None:
    common = ("--api-key", "k-guard", "--org-id", "org_1", "--collection-id", "mcoll_1", "--report-dir", str(tmp_path))
    refused = run_suite("--base-url", "https://api.aitronos.com", *common, timeout=60)
    assert refused.returncode == 4, refused.output
    assert "refusing https://api.aitronos.com: it looks like production" in refused.output
    allowed = run_suite("--base-url", "https://api.aitronos.com", "--allow-production", "--collect-only", *common, timeout=60)
    assert allowed.returncode == 0, allowed.output
    assert "conformance target: https://api.aitronos.com" in allowed.output


def test_the_client_keeps_no_cookies() -> None:
    cookies: list[str | None] = []

    def respond(request: Request) -> bytes | None:
        cookies.append(request.headers.get("cookie"))
        return raw(200, b"{}", headers={"Set-Cookie": "session=granted-by-an-earlier-answer; Path=/"})

    with Misbehaving(respond=respond) as server:
        client = Client(settings_for(server))
        try:
            client.get()
            client.patch({}, key=None)
        finally:
            client.close()
    assert cookies == [None, None]


# ---- restore robustness ------------------------------------------------------------------------


def test_the_restore_tries_again_after_transport_failures() -> None:
    """Four closed connections in a row (two requests, each tried twice), then the target recovers."""
    from conformance.target import Target

    failures = {"left": 4}

    def respond(request: Request) -> bytes | None:
        if failures["left"] > 0:
            failures["left"] -= 1
            return CLOSE
        return well_formed(server.app.handle(request))

    with Misbehaving(respond=respond) as server:
        settings = settings_for(server)
        client = Client(settings)
        try:
            target = Target(settings, client)
            stored = server.app.collections[server.app.collection_id]
            target.snapshot = {"name": stored.name, "description": stored.description,
                               "cover_track_id": stored.cover_track_id, "cover_image_url": stored.cover_image_url}  # fmt: skip
            stored.name = "changed by a test"
            assert target.restore() == "collection restored and verified"
        finally:
            client.close()
    assert server.app.collections[server.app.collection_id].name == target.snapshot["name"]


def test_credentials_of_the_base_url_are_sent_as_basic_authentication_and_shown_nowhere() -> None:
    received: list[str | None] = []

    def respond(request: Request) -> bytes | None:
        received.append(request.headers.get("authorization"))
        return raw(200, json.dumps({"echo": request.headers.get("authorization")}).encode())

    with Misbehaving(respond=respond) as server:
        seed = server.seed()
        url = seed["base_url"].replace("://", "://ci-user:pw%2Dcanary%3A9@")
        settings = config.load({**{k: seed[k] for k in ("api_key", "org_id", "collection_id")}, "base_url": url}, {})
        client = Client(settings)
        try:
            exchange = client.get()
        finally:
            client.close()
    token = base64.b64encode(b"ci-user:pw-canary:9").decode()
    assert received == [f"Basic {token}"]
    shown = exchange.curl() + exchange.url + exchange.describe() + settings.target_label
    assert settings.base_url == seed["base_url"]
    assert "pw-canary" not in shown
    assert "pw%2Dcanary" not in shown
    assert token not in shown
    assert "-H 'Authorization: ***'" in exchange.curl()
