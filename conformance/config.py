"""Target configuration: one frozen, typed object, read in one place.

Precedence: command line over environment over defaults. The option table below is the only
list of options; the pytest plugin and the ``conformance`` console command both read it. The
option and variable names are an interface that CI scripts depend on: do not rename them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.fields import TRACK_ID_PREFIX

PROFILES = ("quick", "default", "thorough")


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line that says how to fix it."""


class Secret:
    """A string that never shows itself: ``str()`` and ``repr()`` give ``***``. Its ``label`` says
    which key it is (``the configured key (CONFORMANCE_API_KEY)``), for a reproduction that shows
    ``***`` in its place."""

    __slots__ = ("_value", "label")

    def __init__(self, value: str, label: str = "a key") -> None:
        self._value = value
        self.label = label

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Option:
    """One setting: its command-line flag, environment variables (first set wins) and help."""

    dest: str
    flag: str
    env: tuple[str, ...]
    help: str
    metavar: str = "VALUE"
    repeatable: bool = False
    is_flag: bool = False
    #: pytest has this option itself (``--strict``): the plugin reads it rather than adding it.
    pytest_native: bool = False


OPTIONS: tuple[Option, ...] = (
    Option("base_url", "--base-url", ("CONFORMANCE_BASE_URL",), "the target; absent: the bundled stub, in-process", "URL"),
    Option("api_key", "--api-key", ("CONFORMANCE_API_KEY", "FREDDY_API_KEY"), "the caller's API key", "KEY"),
    Option("org_id", "--org-id", ("CONFORMANCE_ORG_ID",), "the caller's organization", "ID"),
    Option(
        "collection_id",
        "--collection-id",
        ("CONFORMANCE_COLLECTION_ID",),
        "a collection of that organization the suite may change; it is restored at the end",
        "ID",
    ),
    Option(
        "track_ids",
        "--track-id",
        ("CONFORMANCE_TRACK_IDS",),
        "a track of that organization, for cover_track_id (repeatable; variable: comma-separated)",
        "ID",
        repeatable=True,
    ),
    Option("foreign_org_id", "--foreign-org-id", ("CONFORMANCE_FOREIGN_ORG_ID",), "another tenant's organization", "ID"),
    Option(
        "foreign_collection_id",
        "--foreign-collection-id",
        ("CONFORMANCE_FOREIGN_COLLECTION_ID",),
        "a collection of the other tenant (read, never changed)",
        "ID",
    ),
    Option("foreign_api_key", "--foreign-api-key", ("CONFORMANCE_FOREIGN_API_KEY",), "the other tenant's API key", "KEY"),
    Option("report_dir", "--report-dir", ("CONFORMANCE_REPORT_DIR",), "where reports go (default: reports/)", "DIR"),
    Option(
        "request_timeout",
        "--request-timeout",
        ("CONFORMANCE_REQUEST_TIMEOUT",),
        "connect and read timeout of each request, in seconds (default: 10)",
        "SECONDS",
    ),
    Option(
        "max_time",
        "--max-time",
        ("CONFORMANCE_MAX_TIME",),
        "bound on the whole run, in seconds; past it the run stops, restores and exits 3 (default: 3600; 0: none)",
        "SECONDS",
    ),
    Option(
        "rate_limit",
        "--rate-limit",
        ("CONFORMANCE_RATE_LIMIT",),
        "cap on the suite's own pace, e.g. 5/s or 120/min (default: no cap)",
        "N/s",
    ),
    Option(
        "max_retry_wait",
        "--max-retry-wait",
        ("CONFORMANCE_MAX_RETRY_WAIT",),
        "longest wait, in seconds, for one request's 429 Retry-After waits; beyond it: not judged (default: 60)",
        "SECONDS",
    ),
    Option(
        "allow_production",
        "--allow-production",
        ("CONFORMANCE_ALLOW_PRODUCTION",),
        "run even against a production-looking base URL (*.aitronos.com); the suite changes data",
        is_flag=True,
    ),
    Option(
        "profile",
        "--profile",
        ("CONFORMANCE_PROFILE",),
        "how hard to search: quick (pull requests), default, thorough (nightly)",
        "NAME",
    ),
    Option(
        "examples",
        "--examples",
        ("CONFORMANCE_EXAMPLES",),
        "generated examples per property test, overriding the profile",
        "N",
    ),
    Option(
        "strict",
        "--strict",
        ("CONFORMANCE_STRICT",),
        "SHOULD violations fail the run too (pytest's own --strict, which also turns on its strict markers)",
        is_flag=True,
        pytest_native=True,
    ),
    Option("seed", "--seed", ("CONFORMANCE_SEED",), "hypothesis seed, to replay a run (default: printed)", "N"),
    Option(
        "baseline",
        "--baseline",
        ("CONFORMANCE_BASELINE",),
        "YAML or JSON list of accepted violations ({rule: ID, reason: why}); they do not fail the run",
        "FILE",
    ),
    Option(
        "stub_fault",
        "--stub-fault",
        ("CONFORMANCE_STUB_FAULT",),
        "with the bundled stub: run it with this named fault or variant (self-test)",
        "NAME",
    ),
)

OPTIONS_BY_DEST: dict[str, Option] = {o.dest: o for o in OPTIONS}

#: What a reproduction says in place of each configured key.
API_KEY = "the configured key (--api-key, CONFORMANCE_API_KEY)"
FOREIGN_KEY = "the foreign tenant's key (--foreign-api-key, CONFORMANCE_FOREIGN_API_KEY)"


def describe(dest: str) -> str:
    """``--flag (VARIABLE)``, for messages that tell the user what to set."""
    option = OPTIONS_BY_DEST[dest]
    return f"{option.flag} ({' or '.join(option.env)})"


@dataclass(frozen=True)
class ForeignTenant:
    """Another organization, its collection and its key, for the ownership rules."""

    org_id: str
    collection_id: str
    api_key: Secret


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know about its target and how hard to test it."""

    base_url: str
    api_key: Secret
    org_id: str
    collection_id: str
    track_ids: tuple[str, ...] = ()
    foreign: ForeignTenant | None = None
    report_dir: Path = Path("reports")
    request_timeout: float = 10.0
    max_time: float | None = 3600.0
    rate_limit: float | None = None
    max_retry_wait: float = 60.0
    allow_production: bool = False
    profile: str = "default"
    examples: int | None = None
    seed: int | None = None
    strict: bool = False
    baseline: Path | None = None
    stub: bool = False
    stub_fault: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction of anything written or printed."""
        keys = [self.api_key.reveal()]
        if self.foreign is not None:
            keys.append(self.foreign.api_key.reveal())
        return tuple(k for k in keys if k)

    @property
    def target_label(self) -> str:
        return (
            f"{self.base_url} (bundled stub{', fault ' + self.stub_fault if self.stub_fault else ''})"
            if self.stub
            else self.base_url
        )


@dataclass(frozen=True)
class RawOptions:
    """Values as given, before defaults: ``values`` from the command line, ``environ`` from the process."""

    values: Mapping[str, Any]
    environ: Mapping[str, str]

    def get(self, dest: str) -> Any:
        """The command-line value, else the first environment variable that is set, else ``None``."""
        value = self.values.get(dest)
        if value not in (None, [], ()):
            return value
        option = OPTIONS_BY_DEST[dest]
        for name in option.env:
            env_value = self.environ.get(name)
            if env_value:
                if option.repeatable:
                    return [part.strip() for part in env_value.split(",") if part.strip()]
                return env_value
        return None


def _number(raw: RawOptions, dest: str, kind: Callable[[str], Any], default: Any, minimum: float) -> Any:
    value = raw.get(dest)
    if value is None:
        return default
    try:
        number = kind(str(value))
    except ValueError:
        raise ConfigError(f"{describe(dest)} must be a number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{describe(dest)} must be at least {minimum}, got {value!r}")
    return number


def _flag(raw: RawOptions, dest: str) -> bool:
    value = raw.get(dest)
    return value is True or str(value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _rate(raw: RawOptions) -> float | None:
    from conformance.pacing import parse_rate

    value = raw.get("rate_limit")
    if value is None:
        return None
    try:
        return parse_rate(str(value))
    except ValueError:
        raise ConfigError(f"{describe('rate_limit')} must be a positive rate such as 5/s or 120/min, got {value!r}") from None


def _track_ids(raw: RawOptions) -> tuple[str, ...]:
    tracks = tuple(raw.get("track_ids") or ())
    wrong = [t for t in tracks if not t.startswith(TRACK_ID_PREFIX)]
    if wrong:
        raise ConfigError(f"{describe('track_ids')} takes track ids ({TRACK_ID_PREFIX}...), got {', '.join(map(repr, wrong))}")
    return tracks


def _tenant(raw: RawOptions) -> ForeignTenant | None:
    names = ("foreign_org_id", "foreign_collection_id", "foreign_api_key")
    given = {name: raw.get(name) for name in names}
    if not any(given.values()):
        return None
    missing = [describe(name) for name in names if not given[name]]
    if missing:
        raise ConfigError(f"the foreign tenant is incomplete: missing {', '.join(missing)}")
    return ForeignTenant(given["foreign_org_id"], given["foreign_collection_id"], Secret(given["foreign_api_key"], FOREIGN_KEY))


def load(
    values: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    strict: bool = False,
    stub_values: Callable[[str | None], Mapping[str, Any]] | None = None,
) -> Settings:
    """Build the settings from command-line ``values`` and ``environ`` (default: ``os.environ``).

    Without a base URL the bundled stub is the target: ``stub_values(fault)`` starts it and returns
    its base URL, keys and ids, which replace the target options. Raises :class:`ConfigError`
    with a one-line fix when a required value is missing or malformed.
    """
    raw = RawOptions(values, os.environ if environ is None else environ)
    profile = str(raw.get("profile") or "default")
    if profile not in PROFILES:
        raise ConfigError(f"{describe('profile')} must be one of {', '.join(PROFILES)}, got {profile!r}")
    common: dict[str, Any] = {
        "report_dir": Path(raw.get("report_dir") or "reports"),
        "request_timeout": _number(raw, "request_timeout", float, 10.0, 0.001),
        "max_time": _number(raw, "max_time", float, 3600.0, 0) or None,
        "rate_limit": _rate(raw),
        "max_retry_wait": _number(raw, "max_retry_wait", float, 60.0, 0),
        "allow_production": _flag(raw, "allow_production"),
        "profile": profile,
        "examples": _number(raw, "examples", int, None, 1),
        "seed": _number(raw, "seed", int, None, 0),
        "strict": strict or _flag(raw, "strict"),
        "baseline": Path(raw.get("baseline")) if raw.get("baseline") else None,
    }
    base_url = raw.get("base_url")
    if not base_url:
        if stub_values is None:
            raise ConfigError(f"no target: set {describe('base_url')}")
        fault = raw.get("stub_fault")
        stub = dict(stub_values(fault))
        return Settings(
            base_url=stub["base_url"],
            api_key=Secret(stub["api_key"], API_KEY),
            org_id=stub["org_id"],
            collection_id=stub["collection_id"],
            track_ids=tuple(stub["track_ids"]),
            foreign=ForeignTenant(
                stub["foreign_org_id"], stub["foreign_collection_id"], Secret(stub["foreign_api_key"], FOREIGN_KEY)
            ),
            stub=True,
            stub_fault=fault,
            **common,
        )
    if not str(base_url).startswith(("http://", "https://")):
        raise ConfigError(f"{describe('base_url')} must be an http:// or https:// URL, got {base_url!r}")
    from conformance.guard import production_reason

    production = production_reason(str(base_url))
    if production and not common["allow_production"]:
        raise ConfigError(
            f"refusing {base_url}: it looks like production ({production}) and the suite changes data; "
            f"point {describe('base_url')} at staging, or pass {describe('allow_production')} if you really mean it"
        )
    if raw.get("stub_fault"):
        raise ConfigError(f"{describe('stub_fault')} applies to the bundled stub only; drop it or drop {describe('base_url')}")
    for dest in ("api_key", "org_id", "collection_id"):
        if not raw.get(dest):
            raise ConfigError(f"missing {describe(dest)}: required with {OPTIONS_BY_DEST['base_url'].flag}")
    collection_id = str(raw.get("collection_id"))
    return Settings(
        base_url=str(base_url).rstrip("/"),
        api_key=Secret(str(raw.get("api_key")), API_KEY),
        org_id=str(raw.get("org_id")),
        collection_id=collection_id,
        track_ids=_track_ids(raw),
        foreign=_tenant(raw),
        **common,
    )
