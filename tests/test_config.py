"""Target configuration: precedence, required values, the foreign tenant, secrets."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import config

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
        ({"request_timeout": "soon"}, "--request-timeout .* must be a number"),
        ({"profile": "fast"}, "must be one of quick, default, thorough"),
        ({"examples": "0"}, "must be at least 1"),
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
