"""Target configuration: precedence, required values, the foreign tenant, secrets; and every value that could
mislead refused with one line: empty values, flawed keys, URLs and ids the client would misuse, numbers that are
not finite and positive."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance import config

from .conftest import ROOT, SuiteRun, clean_environ, run_suite
from .misbehaving import Misbehaving

STAGING = {"base_url": "https://staging.example.test", "api_key": "k-cli", "org_id": "org_1", "collection_id": "mcoll_1"}


def _stub(fault: str | None) -> dict[str, Any]:
    return {
        "base_url": "http://127.0.0.1:1", "api_key": "stubkey", "org_id": "org_s", "collection_id": "mcoll_s",
        "track_ids": ("mtrack_1",), "foreign_org_id": "org_f", "foreign_collection_id": "mcoll_f", "foreign_api_key": "fkey",
    }  # fmt: skip


def test_command_line_wins_over_environment() -> None:
    env = {"CONFORMANCE_ORG_ID": "org_env", "CONFORMANCE_API_KEY": "k-env", "CONFORMANCE_COLLECTION_ID": "mcoll_env"}
    settings = config.load({**STAGING, "org_id": None}, env)
    assert settings.org_id == "org_env"
    assert settings.api_key.reveal() == "k-cli"
    assert settings.collection_id == "mcoll_1"


def test_freddy_api_key_is_the_fallback_and_conformance_api_key_wins() -> None:
    values = {**STAGING, "api_key": None}
    assert config.load(values, {"FREDDY_API_KEY": "fk"}).api_key.reveal() == "fk"
    assert config.load(values, {"FREDDY_API_KEY": "fk", "CONFORMANCE_API_KEY": "ck"}).api_key.reveal() == "ck"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("api_key", "missing --api-key (CONFORMANCE_API_KEY or FREDDY_API_KEY)"),
        ("org_id", "missing --org-id (CONFORMANCE_ORG_ID)"),
        ("collection_id", "missing --collection-id (CONFORMANCE_COLLECTION_ID)"),
    ],
)
def test_missing_required_value_names_option_and_variable(missing: str, message: str) -> None:
    with pytest.raises(config.ConfigError) as error:
        config.load({**STAGING, missing: None}, {})
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_track_ids_repeatable_or_comma_separated() -> None:
    assert config.load({**STAGING, "track_ids": ["mtrack_a", "mtrack_b"]}, {}).track_ids == ("mtrack_a", "mtrack_b")
    env = {"CONFORMANCE_TRACK_IDS": "mtrack_a, mtrack_b,"}
    assert config.load(STAGING, env).track_ids == ("mtrack_a", "mtrack_b")


def test_partial_foreign_tenant_is_an_error_naming_what_is_missing() -> None:
    with pytest.raises(config.ConfigError, match=r"--foreign-api-key \(CONFORMANCE_FOREIGN_API_KEY\)"):
        config.load({**STAGING, "foreign_org_id": "org_f", "foreign_collection_id": "mcoll_f"}, {})
    full = config.load(
        STAGING,
        {"CONFORMANCE_FOREIGN_ORG_ID": "o", "CONFORMANCE_FOREIGN_COLLECTION_ID": "c", "CONFORMANCE_FOREIGN_API_KEY": "fk"},
    )
    assert full.foreign is not None
    assert full.foreign.api_key.reveal() == "fk"


def test_no_base_url_means_the_bundled_stub() -> None:
    settings = config.load({"org_id": "ignored"}, {}, stub_values=_stub)
    assert settings.stub
    assert settings.org_id == "org_s"
    assert settings.foreign is not None


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"base_url": "staging.example.test"}, "must be an http:// or https:// URL"),
        ({"request_timeout": "soon"}, "--request-timeout .* must be a positive number"),
        ({"profile": "fast"}, "must be one of quick, default, thorough"),
        ({"examples": "0"}, "must be a whole number at least 1"),
    ],
)
def test_malformed_values_are_rejected(values: dict[str, Any], match: str) -> None:
    with pytest.raises(config.ConfigError, match=match):
        config.load({**STAGING, **values}, {})


def test_secrets_never_show_themselves() -> None:
    settings = config.load(STAGING, {})
    assert "k-cli" not in repr(settings)
    assert str(settings.api_key) == "***"
    assert settings.secrets() == ("k-cli",)


# ---- empty values are errors, never "absent" -----------------------------------------------------


def test_an_empty_base_url_variable_is_an_error_while_an_unset_one_means_the_stub() -> None:
    env = {"CONFORMANCE_BASE_URL": "", "CONFORMANCE_API_KEY": "k-env", "CONFORMANCE_ORG_ID": "org_1"}
    with pytest.raises(config.ConfigError) as error:
        config.load({"collection_id": "mcoll_1"}, env, stub_values=_stub)
    assert str(error.value) == (
        "CONFORMANCE_BASE_URL is set but empty: give it a value, or unset it to run against the bundled stub"
    )
    assert config.load({}, {"CONFORMANCE_API_KEY": "k-env"}, stub_values=_stub).stub


@pytest.mark.parametrize(
    ("values", "env", "message"),
    [
        ({"base_url": ""}, {}, "--base-url is empty"),
        ({"org_id": " "}, {}, "--org-id is empty"),
        ({"track_ids": ["mtrack_a", ""]}, {}, "--track-id is empty"),
        ({"api_key": None}, {"CONFORMANCE_API_KEY": "", "FREDDY_API_KEY": "fk"}, "CONFORMANCE_API_KEY is set but empty"),
        ({"org_id": None}, {"CONFORMANCE_ORG_ID": "\n"}, "CONFORMANCE_ORG_ID is set but empty"),
        ({}, {"CONFORMANCE_TRACK_IDS": " , "}, "CONFORMANCE_TRACK_IDS holds no value"),
        ({}, {"CONFORMANCE_REPORT_DIR": ""}, "CONFORMANCE_REPORT_DIR is set but empty"),
        ({}, {"CONFORMANCE_MAX_TIME": ""}, "CONFORMANCE_MAX_TIME is set but empty"),
        ({}, {"CONFORMANCE_ALLOW_PRODUCTION": ""}, "CONFORMANCE_ALLOW_PRODUCTION is set but empty"),
        ({}, {"CONFORMANCE_STRICT": ""}, "CONFORMANCE_STRICT is set but empty"),
        ({}, {"CONFORMANCE_FOREIGN_API_KEY": ""}, "CONFORMANCE_FOREIGN_API_KEY is set but empty"),
    ],
)
def test_an_empty_value_is_an_error_naming_where_it_came_from(values: dict[str, Any], env: dict[str, str], message: str) -> None:
    with pytest.raises(config.ConfigError) as error:
        config.load({**STAGING, **values}, env)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


# ---- keys ------------------------------------------------------------------------------------------

KEY = "sk_live_Zq8-canary.4x"


@pytest.mark.parametrize(
    ("key", "flaw"),
    [
        (KEY + "\n", "ends with a newline"),
        (KEY + "\r\n", "ends with a newline"),
        (KEY + " ", "ends with white space"),
        ("\t" + KEY, "starts with white space"),
        (KEY[:5] + " " + KEY[5:], "holds white space at character 6 of 22"),
        (KEY[:5] + "\x00" + KEY[5:], "holds a control character (U+0000) at character 6 of 22"),
        (KEY[:5] + "\x7f" + KEY[5:], "holds a control character (U+007F)"),
        (KEY[:5] + "\u00e9" + KEY[5:], "holds a non-ASCII character at character 6 of 22"),
        (KEY[:5] + "\u2028" + KEY[5:], "holds white space at character 6"),
        (KEY[:5] + "\u200b" + KEY[5:], "holds a non-ASCII character"),
    ],
)
@pytest.mark.parametrize(
    ("values", "env", "source"),
    [
        ({"api_key": "<key>"}, {}, "--api-key"),
        ({"api_key": None}, {"CONFORMANCE_API_KEY": "<key>"}, "CONFORMANCE_API_KEY"),
        ({"api_key": None}, {"FREDDY_API_KEY": "<key>"}, "FREDDY_API_KEY"),
        ({"foreign_org_id": "org_f", "foreign_collection_id": "mcoll_f", "foreign_api_key": "<key>"}, {}, "--foreign-api-key"),
    ],
    ids=["flag", "variable", "fallback variable", "foreign key"],
)
def test_a_flawed_key_is_refused_saying_where_and_what_never_the_key(
    key: str, flaw: str, values: dict[str, Any], env: dict[str, str], source: str
) -> None:

    def fill(mapping: dict[str, Any]) -> dict[str, Any]:
        return {k: key if v == "<key>" else v for k, v in mapping.items()}

    with pytest.raises(config.ConfigError) as error:
        config.load({**STAGING, **fill(values)}, fill(env))
    message = str(error.value)
    assert message.startswith(f"the key given by {source} {flaw}")
    assert "the key is not shown" in message
    assert "\n" not in message
    assert KEY[:8] not in message
    assert KEY[-6:] not in message


def test_a_key_of_printable_ascii_is_kept_as_given() -> None:
    key = "sk_!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0aZ"
    assert config.load({**STAGING, "api_key": key}, {}).api_key.reveal() == key


# ---- the base URL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://staging.example.test/?x=1", "must not hold a query or a fragment"),
        ("https://staging.example.test?", "must not hold a query or a fragment"),
        ("https://staging.example.test/#top", "must not hold a query or a fragment"),
        ("https://staging.example.test:http/", "is not a usable URL (Invalid port: 'http')"),
        ("https://staging.example.test:70000", "has port 70000, outside 1-65535"),
        ("https://", "has no host"),
        ("https://staging.example.test\n", "ends with a newline"),
        (" https://staging.example.test", "starts with white space"),
        ("https://user:pa55word@staging.example.test:x/", "got 'https://***@staging.example.test:x/'"),
    ],
)
def test_a_base_url_the_client_would_misuse_is_refused(url: str, message: str) -> None:
    with pytest.raises(config.ConfigError) as error:
        config.load({**STAGING, "base_url": url}, {})
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert "pa55word" not in str(error.value)


def test_credentials_in_the_base_url_are_kept_apart_and_are_secrets() -> None:
    settings = config.load({**STAGING, "base_url": "https://ci%40team:s3cr%3At@staging.example.test/api/"}, {})
    assert settings.base_url == "https://staging.example.test/api"
    assert settings.target_label == "https://staging.example.test/api"
    assert settings.credentials is not None
    assert (settings.credentials.username.reveal(), settings.credentials.password.reveal()) == ("ci@team", "s3cr:t")
    assert "s3cr" not in repr(settings)
    basic = "Y2lAdGVhbTpzM2NyOnQ="  # base64 of "ci@team:s3cr:t", the Authorization value
    assert settings.secrets() == ("k-cli", "s3cr:t", basic)


def test_a_token_as_the_user_of_the_base_url_is_a_secret() -> None:
    settings = config.load({**STAGING, "base_url": "https://ghp_token1234@staging.example.test"}, {})
    assert settings.base_url == "https://staging.example.test"
    assert "ghp_token1234" in settings.secrets()


# ---- ids -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [".", "..", "org_1\n", " org_1", "org\x001"])
@pytest.mark.parametrize(
    ("dest", "source"),
    [("org_id", "--org-id"), ("collection_id", "--collection-id"), ("foreign_org_id", "--foreign-org-id"),
     ("foreign_collection_id", "--foreign-collection-id")],
)  # fmt: skip
def test_ids_that_would_address_another_resource_are_refused(dest: str, source: str, value: str) -> None:
    foreign = {"foreign_org_id": "org_f", "foreign_collection_id": "mcoll_f", "foreign_api_key": "fk_1234"}
    with pytest.raises(config.ConfigError) as error:
        config.load({**STAGING, **foreign, dest: value}, {})
    assert str(error.value).startswith(f"{source} ")
    assert repr(value) in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("tracks", [["mtrack_a", ".."], ["."]])
def test_dot_track_ids_are_refused(tracks: list[str]) -> None:
    with pytest.raises(config.ConfigError, match="--track-id is a dot segment"):
        config.load({**STAGING, "track_ids": tracks}, {})


def test_ids_holding_a_slash_or_percent_are_kept_they_are_sent_encoded() -> None:
    settings = config.load({**STAGING, "org_id": "org/1", "collection_id": "mcoll%2E"}, {})
    assert (settings.org_id, settings.collection_id) == ("org/1", "mcoll%2E")


# ---- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dest", ["request_timeout", "max_time", "max_retry_wait"])
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "0", "-1", "0.0", "1e999", "ten"])
def test_seconds_must_be_finite_and_positive(dest: str, value: str) -> None:
    with pytest.raises(config.ConfigError) as error:
        config.load({**STAGING, dest: value}, {})
    message = str(error.value)
    assert f"must be a positive number{', or none for no bound' if dest == 'max_time' else ''}, got {value!r}" in message


@pytest.mark.parametrize("value", ["none", "None", " NONE "])
def test_max_time_none_means_no_bound(value: str) -> None:
    assert config.load({**STAGING, "max_time": value}, {}).max_time is None
    assert config.load(STAGING, {"CONFORMANCE_MAX_TIME": value}).max_time is None


def test_none_is_no_bound_only_for_max_time() -> None:
    with pytest.raises(config.ConfigError, match="must be a positive number, got 'none'"):
        config.load({**STAGING, "request_timeout": "none"}, {})


@pytest.mark.parametrize("value", ["0", "-3", "nan", "1.5", "inf"])
def test_examples_must_be_a_whole_number_at_least_1(value: str) -> None:
    with pytest.raises(config.ConfigError, match=r"--examples \(CONFORMANCE_EXAMPLES\) must be a whole number at least 1"):
        config.load({**STAGING, "examples": value}, {})


@pytest.mark.parametrize("value", ["nan/s", "inf", "0/s", "0", "-5/s", "1e999"])
def test_rate_limit_must_be_a_finite_positive_rate(value: str) -> None:
    with pytest.raises(config.ConfigError, match="must be a positive rate"):
        config.load({**STAGING, "rate_limit": value}, {})


def test_good_numbers_are_read() -> None:
    settings = config.load({**STAGING, "request_timeout": "2.5", "max_time": "30", "max_retry_wait": "0.5", "examples": "3"}, {})
    assert (settings.request_timeout, settings.max_time, settings.max_retry_wait, settings.examples) == (2.5, 30.0, 0.5, 3)
    assert config.load({**STAGING, "seed": "0"}, {}).seed == 0


# ---- as a user runs it: one line, exit 4, before any request ---------------------------------------


def _misconfigured(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[SuiteRun, Path]:
    """The suite in a fresh working directory against a target that must never be contacted."""
    work = tmp_path / "work"
    work.mkdir()
    run = run_suite(*args, "--report-dir", str(work / "reports"), env=env, cwd=ROOT, timeout=120)
    return run, work


def _refusal(run: SuiteRun) -> str:
    """The one line of the refusal (pytest prints it as ``! _pytest.outcomes.Exit: LINE !``)."""
    lines = [line for line in run.output.splitlines() if "conformance: " in line]
    assert len(lines) == 1, run.output
    return lines[0].split("Exit: ", 1)[-1].removesuffix(" !")


def test_a_key_with_a_trailing_newline_stops_the_run_and_is_shown_nowhere(tmp_path: Path) -> None:
    key = "sk_canary_" + secrets.token_hex(12)
    with Misbehaving() as server:
        run, work = _misconfigured(
            tmp_path, "--base-url", server.base_url, "--org-id", "org_1", "--collection-id", "mcoll_1",
            env={"CONFORMANCE_API_KEY": key + "\n"},
        )  # fmt: skip
        time.sleep(0.05)
    assert run.returncode == 4, run.output
    assert _refusal(run).startswith("conformance: the key given by CONFORMANCE_API_KEY ends with a newline")
    assert server.seen == []
    for needle in (key, key[:12], key[-12:]):
        assert needle not in run.output
        for path in work.rglob("*"):
            assert not path.is_file() or needle.encode() not in path.read_bytes(), path


def test_a_production_host_written_with_unicode_full_stops_is_refused(tmp_path: Path) -> None:
    run, _ = _misconfigured(
        tmp_path, "--base-url", "https://api\u3002aitronos\u3002com", "--api-key", "k-guard", "--org-id", "org_1",
        "--collection-id", "mcoll_1",
    )  # fmt: skip
    assert run.returncode == 4, run.output
    assert "it looks like production (api.aitronos.com is the public production host" in _refusal(run)


def test_an_empty_base_url_variable_with_staging_options_stops_the_run(tmp_path: Path) -> None:
    env = {"CONFORMANCE_BASE_URL": "", "CONFORMANCE_API_KEY": "k-empty-url", "CONFORMANCE_ORG_ID": "org_1",
           "CONFORMANCE_COLLECTION_ID": "mcoll_1"}  # fmt: skip
    run, _ = _misconfigured(tmp_path, env=env)
    assert run.returncode == 4, run.output
    assert _refusal(run) == (
        "conformance: CONFORMANCE_BASE_URL is set but empty: give it a value, or unset it to run against the bundled stub"
    )
    assert "bundled stub)" not in run.output  # the stub was not started


def test_conformance_run_refuses_an_empty_report_dir_variable_in_one_line() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "run"], cwd=ROOT, env=clean_environ({"CONFORMANCE_REPORT_DIR": ""}),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 4, completed.stdout + completed.stderr
    assert completed.stderr.strip() == "conformance: CONFORMANCE_REPORT_DIR is set but empty: give it a value, or unset it"
