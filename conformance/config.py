"""Target configuration: one frozen, typed object, read in one place.

Precedence: command line over environment over defaults. The option table below is the only
list of options; the pytest plugin and the ``conformance`` console command both read it. The
option and variable names are an interface that CI scripts depend on: do not rename them.
"""

from __future__ import annotations

import base64
import math
import os
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        "a collection of that organization the suite may change; it is restored at the end (repeatable, "
        "variable: comma-separated: with pytest-xdist's -n N, each of N workers changes one of them)",
        "ID",
        repeatable=True,
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
        "bound on each request, in seconds: connecting, sending and the whole answer together (default: 10)",
        "SECONDS",
    ),
    Option(
        "max_time",
        "--max-time",
        ("CONFORMANCE_MAX_TIME",),
        "bound on the whole run, in seconds, requests included; past it the run stops, restores and exits 3 "
        "(default: 3600; none: no bound)",
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
        "adopt_current_state",
        "--adopt-current-state",
        ("CONFORMANCE_ADOPT_CURRENT_STATE",),
        "take the collection's current values as its original ones even when they look like another run's "
        "(values this suite writes, or a journal whose run did not write them); only if you know they are fine",
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
class UrlCredentials:
    """The ``user:password@`` of a base URL, percent-decoded: sent as HTTP Basic authentication (as the
    HTTP client would), never printed. Without a password the user name is the secret (a token)."""

    username: Secret
    password: Secret

    def secrets(self) -> tuple[str, ...]:
        user, password = self.username.reveal(), self.password.reveal()
        basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")  # the Authorization value
        return (password if password else user, basic)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know about its target and how hard to test it."""

    #: The target, without the credentials of its ``user:password@`` (see ``credentials``): safe to print.
    base_url: str
    api_key: Secret
    org_id: str
    collection_id: str
    #: Every collection given (``--collection-id`` repeated): with pytest-xdist each worker takes its own.
    collection_ids: tuple[str, ...] = ()
    track_ids: tuple[str, ...] = ()
    foreign: ForeignTenant | None = None
    report_dir: Path = Path("reports")
    request_timeout: float = 10.0
    max_time: float | None = 3600.0
    rate_limit: float | None = None
    max_retry_wait: float = 60.0
    allow_production: bool = False
    adopt_current_state: bool = False
    profile: str = "default"
    examples: int | None = None
    seed: int | None = None
    strict: bool = False
    baseline: Path | None = None
    stub: bool = False
    stub_fault: str | None = None
    credentials: UrlCredentials | None = None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction of anything written or printed."""
        keys = [self.api_key.reveal()]
        if self.foreign is not None:
            keys.append(self.foreign.api_key.reveal())
        if self.credentials is not None:
            keys += self.credentials.secrets()
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
    """Values as given, before defaults: ``values`` from the command line, ``environ`` from the process.

    A value that is given counts even when it is empty: an empty option or a variable that is set but
    empty (a CI variable defined from a secret that does not exist) is an error, never "absent".
    """

    values: Mapping[str, Any]
    environ: Mapping[str, str]

    def get(self, dest: str) -> Any:
        """The command-line value, else the first environment variable that is set, else ``None``.
        Raises :class:`ConfigError` when that value is empty."""
        option = OPTIONS_BY_DEST[dest]
        value = self.values.get(dest)
        if option.repeatable and isinstance(value, str):  # one value given where several may be
            value = [value]
        if value not in (None, [], ()):
            items = value if option.repeatable else [value]
            if any(isinstance(item, str) and not item.strip() for item in items):
                raise ConfigError(f"{option.flag} is empty: give it a value, or leave it out{_ABSENT.get(dest, '')}")
            return value
        for name in option.env:
            if name not in self.environ:
                continue
            env_value = self.environ[name]
            if not env_value.strip():
                raise ConfigError(f"{name} is set but empty: give it a value, or unset it{_ABSENT.get(dest, '')}")
            if option.repeatable:
                parts = [part.strip() for part in env_value.split(",") if part.strip()]
                if not parts:
                    raise ConfigError(f"{name} holds no value (only commas): give it a value, or unset it")
                return parts
            return env_value
        return None

    def source(self, dest: str) -> str:
        """Where the value of ``dest`` comes from: its flag, or the environment variable that gave it."""
        option = OPTIONS_BY_DEST[dest]
        if self.values.get(dest) not in (None, [], ()):
            return option.flag
        return next((name for name in option.env if name in self.environ), option.flag)


#: What leaving an option out means, where it means something, for the message about an empty one.
_ABSENT = {"base_url": " to run against the bundled stub"}


def _flaw(value: str) -> str | None:
    """What is wrong with a value that any option may hold: white space around it, control characters."""
    if value.endswith(("\n", "\r")):
        return "ends with a newline"
    if value != value.strip():
        return "starts with white space" if value[:1].isspace() else "ends with white space"
    for index, char in enumerate(value, 1):
        if unicodedata.category(char) == "Cc":
            return f"holds a control character (U+{ord(char):04X}) at character {index} of {len(value)}"
    return None


def _text(raw: RawOptions, dest: str) -> str | None:
    """A text option, refused (one line, its value quoted) when white space surrounds it or it holds a control character."""
    value = raw.get(dest)
    if value is None:
        return None
    text = str(value)
    flaw = _flaw(text)
    if flaw:
        raise ConfigError(f"{raw.source(dest)} {flaw}: {text!r}")
    return text


def _key(raw: RawOptions, dest: str) -> Secret | None:
    """A key: printable ASCII without white space, since an HTTP header carries nothing else intact.
    A flawed key is refused before any request; the message says what is wrong, never the key."""
    value = raw.get(dest)
    if value is None:
        return None
    key = str(value)
    flaw = _flaw(key)
    if flaw is None:
        for index, char in enumerate(key, 1):
            if char.isspace():
                flaw = f"holds white space at character {index} of {len(key)}"
            elif not char.isascii():
                flaw = f"holds a non-ASCII character at character {index} of {len(key)}"
            if flaw:
                break
    if flaw:
        raise ConfigError(
            f"the key given by {raw.source(dest)} {flaw}; a key is printable ASCII without white space "
            "(a trailing newline is a common mistake with CI secrets): fix it (the key is not shown)"
        )
    return Secret(key, API_KEY if dest == "api_key" else FOREIGN_KEY)


def _id(raw: RawOptions, dest: str, value: str) -> str:
    """An id that goes into the path: ``.`` and ``..`` would address another resource."""
    flaw = _flaw(value) or ("is a dot segment, which would address another resource" if value in (".", "..") else None)
    if flaw:
        raise ConfigError(f"{raw.source(dest)} {flaw}: {value!r}")
    return value


def _number(
    raw: RawOptions, dest: str, kind: type[int] | type[float], default: Any, *, minimum: int = 0, none: bool = False
) -> Any:
    """A finite positive ``float``, or an ``int`` at least ``minimum``; ``none`` (where allowed) is ``None``: no bound.
    ``nan``, ``inf``, zero and negative seconds are refused: each would turn a bound off or break every request."""
    value = raw.get(dest)
    if value is None:
        return default
    text = str(value).strip()
    if none and text.lower() == "none":
        return None
    try:
        number: float | None = kind(text)
    except ValueError:
        number = None
    if kind is float:
        valid, what = number is not None and math.isfinite(number) and number > 0, "a positive number"
    else:
        valid, what = number is not None and number >= minimum, f"a whole number at least {minimum}"
    if not valid:
        alternative = ", or none for no bound" if none else ""
        raise ConfigError(f"{describe(dest)} must be {what}{alternative}, got {value!r}")
    return number


def _flag(raw: RawOptions, dest: str) -> bool:
    value = raw.get(dest)
    return value is True or str(value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _strict(strict: bool, environ: Mapping[str, str]) -> bool:
    value = environ.get("CONFORMANCE_STRICT")
    if value is not None and not value.strip():
        raise ConfigError("CONFORMANCE_STRICT is set but empty: set it to 1, or unset it")
    return strict or (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _rate(raw: RawOptions) -> float | None:
    from conformance.pacing import parse_rate

    value = raw.get("rate_limit")
    if value is None:
        return None
    try:
        rate = parse_rate(str(value))
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise ConfigError(f"{describe('rate_limit')} must be a positive rate such as 5/s or 120/min, got {value!r}")
    return rate


def _track_ids(raw: RawOptions) -> tuple[str, ...]:
    tracks = tuple(_id(raw, "track_ids", str(t)) for t in raw.get("track_ids") or ())
    from conformance.fields import TRACK_ID_PREFIX  # the spec is read when a run needs it

    wrong = [t for t in tracks if not t.startswith(TRACK_ID_PREFIX)]
    if wrong:
        raise ConfigError(f"{describe('track_ids')} takes track ids ({TRACK_ID_PREFIX}...), got {', '.join(map(repr, wrong))}")
    return tracks


def _tenant(raw: RawOptions) -> ForeignTenant | None:
    org, collection, key = raw.get("foreign_org_id"), raw.get("foreign_collection_id"), _key(raw, "foreign_api_key")
    given = {"foreign_org_id": org, "foreign_collection_id": collection, "foreign_api_key": key}
    if not any(given.values()):
        return None
    missing = [describe(name) for name, value in given.items() if not value]
    if missing:
        raise ConfigError(f"the foreign tenant is incomplete: missing {', '.join(missing)}")
    assert key is not None
    return ForeignTenant(_id(raw, "foreign_org_id", str(org)), _id(raw, "foreign_collection_id", str(collection)), key)


def _base_url(text: str) -> tuple[str, UrlCredentials | None]:
    """The base URL without its credentials, and the credentials; refused (one line) when the HTTP
    client could not use it as the base of the endpoint's path."""
    from conformance._httpx import httpx

    where = describe("base_url")
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{where} must be an http:// or https:// URL, got {_without_userinfo(text)!r}")
    if "?" in text or "#" in text:
        raise ConfigError(
            f"{where} must not hold a query or a fragment (the endpoint's path is appended to it), got {_without_userinfo(text)!r}"
        )
    try:
        url = httpx.URL(text)
        port = url.port
    except (httpx.InvalidURL, ValueError, UnicodeError) as error:
        raise ConfigError(f"{where} is not a usable URL ({error}), got {_without_userinfo(text)!r}") from None
    if not url.host:
        raise ConfigError(f"{where} has no host, got {_without_userinfo(text)!r}")
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{where} has port {port}, outside 1-65535")
    credentials = None
    if url.userinfo:
        credentials = UrlCredentials(Secret(url.username), Secret(url.password))
        text = str(url.copy_with(userinfo=b""))
    return text.rstrip("/"), credentials


def _without_userinfo(text: str) -> str:
    """``text`` with whatever could be a ``user:password@`` masked, for a message about a URL."""
    scheme, separator, rest = text.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{separator}{authority}{slash}{path}"


def worker_index(environ: Mapping[str, str]) -> int | None:
    """This process's pytest-xdist worker number (``gw3``: 3), or ``None`` outside a worker."""
    name = environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else None


def _worker_collection(collection_ids: tuple[str, ...], worker: int | None) -> str:
    """The collection this process changes: its worker's own, the first one outside a worker."""
    if worker is None:
        return collection_ids[0]
    if worker >= len(collection_ids):
        raise ConfigError(
            f"pytest-xdist runs at least {worker + 1} workers but {len(collection_ids)} collection(s) were given: each "
            f"worker changes a collection of its own; give one per worker with {describe('collection_id')} "
            "(repeated, or comma-separated), or run fewer workers (-n)"
        )
    return collection_ids[worker]


def effort(values: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> tuple[str, int | None]:
    """The profile and ``--examples`` alone, as :func:`load` reads them: what the collection needs to
    know how a property test is split. Raises :class:`ConfigError` as :func:`load` does."""
    raw = RawOptions(values, os.environ if environ is None else environ)
    return _profile(raw), _number(raw, "examples", int, None, minimum=1)


def _profile(raw: RawOptions) -> str:
    profile = _text(raw, "profile") or "default"
    if profile not in PROFILES:
        raise ConfigError(f"{describe('profile')} must be one of {', '.join(PROFILES)}, got {profile!r}")
    return profile


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
    with a one-line fix when a value is missing, empty or malformed; the message never holds a key.
    """
    raw = RawOptions(values, os.environ if environ is None else environ)
    worker = worker_index(raw.environ)
    profile = _profile(raw)
    baseline = _text(raw, "baseline")
    common: dict[str, Any] = {
        "report_dir": Path(_text(raw, "report_dir") or "reports"),
        "request_timeout": _number(raw, "request_timeout", float, 10.0),
        "max_time": _number(raw, "max_time", float, 3600.0, none=True),
        "rate_limit": _rate(raw),
        "max_retry_wait": _number(raw, "max_retry_wait", float, 60.0),
        "allow_production": _flag(raw, "allow_production"),
        "adopt_current_state": _flag(raw, "adopt_current_state"),
        "profile": profile,
        "examples": _number(raw, "examples", int, None, minimum=1),
        "seed": _number(raw, "seed", int, None, minimum=0),
        "strict": _strict(strict or raw.values.get("strict") is True, raw.environ),
        "baseline": Path(baseline) if baseline else None,
    }
    base_url = _text(raw, "base_url")
    fault = _text(raw, "stub_fault")
    if base_url is None:
        if stub_values is None:
            raise ConfigError(f"no target: set {describe('base_url')}")
        stub = dict(stub_values(fault))
        return Settings(
            base_url=stub["base_url"],
            api_key=Secret(stub["api_key"], API_KEY),
            org_id=stub["org_id"],
            collection_id=stub["collection_id"],
            collection_ids=(stub["collection_id"],),
            track_ids=tuple(stub["track_ids"]),
            foreign=ForeignTenant(
                stub["foreign_org_id"], stub["foreign_collection_id"], Secret(stub["foreign_api_key"], FOREIGN_KEY)
            ),
            stub=True,
            stub_fault=fault,
            **common,
        )
    base_url, credentials = _base_url(base_url)
    from conformance.guard import production_reason

    production = production_reason(str(raw.get("base_url")))
    if production and not common["allow_production"]:
        raise ConfigError(
            f"refusing {base_url}: it looks like production ({production}) and the suite changes data; "
            f"point {describe('base_url')} at staging, or pass {describe('allow_production')} if you really mean it"
        )
    if fault:
        raise ConfigError(f"{describe('stub_fault')} applies to the bundled stub only; drop it or drop {describe('base_url')}")
    api_key = _key(raw, "api_key")
    if api_key is None:
        raise ConfigError(f"missing {describe('api_key')}: required with {OPTIONS_BY_DEST['base_url'].flag}")
    org_id, collections = raw.get("org_id"), raw.get("collection_id")
    for dest, value in (("org_id", org_id), ("collection_id", collections)):
        if value is None:
            raise ConfigError(f"missing {describe(dest)}: required with {OPTIONS_BY_DEST['base_url'].flag}")
    collection_ids = tuple(dict.fromkeys(_id(raw, "collection_id", str(c)) for c in collections))
    return Settings(
        base_url=base_url,
        api_key=api_key,
        org_id=_id(raw, "org_id", str(org_id)),
        collection_id=_worker_collection(collection_ids, worker),
        collection_ids=collection_ids,
        track_ids=_track_ids(raw),
        foreign=_tenant(raw),
        credentials=credentials,
        **common,
    )
