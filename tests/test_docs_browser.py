"""The 10.2 reference in a real headless browser (Debian's chromium,
driven by playwright's Python API; no browser is downloaded).

Screenshots of the index and of the ``transaction`` page, light and dark,
desktop and phone, are written to ``$QAPIGEN_ARTIFACTS`` or else
``.artifacts/docs-browser`` in the repository; the test prints where.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qapigen.backends.docs.build import DocsOptions, build_docs
from tests.conftest import REPO
from tests.test_docs_reference import SCHEMA_10, need_corpus

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _need_browser() -> Any:
    """playwright's sync API, or skip (fail under CI) without chromium."""
    missing = None
    if not CHROMIUM.is_file() and not shutil.which("chromium"):
        missing = "Debian's chromium is not installed (apt-get install chromium)"
    try:
        from playwright import sync_api
    except ImportError:
        missing = missing or "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    return sync_api


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_corpus()
    folder = tmp_path_factory.mktemp("ref102")
    build_docs(DocsOptions(SCHEMA_10, folder, "html"))
    return folder


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("QAPIGEN_ARTIFACTS", REPO / ".artifacts")) / "docs-browser"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the reference: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = _need_browser()
    with sync_api.sync_playwright() as p:
        executable = str(CHROMIUM) if CHROMIUM.is_file() else shutil.which("chromium")
        b = p.chromium.launch(executable_path=executable, args=FLAGS)
        yield b
        b.close()


class _Page:
    """A page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any, width: int, height: int) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))


def test_search_links_and_dark_mode(site: Path, browser: Any, artifacts: Path) -> None:
    p = _Page(browser, 1280, 900)
    page = p.page
    page.goto((site / "index.html").as_uri())
    page.screenshot(path=str(artifacts / "index.png"))

    page.fill("#search", "transaction")
    results = page.locator("#results li a")
    results.first.wait_for(state="visible")
    first = results.first
    assert first.get_attribute("href") == "transaction.html#transaction"
    assert first.locator(".r-kind").inner_text() == "command"
    assert first.inner_text().startswith("command")
    page.screenshot(path=str(artifacts / "index-search.png"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/transaction.html#transaction")
    assert page.locator("#transaction h2 .name").inner_text() == "transaction"
    page.screenshot(path=str(artifacts / "transaction.png"), full_page=False)

    # Follow the type link of the 'actions' argument.
    page.click('#transaction\\.actions a.type')
    page.wait_for_url("**/transaction.html#TransactionAction")
    assert page.locator("#TransactionAction").is_visible()

    # Dark mode: toggled, painted, and remembered across pages.
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.click("#theme")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    page.goto((site / "transaction.html").as_uri() + "#transaction")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.screenshot(path=str(artifacts / "transaction-dark.png"))
    page.click("#theme")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"

    assert p.errors == []
    page.close()


def test_readable_on_a_phone(site: Path, browser: Any, artifacts: Path) -> None:
    p = _Page(browser, 390, 844)
    page = p.page
    page.goto((site / "transaction.html").as_uri() + "#transaction")
    assert page.locator(".sidebar").is_hidden()
    # Nothing wider than the screen but code blocks, which scroll.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "transaction-phone.png"))
    page.fill("#search", "query-bl")
    page.locator("#results li a").first.wait_for(state="visible")
    assert page.locator("#results li a").first.get_attribute("href") == "block-core.html#query-block"
    page.goto((site / "index.html").as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "index-phone.png"))
    assert p.errors == []
    page.close()


def test_unknown_name_says_so(site: Path, browser: Any) -> None:
    p = _Page(browser, 1000, 700)
    p.page.goto((site / "index.html").as_uri())
    p.page.fill("#search", "no-such-thing")
    assert p.page.locator("#results .none").inner_text() == "No definition matches \u201cno-such-thing\u201d"
    assert p.errors == []
    p.page.close()
