"""The ``conformance`` console command: ``run`` the suite, serve the ``stub``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from conformance import __version__


def _stub(args: argparse.Namespace) -> int:
    from conformance.stub import RunningStub, create

    try:
        app = create(args.fault)
    except ValueError as error:
        print(f"conformance stub: {error}", file=sys.stderr)
        return 4
    try:
        stub = RunningStub(app, args.host, args.port, verbose=args.verbose)
    except OSError as error:
        print(f"conformance stub: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 4
    seed = app.seed(stub.base_url)
    print(f"reference stub ({app.name}) serving {stub.base_url}  (Ctrl-C stops it)")
    print("point the suite at it with:")
    print(f"  export CONFORMANCE_BASE_URL={seed.base_url}")
    print(f"  export CONFORMANCE_API_KEY={seed.api_key}")
    print(f"  export CONFORMANCE_ORG_ID={seed.org_id}")
    print(f"  export CONFORMANCE_COLLECTION_ID={seed.collection_id}")
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


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    import pytest

    return int(pytest.main(["--pyargs", "conformance", "-p", "no:cacheprovider", *extra]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance suite for PATCH /v1/music/{organization_id}/collections/{collection_id}.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the suite (every option of the pytest form: --base-url, --api-key, ...; see `pytest --help`)",
        description="Run the conformance suite. Any option is passed to pytest: see README for the list.",
    )
    run.set_defaults(handler=None)
    stub = commands.add_parser("stub", help="serve the bundled reference stub and print its key and ids")
    stub.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    stub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    stub.add_argument("--fault", default=None, help="serve a named fault or conformant variant instead (self-test)")
    stub.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "run":
        return _run(parser.parse_args(["run"]), argv[1:])
    args = parser.parse_args(argv)
    return _stub(args)
