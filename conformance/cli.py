"""The ``conformance`` console command: ``run`` the suite, serve the ``stub``, re-render a ``report``,
``restore`` what a killed run left."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__
from conformance import config as cfg

_EXIT_STATUSES = """exit status:
  0  every MUST rule holds (SHOULD violations are warnings; baseline-accepted violations are listed)
  1  a MUST rule is violated (with --strict, a SHOULD rule too)
  2  interrupted (the collection is still restored)
  3  the target could not be judged (unreachable, transport errors, a failed restore)
  4  misconfiguration (a missing or malformed option, an unusable baseline file)"""


def _stub(args: argparse.Namespace) -> int:
    from conformance.stub import RunningStub, create

    try:
        app = create(args.fault)
    except ValueError as error:
        print(f"conformance stub: {error}", file=sys.stderr)
        return 4
    app.add_collections(args.collections)
    try:
        stub = RunningStub(app, args.host, args.port, verbose=args.verbose, latency_ms=args.latency_ms)
    except OSError as error:
        print(f"conformance stub: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 4
    seed = app.seed(stub.base_url)
    print(f"reference stub ({app.name}) serving {stub.base_url}  (Ctrl-C stops it)")
    if args.latency_ms:
        print(f"every answer delayed by {args.latency_ms:g} ms of simulated network latency")
    print("point the suite at it with:")
    print(f"  export CONFORMANCE_BASE_URL={seed.base_url}")
    print(f"  export CONFORMANCE_API_KEY={seed.api_key}")
    print(f"  export CONFORMANCE_ORG_ID={seed.org_id}")
    print(f"  export CONFORMANCE_COLLECTION_ID={','.join(seed.collection_ids) or seed.collection_id}")
    print(f"  export CONFORMANCE_TRACK_IDS={','.join(seed.track_ids)}")
    print(f"  export CONFORMANCE_FOREIGN_ORG_ID={seed.foreign_org_id}")
    print(f"  export CONFORMANCE_FOREIGN_COLLECTION_ID={seed.foreign_collection_id}")
    print(f"  export CONFORMANCE_FOREIGN_API_KEY={seed.foreign_api_key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stub.close()
    return 0


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60_000:
        raise argparse.ArgumentTypeError(f"a number of milliseconds from 0 to 60000, got {text!r}")
    return value


def build_run_parser() -> argparse.ArgumentParser:
    """``conformance run``: the options of the pytest form, from the one option table."""
    parser = argparse.ArgumentParser(
        prog="conformance run",
        description="Run the conformance suite against a target (default: the bundled stub, in-process) and\n"
        "write junit.xml, conformance.json, conformance.md and conformance.html into --report-dir.",
        epilog="Any other option (-x, -v, -k EXPR, ...) is passed to pytest.\n"
        "The command line wins over the environment.\n\n" + _EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_argument_group("target and run (each option also read from its environment variable)")
    for option in cfg.OPTIONS:
        envs = " or ".join(option.env)
        if option.repeatable:
            target.add_argument(
                option.flag, dest=option.dest, action="append", metavar=option.metavar, help=f"{option.help} [env: {envs}]"
            )
        elif option.is_flag:
            target.add_argument(option.flag, dest=option.dest, action="store_true", help=f"{option.help} [env: {envs}=1]")
        else:
            target.add_argument(option.flag, dest=option.dest, metavar=option.metavar, help=f"{option.help} [env: {envs}]")
    gate = parser.add_argument_group("output")
    gate.add_argument("--junitxml", metavar="FILE", help="the JUnit file for CI (default: REPORT_DIR/junit.xml)")
    return parser


#: What a run turns off in pytest. Start-up: the suite needs neither pytest's assertion rewriting (its
#: checks explain themselves) nor schemathesis' pytest plugin (it drives schemathesis as a library);
#: together they cost about 1.5 s of CPU at every start (see README, "Speed"). Nor anyio's (its tests
#: are not async), which alone imports asyncio and anyio (about 0.05 s). Nor pytest's temporary
#: folders: no test of the suite asks for one, but under -n pytest-xdist's controller makes one for
#: each worker (TMPDIR/pytest-of-USER/pytest-N) and, at the end, pytest removes that user's older
#: ones: a run writes nothing outside --report-dir, and deletes nothing.
PLUGINS_OFF = ("--assert=plain", "-p", "no:schemathesis", "-p", "no:anyio", "-p", "no:tmpdir")


def pytest_args(args: argparse.Namespace, extra: Sequence[str], environ: dict[str, str] | None = None) -> list[str]:
    """The ``pytest`` command line of a ``conformance run``."""
    # This command imported the package before pytest could mark it for assertion rewriting: say nothing of it.
    argv = ["--pyargs", "conformance", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    argv += PLUGINS_OFF
    for option in cfg.OPTIONS:
        value = getattr(args, option.dest)
        if option.repeatable:
            for item in value or ():
                argv += [option.flag, item]
        elif option.is_flag:
            argv += [option.flag] if value else []
        elif value is not None:
            argv += [option.flag, value]
    raw = cfg.RawOptions({"report_dir": args.report_dir}, dict(os.environ) if environ is None else environ)
    report_dir = raw.get("report_dir")
    argv += ["--junitxml", args.junitxml or str(Path(report_dir or "reports") / "junit.xml")]
    return [*argv, *extra]


def _run(argv: Sequence[str]) -> int:
    from conformance.safety import PROCESS

    PROCESS.install()  # before pytest is imported: a signal during the start-up still ends the run cleanly
    import pytest

    args, extra = build_run_parser().parse_known_args(argv)
    try:
        argv = pytest_args(args, extra)
    except cfg.ConfigError as error:  # e.g. CONFORMANCE_REPORT_DIR set but empty
        print(f"conformance: {error}", file=sys.stderr)
        return 4
    return int(pytest.main(argv))


def _report(args: argparse.Namespace) -> int:
    from conformance import report

    try:
        document = report.load(Path(args.json))
    except report.ReportError as error:
        print(f"conformance report: {error}", file=sys.stderr)
        return 4
    out = Path(args.out) if args.out else Path(args.json).parent
    for path in report.render(document, out):
        print(path)
    return 0


#: The options of ``conformance restore``: those that say which target and collection, and how to reach it.
RESTORE_OPTIONS = (
    "base_url", "api_key", "org_id", "collection_id", "report_dir",
    "request_timeout", "rate_limit", "max_retry_wait", "allow_production",
)  # fmt: skip


def build_restore_parser() -> argparse.ArgumentParser:
    """``conformance restore``: the target options of ``conformance run``, from the one option table."""
    parser = argparse.ArgumentParser(
        prog="conformance restore",
        description="Put back the collection's original values from the journal a run left in\n"
        "REPORT_DIR/.conformance-state/ (a run that was killed, or whose restore failed), verify them,\n"
        "and remove the journal.",
        epilog="exit status:\n  0  restored and verified, or no journal to restore\n"
        "  3  not restored: the target could not be reached or did not keep the values, or a run is in progress\n"
        "  4  misconfiguration",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = parser.add_argument_group("target (each option also read from its environment variable)")
    for dest in RESTORE_OPTIONS:
        option = cfg.OPTIONS_BY_DEST[dest]
        envs = " or ".join(option.env)
        if option.is_flag:
            group.add_argument(option.flag, dest=dest, action="store_true", help=f"{option.help} [env: {envs}=1]")
        elif option.repeatable:
            group.add_argument(
                option.flag, dest=dest, action="append", metavar=option.metavar, help=f"{option.help} [env: {envs}]"
            )
        else:
            group.add_argument(option.flag, dest=dest, metavar=option.metavar, help=f"{option.help} [env: {envs}]")
    return parser


def _restore(argv: Sequence[str]) -> int:
    from conformance.client import Client
    from conformance.target import NotJudged, RestoreFailed, Target

    args = build_restore_parser().parse_args(argv)
    try:
        settings = cfg.load({k: v for k, v in vars(args).items() if v not in (None, False)})
    except cfg.ConfigError as error:
        print(f"conformance restore: {error}", file=sys.stderr)
        return 4
    status = 0
    for collection_id in settings.collection_ids or (settings.collection_id,):  # each one given
        one = dataclasses.replace(settings, collection_id=collection_id)
        client = Client(one)
        try:
            print(f"conformance restore: {Target(one, client).restore_journal()}")
        except (NotJudged, RestoreFailed) as error:
            print(f"conformance restore: {error}", file=sys.stderr)
            status = 3
        finally:
            client.close()
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance suite for PATCH /v1/music/{organization_id}/collections/{collection_id}.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="run the suite and write the reports (`conformance run --help` lists the options)", add_help=False
    )
    stub = commands.add_parser("stub", help="serve the bundled reference stub and print its key and ids")
    stub.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    stub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    stub.add_argument("--fault", default=None, help="serve a named fault or conformant variant instead (self-test)")
    stub.add_argument("--verbose", action="store_true", help="log every request")
    stub.add_argument(
        "--collections", type=int, default=1, metavar="N",
        help="serve N collections of the organization (one per pytest-xdist worker, -n N; default: 1)",
    )  # fmt: skip
    stub.add_argument(
        "--latency-ms", type=_latency, default=0.0, metavar="MS",
        help="answer every request after MS milliseconds, as a remote server does (concurrent requests wait "
        "concurrently); for measuring, see scripts/benchmark.py. GET /_stub/traffic counts the requests served "
        "(default: 0)",
    )  # fmt: skip
    stub.set_defaults(handler=_stub)
    report = commands.add_parser(
        "report",
        help="re-render conformance.md and conformance.html from a conformance.json",
        description="Re-render the Markdown and HTML reports from the JSON report of a run (its source of truth).",
    )
    report.add_argument("json", metavar="FILE", help="a conformance.json, e.g. reports/conformance.json")
    report.add_argument("--out", metavar="DIR", help="where to write them (default: next to FILE)")
    report.set_defaults(handler=_report)
    commands.add_parser(
        "restore",
        help="put back the original values a killed run left in its journal (`conformance restore --help`)",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "run":  # its unknown options go to pytest, so it has a parser of its own
        return _run(argv[1:])
    if argv and argv[0] == "restore":
        return _restore(argv[1:])
    args = parser.parse_args(argv)
    return int(args.handler(args))
