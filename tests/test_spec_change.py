"""The spec is the source: change a limit in a copy of ``openapi/music-collections.yaml`` and everything
follows.

In-process, the declarations loaded from a changed copy (``name`` at most half its installed maximum,
``cover_image_url`` at most twice its: 256 and 2048 for the page's 512 and 1024) drive a stub, the
boundary values, the invalid and valid values and the faults of the catalogue. End to end, the suite run from a copy of the checkout in which only the
yaml changed passes against its bundled stub, still catches every fault of a length limit, and fails
a server that keeps the installed limits (a stub built from the unchanged spec), naming VAL-2 and VAL-6.

The changed limits are relative to the installed ones, so these tests hold in a checkout whose spec
was itself changed.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import find, given, settings

from conformance import fields, spec_path, strategies
from conformance.fields import Constraint, Declarations
from conformance.stub import RunningStub, StubApp
from conformance.stub.app import Request
from conformance.stub.faults import CATALOGUE, FAULTS

from . import mutation_support as mutation
from .conftest import ROOT, run_suite, target_options

NAME_MAX = fields.NAME.limit(Constraint.MAX_LENGTH)
URL_MAX = fields.COVER_IMAGE_URL.limit(Constraint.MAX_LENGTH)
#: The changed maxima: 256 and 2048 for the page's 512 and 1024.
N, U = NAME_MAX // 2, URL_MAX * 2
CHANGED = {"name": N, "cover_image_url": U}
#: The faults whose bug is about a length limit: each must still be caught when the limits change.
LIMIT_FAULTS = sorted(name for name, cls in FAULTS.items() if set(cls.breaks) & {"VAL-1", "VAL-2", "VAL-3", "VAL-6"})


def with_limits(text: str, limits: Mapping[str, int]) -> str:
    """The spec's ``text`` with the ``maxLength`` of some request body fields changed, nothing else."""
    start = text.index("\n    CollectionPatch:\n")
    end = text.index("\n    Collection:\n", start)
    section = text[start:end]
    for name, limit in limits.items():
        section, count = re.subn(rf"(\n        {name}:\n(?:          .*\n)*?          maxLength: )\d+", rf"\g<1>{limit}", section)
        assert count == 1, f"no maxLength of {name} in the request body schema"
    return text[:start] + section + text[end:]


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Declarations:
    path = tmp_path_factory.mktemp("spec") / "music-collections.yaml"
    path.write_text(with_limits(spec_path().read_text(encoding="utf-8"), CHANGED), encoding="utf-8")
    return fields.load(path)


def test_only_the_limits_change(changed: Declarations) -> None:
    original, edited = spec_path().read_text(encoding="utf-8"), changed.source.read_text(encoding="utf-8")
    differing = [(a, b) for a, b in zip(original.splitlines(), edited.splitlines(), strict=True) if a != b]
    assert differing == [
        (f"          maxLength: {NAME_MAX}", f"          maxLength: {N}"),
        (f"          maxLength: {URL_MAX}", f"          maxLength: {U}"),
    ]
    assert (changed.field("name").max_length, changed.field("cover_image_url").max_length) == (N, U)
    installed = fields.DECLARATIONS
    for name, limit in CHANGED.items():
        assert changed.field(name) == dataclasses.replace(installed.field(name), max_length=limit)
    assert changed.field("description") == fields.DESCRIPTION
    assert changed.field("cover_track_id") == fields.COVER_TRACK_ID
    assert (changed.response_schema, changed.error_schema, changed.errors) == (
        fields.RESPONSE_SCHEMA,
        fields.ERROR_SCHEMA,
        fields.ERRORS,
    )
    assert (changed.read_only_fields, changed.collection_id_prefix) == (fields.READ_ONLY_FIELDS, fields.COLLECTION_ID_PREFIX)


def _patch(app: StubApp, body: object) -> tuple[int, object]:
    """The status of a PATCH of ``body`` to the app's collection, and the ``details.field`` it blamed."""
    path = f"/v1/music/{app.org_id}/collections/{app.collection_id}"
    headers = {"x-api-key": app.api_key, "content-type": "application/json"}
    reply = app.handle(Request("PATCH", path, headers, json.dumps(body).encode()))
    document = json.loads(reply.body)
    return reply.status, document.get("error", {}).get("details", {}).get("field")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "n" * N}, 200),
        ({"name": "\U0001f3b5" * N}, 200),
        ({"name": "n" * (N + 1)}, 422),
        ({"name": "é" * (N + 1)}, 422),
        ({"cover_image_url": strategies.exact_url("ascii", U)}, 200),
        ({"cover_image_url": strategies.exact_url("astral", U)}, 200),
        ({"cover_image_url": strategies.exact_url("ascii", U + 1)}, 422),
    ],
    ids=["max", "max-astral", "max+1", "max+1-two-byte", "url-max", "url-max-astral", "url-max+1"],
)
def test_a_stub_built_from_the_changed_spec_follows_it(changed: Declarations, body: dict[str, str], status: int) -> None:
    (name,) = body
    assert _patch(StubApp(changed), body) == (status, None if status == 200 else name)
    # the stub of the installed spec answers otherwise where the limits moved
    installed = 422 if len(body[name]) > fields.FIELDS_BY_NAME[name].limit(Constraint.MAX_LENGTH) else 200
    assert _patch(StubApp(), body)[0] == installed


def test_the_boundary_values_follow(changed: Declarations) -> None:
    name = strategies.boundaries("name", declarations=changed)
    assert sorted({(b.length, b.accepted) for b in name}) == [(0, False), (1, True), (N - 1, True), (N, True), (N + 1, False)]
    assert {(b.cls, b.rule) for b in name if b.length == N + 1} == {
        ("ascii", "VAL-2"), ("two_byte", "VAL-3"), ("three_byte", "VAL-3"), ("astral", "VAL-3"), ("combining", "VAL-3"),
    }  # fmt: skip
    url = strategies.boundaries("cover_image_url", declarations=changed)
    assert sorted({(b.length, b.accepted, b.rule) for b in url}) == [
        (U - 1, True, "VAL-6"),
        (U, True, "VAL-6"),
        (U + 1, False, "VAL-6"),
    ]
    for boundary in name + url:
        assert len(boundary.value) == boundary.length
        assert (changed.body_errors({boundary.field: boundary.value}) == []) == boundary.accepted, boundary.why
    assert max(b.length for b in strategies.boundaries("name")) == fields.NAME.limit(Constraint.MAX_LENGTH) + 1


def test_the_invalid_values_follow(changed: Declarations) -> None:
    cases = strategies.invalid_field_values(declarations=changed)
    lengths = {(c.rule, len(c.body[c.field])) for c in cases if c.rule in ("VAL-2", "VAL-3", "VAL-6")}
    assert lengths == {
        ("VAL-2", N + 1),
        ("VAL-2", N + 2),
        ("VAL-2", 2 * N),
        ("VAL-3", N + 1),
        ("VAL-6", U + 1),
        ("VAL-6", U + 2),
        ("VAL-6", 2 * U),
    }
    for case in cases:
        (error, *_) = changed.body_errors(case.body)
        assert error.rule_id == case.rule or case.rule == changed.field(case.field or "").rules.code_points, case.why

    @settings(max_examples=30, deadline=None, database=None)
    @given(case=strategies.invalid_bodies(rules=["VAL-2", "VAL-6"], declarations=changed))
    def generated(case: strategies.InvalidBody) -> None:
        assert changed.body_errors(case.body), case.why

    generated()


@pytest.mark.parametrize(("field", "limit"), CHANGED.items())
def test_the_valid_values_follow(changed: Declarations, field: str, limit: int) -> None:
    values = strategies.valid_values(field, nullable=False, declarations=changed)

    @settings(max_examples=30, deadline=None, database=None)
    @given(value=values)
    def valid(value: str) -> None:
        assert changed.body_errors({field: value}) == []
        assert len(value) <= limit

    valid()
    longest = find(values, lambda value: len(value) == limit, settings=settings(database=None, max_examples=500))
    assert len(longest) == limit


@pytest.mark.parametrize(
    ("fault", "body", "status"),
    [
        ("name-over-max-accepted", {"name": "n" * (N + 1)}, 200),
        ("name-over-max-accepted", {"name": "n" * (N + 2)}, 422),
        ("name-max-rejected", {"name": "n" * N}, 422),
        ("name-max-rejected", {"name": "n" * (N - 1)}, 200),
        ("url-over-max-accepted", {"cover_image_url": strategies.exact_url("ascii", U + 1)}, 200),
        ("url-max-rejected", {"cover_image_url": strategies.exact_url("ascii", U)}, 422),
        ("name-utf8-bytes", {"name": "é" * (N // 2 + 1)}, 422),  # two bytes each: over N bytes
        ("name-utf8-bytes", {"name": "é" * (N // 2)}, 200),
        ("url-utf8-bytes", {"cover_image_url": strategies.exact_url("two_byte", U)}, 422),
        ("description-max-512", {"description": "d" * (fields.FREE_TEXT_LIMIT + 1)}, 422),  # F12: the contract's, unchanged
    ],
)
def test_the_faults_are_defined_relative_to_the_spec(
    changed: Declarations, fault: str, body: dict[str, str], status: int
) -> None:
    assert _patch(CATALOGUE[fault](changed), body)[0] == status


# ---- end to end: the suite run from a copy of the checkout -----------------------------------------


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout (the package, its spec, the self-test plugins, the pytest configuration)
    in which only ``openapi/music-collections.yaml`` differs: the maxima of :data:`CHANGED`."""
    copy = tmp_path_factory.mktemp("checkout")
    ignored = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for directory in ("conformance", "openapi", "tests"):
        shutil.copytree(ROOT / directory, copy / directory, ignore=ignored)
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    yaml = copy / "openapi" / "music-collections.yaml"
    yaml.write_text(with_limits(yaml.read_text(encoding="utf-8"), CHANGED), encoding="utf-8")
    return copy


def test_the_changed_suite_passes_against_its_own_stub(checkout: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run = run_suite("--profile", "quick", "--seed", "0", "--junitxml", str(junit), "--report-dir", str(tmp_path), cwd=checkout)
    assert run.returncode == 0, run.output[-3000:]
    names = {case.name.rsplit("::", 1)[-1]: case.outcome for case in mutation.read_junit(junit)}
    # the copy's boundaries ran, not the checkout's
    assert names[f"test_name_over_the_maximum_gets_422[name of {N + 1} ASCII characters]"] == "pass"
    assert names[f"test_url_over_the_maximum_gets_422[{U + 1}-ascii]"] == "pass"
    assert f"test_name_over_the_maximum_gets_422[name of {NAME_MAX + 1} ASCII characters]" not in names
    assert f"test_url_over_the_maximum_gets_422[{URL_MAX + 1}-ascii]" not in names


def test_the_changed_suite_still_catches_every_limit_fault(checkout: Path, tmp_path: Path) -> None:
    """The faults of a length limit (and F12's variant, which keeps the contract's 512) against the copy."""
    entries = [
        mutation.Entry(name, "fault", FAULTS[name].breaks, "", FAULTS[name].profile, FAULTS[name].examples)
        for name in LIMIT_FAULTS
    ]
    entries.append(mutation.Entry("description-max-512", "variant", (), "F12"))
    assert len(entries) >= 15

    def run(entry: mutation.Entry) -> mutation.Verdict:
        out = tmp_path / entry.name
        out.mkdir()
        result = run_suite(*entry.args(out), timeout=600, cwd=checkout)
        word = json.loads((out / "conformance.json").read_text(encoding="utf-8"))["verdict"]["status"]
        return mutation.Verdict(entry, result.returncode, 0.0, mutation.read_junit(out / "junit.xml"), result.output, word)

    with ThreadPoolExecutor(max_workers=mutation.workers()) as pool:
        verdicts = list(pool.map(run, entries))
    wrong = [verdict.explain() for verdict in verdicts if not verdict.ok]
    assert not wrong, "\n".join(wrong)


def test_a_server_keeping_the_page_limits_fails_naming_val_2_and_val_6(checkout: Path, tmp_path: Path) -> None:
    """The stub of the unchanged spec (the page's 512 and 1024), served on loopback, against the changed suite."""
    app = StubApp()
    assert (app.spec("name").max_length, app.spec("cover_image_url").max_length) == (NAME_MAX, URL_MAX)
    with RunningStub(app) as stub:
        seed = app.seed(stub.base_url)
        run = run_suite(
            *target_options(seed, foreign=False),
            "--profile",
            "quick",
            "--seed",
            "0",
            "-k",
            "test_validation",
            "--report-dir",
            str(tmp_path),
            cwd=checkout,
        )
    assert run.returncode == 1, run.output[-3000:]
    for rule_id in ("VAL-2", "VAL-6"):
        assert re.search(rf"^FAIL\s+{rule_id}\s", run.output, re.MULTILINE), run.output[-3000:]
    assert seed.api_key not in run.output
