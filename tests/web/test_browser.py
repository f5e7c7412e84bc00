"""The web view in a real browser: Debian's Chromium driven by Playwright (no browser download).

The view runs as ``indexer serve --port 0`` in a child process on the corpus database
(SQLite: what the pages read is checked on both backends by the HTTP tests beside
these). A failing test saves a screenshot and names it in the failure. The
tests skip, with the reason, where ``/usr/bin/chromium`` or Playwright is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.parametrize("corpus_url", ["sqlite"], indirect=True),
]

CHROMIUM = Path(os.environ.get("INDEXER_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVE_TIMEOUT = 30.0


@pytest.fixture
def browser(server: str) -> Iterator[Any]:
    """Chromium for one test. Playwright's sync API runs an event loop in this thread while it
    is open, so it is started after, and closed before, any fixture that runs ``asyncio``
    (the database fixtures)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(corpus_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``indexer serve`` on the corpus database at a free port; answers its base URL."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "indexer", "--database-url", corpus_url, "serve", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while not (found := re.search(r"serving (http://\S+/)", log.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"indexer serve did not start: {log.read_text()}")
            time.sleep(0.05)
        yield found.group(1).rstrip("/")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0, log.read_text()


def get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@contextmanager
def page_of(browser: Any, tmp_path: Path, name: str) -> Iterator[Any]:
    """A fresh page; on failure a full-page screenshot, named in the failure message.

    Console errors (a Content-Security-Policy violation among them) fail the test too.
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        assert not [e for e in errors if "404" not in e], errors
    except Exception as exc:
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"{exc}\nscreenshot: {shot}") from exc
    finally:
        page.close()


def test_search_box(browser: Any, server: str, tmp_path: Path) -> None:
    with page_of(browser, tmp_path, "search") as page:
        page.goto(server + "/")
        page.fill("#q", "docker.io/library/python:3-slim")
        page.press("#q", "Enter")
        page.wait_for_url(server + "/t/python:3-slim")
        assert page.locator("h1").inner_text() == "python:3-slim"
        page.fill("header input[name=q]", "pyhton")
        page.press("header input[name=q]", "Enter")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "No such image"
        page.click("ul.suggestions a:text-is('python')")
        page.wait_for_url(server + "/r/python")


def test_follow_a_link_from_python_to_its_debian_base(
    browser: Any, server: str, tmp_path: Path
) -> None:
    with page_of(browser, tmp_path, "python-to-debian") as page:
        page.goto(server + "/t/python:3-slim")
        svg = page.locator("svg.lineage")
        assert svg.is_visible()
        assert svg.locator("g.node").count() == 3
        assert svg.locator("g.node.focus text.title").text_content() == "python:3-slim"
        page.click("p.built-on a:text-is('debian:trixie-slim')")
        page.wait_for_url(server + "/t/debian:trixie-slim")
        assert page.locator("h1").inner_text() == "debian:trixie-slim"
        assert page.locator("section.children a:text-is('python:3.14.3-slim-trixie')").count() == 1
        # the picture's nodes are links too: from debian back down is not drawn, up is scratch
        assert page.locator("svg.lineage g.node.scratch").count() == 1


def test_smallest_python3_on_arm64_in_three_clicks(
    browser: Any, server: str, tmp_path: Path
) -> None:
    """Which Python 3 tag is smallest on arm64, and what is it built on?"""
    variants = get_json(server + "/r/python")["explain"]
    sized = [
        (s["sizes"]["arm64v8"], s["tag"])
        for s in variants["siblings"]
        if s["sizes"].get("arm64v8") is not None
    ]
    size, smallest = min(sized)
    expected_parent = next(
        p["parent"]
        for p in get_json(f"{server}/t/python:{smallest}")["show"]["platforms"]
        if p["architecture"] == "arm64v8"
    )
    clicks = 0
    with page_of(browser, tmp_path, "three-clicks") as page:
        page.goto(server + "/")
        page.click("ul.repositories a:text-is('python')")
        clicks += 1
        page.wait_for_url(server + "/r/python")
        assert page.locator("section.variants h2").inner_text() == "Variants of python:3"
        page.click(".arch-choice a[data-arch=arm64v8]")
        clicks += 1
        page.wait_for_url(re.compile(r".*/r/python\?arch=arm64v8.*"))
        first = page.locator("table.variants-table tbody tr").first
        assert first.get_attribute("data-tag") == smallest
        assert "smallest" in first.inner_text()
        cells = first.locator("td").all_inner_texts()
        assert cells[0].startswith(smallest)
        assert cells[2] and cells[3]  # base distribution and C library are read off the row
        first.locator("td a.image").first.click()
        clicks += 1
        page.wait_for_url(f"{server}/t/python:{smallest}")
        built_on = page.locator("p.built-on").inner_text()
        assert built_on.startswith("Built on ")
        arm64 = page.locator("section.platforms tr[data-arch=arm64v8]")
        assert expected_parent in arm64.inner_text()
        assert page.locator("svg.lineage").is_visible()
    assert clicks == 3
    assert size > 0
