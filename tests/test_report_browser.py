"""The HTML report in a real browser (Debian's chromium, headless): it renders, and failures show first.

The page is rendered twice by chromium at 1280x800: ``--dump-dom`` gives the DOM the browser built,
and ``--screenshot`` gives exactly the first viewport, what a reader sees without scrolling. A failure
card's left edge has a colour used nowhere else (``report_html.FAIL_EDGE``): it must fill a good part of
the failing report's first viewport and be absent from the passing one. Were the failures placed
below the table of every rule, the colour would be off-screen and the test would fail.

In CI (``CI`` set) a missing chromium fails the test; elsewhere it skips. The project's test command
installs chromium when it is missing (README, ``.ci/run``).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from conformance import report_html

from .report_targets import WrongAuthCode, served
from .test_gate import _run

WIDTH, HEIGHT = 1280, 800


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: the browser self-test must run in CI", pytrace=False)
        pytest.skip(message)
    return found


def _browse(page: Path, tmp_path: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--force-color-profile=srgb", "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}", *mode, page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path)


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit, non-interlaced PNG (what chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, header = 8, b"", b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, body = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        data += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0)
    assert colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(data), width * step, []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up, corner = previous[x], previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[x] = (line[x] + near[2]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(b for i in range(0, stride, step) for b in row[i : i + 3]) for row in rows]


def _count(rows: list[bytes], colour: str) -> int:
    rgb = bytes.fromhex(colour.lstrip("#"))
    return sum(sum(1 for i in range(0, len(row), 3) if row[i : i + 3] == rgb) for row in rows)


def _screenshot(page: Path, tmp_path: Path, name: str) -> tuple[int, int, list[bytes]]:
    shot = tmp_path / name
    _browse(page, tmp_path, f"--screenshot={shot}")
    width, height, rows = _pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    return width, height, rows


def test_failures_are_visible_without_scrolling_in_chromium(tmp_path: Path) -> None:
    _chromium()
    with served(WrongAuthCode()) as target:
        failing = _run(tmp_path / "failing", *target)
    passing = _run(tmp_path / "passing")
    assert failing.returncode == 1, failing.output
    assert passing.returncode == 0, passing.output

    page = tmp_path / "failing" / "conformance.html"
    dom = _browse(page, tmp_path, "--dump-dom").stdout
    assert "<h1" in dom
    assert "FAIL: " in dom
    cards = re.findall(r'<article class="card (\w+)" id="rule-([\w-]+)"', dom)
    assert cards[:2] == [("fail", "AUTH-1"), ("fail", "AUTH-2")], cards[:4]
    assert dom.index('id="rule-AUTH-1"') < dom.index('id="rules"')

    _, _, rows = _screenshot(page, tmp_path, "failing.png")
    background = rows[HEIGHT - 1][:3]
    assert any(row != background * WIDTH for row in rows[:60]), "the top of the page is blank"
    edge = _count(rows, report_html.FAIL_EDGE)
    assert edge >= 8 * 300, f"only {edge} pixels of failure cards in the first viewport"

    _, _, passing_rows = _screenshot(tmp_path / "passing" / "conformance.html", tmp_path, "passing.png")
    assert _count(passing_rows, report_html.FAIL_EDGE) == 0
