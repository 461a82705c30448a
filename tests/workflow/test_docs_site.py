"""The built documentation site, as a reader opens it: from its files (site/index.html), in a real browser (Debian's
Chromium, headless, which `make test` installs), with every request that is not a file refused, so that a page that
needs the network fails here as it would on a plane."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from docs_tooling import reference

# Chromium's own background connections are refused by a closed network, many at a time: these turn them off.
OFFLINE_FLAGS = [
    "--no-sandbox",  # the suite may run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Forces Material's diagrams into open shadow roots, so that the test can see the SVG Mermaid drew (Material puts
# each into a closed one).
OPEN_SHADOW_ROOTS = (
    "const attach = Element.prototype.attachShadow;"
    "Element.prototype.attachShadow = function (options) { return attach.call(this, {...options, mode: 'open'}); };"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site as `make docs` builds it, strictly: a link to a page or anchor that is not there, or a page out of
    the nav, fails."""
    site_dir = tmp_path_factory.mktemp("docs") / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=reference.ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return site_dir


@pytest.fixture(scope="module")
def browser():
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert chromium and Path(chromium).exists(), "Chromium is missing: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=OFFLINE_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A page that refuses every request that is not for a file, and keeps what it refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(OPEN_SHADOW_ROOTS)
    opened = context.new_page()
    opened.refused = []  # type: ignore[attr-defined]

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            opened.refused.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()

    context.route("**/*", only_files)
    yield opened
    assert opened.refused == [], "the page asked the network for these"  # type: ignore[attr-defined]
    context.close()


def test_the_site_builds_with_every_page_and_its_search_index(site):
    assert (site / "reference" / "input.html").exists()
    assert json.loads((site / "search" / "search_index.json").read_text())["docs"]


def test_a_click_in_the_navigation_opens_the_page(site, page: Page):
    page.goto((site / "index.html").as_uri())
    page.get_by_role("navigation").get_by_role("link", name="How it works").first.click()
    page.wait_for_load_state()
    assert page.url == (site / "how-it-works.html").as_uri()
    assert page.title() == "How it works - datasync-workflow"
    # From a page one folder down, back up and across.
    page.goto((site / "reference" / "input.html").as_uri())
    page.get_by_role("navigation").get_by_role("link", name="Running locally").first.click()
    page.wait_for_load_state()
    assert page.url == (site / "local.html").as_uri()
    assert page.title() == "Running locally - datasync-workflow"


def test_the_diagrams_are_drawn_at_a_readable_size(site, page: Page):
    page.goto((site / "how-it-works.html").as_uri())
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mermaid')].every(d => d.shadowRoot?.querySelector('svg'))"
    )
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('.mermaid')].map(diagram => {
            const svg = diagram.shadowRoot.querySelector('svg');
            return {drawnWidth: svg.getBoundingClientRect().width, ownWidth: svg.viewBox.baseVal.width,
                    labels: svg.querySelectorAll('.nodeLabel').length};
        })"""
    )
    assert len(drawn) == 1 + len(reference.WORKFLOW_PARTS) + 1, drawn  # the overview, the workflow's parts, the batch
    for diagram in drawn:
        assert diagram["labels"] > 5, diagram
        # At its own size: a label's text as large as the page's, not shrunk to fit the column.
        assert diagram["drawnWidth"] >= 0.95 * diagram["ownWidth"], diagram


def test_search_finds_pages_from_the_files(site, page: Page):
    page.goto((site / "index.html").as_uri())
    page.keyboard.press("/")
    page.locator("input.md-search__input").press_sequentially("execution_timeout", delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert results.count() > 0
    assert "matching document" in page.locator(".md-search-result__meta").inner_text()


@pytest.mark.parametrize("width", [1280, 400])
def test_a_key_name_in_a_table_stays_on_one_line(site, page: Page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((site / "reference" / "input.html").as_uri())
    keys = page.locator("table td:first-child code")
    assert keys.count() > 20
    broken = page.evaluate(
        "() => [...document.querySelectorAll('table td:first-child code')]"
        ".filter(key => key.getClientRects().length > 1).map(key => key.textContent)"
    )
    assert broken == []
