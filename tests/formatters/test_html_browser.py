"""The HTML pages in a real browser: headless Chromium renders each one and takes a screenshot.

What a person would check: at 1280 px and at 390 px (a phone) the page does not scroll
sideways and nothing sticks out of it, the page is not blank, every section is there and
has content, the matrix and the change table fit without a scroll box, no script and no
console error. Skipped only where Debian's ``chromium`` is not installed (``.ci/run``
installs it). ``PERMAUDIT_UPDATE_SCREENSHOTS=1`` also writes the screenshots of the
messenger demo to docs/img/ (the README shows them); review them like goldens.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO
from permaudit.cli import main
from tests.browser import Browser, chromium, ink_fraction, write

CHROMIUM = chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
UPDATE = os.environ.get("PERMAUDIT_UPDATE_SCREENSHOTS") == "1"
APK = FIXTURES / "apk"
WIDTHS = (1280, 390)
#: Tall enough for the screenshots in docs/ to show the summary and the matrix.
HEIGHT = {1280: 1500, 390: 1700}

OVERVIEW = ["summary", "matrix", "capabilities", "findings", "signers", "code", "apps",
            "permissions", "counts"]
PAGES: dict[str, tuple[list[str], list[str]]] = {
    "compare": (
        ["compare", *(str(p.relative_to(REPO)) for p in sorted(APK.glob("*.apk")))],
        [*OVERVIEW, "exclusives"],
    ),
    "diff": (
        ["diff", "fixtures/apk/max-25.8.1.apk", "fixtures/apk/max-26.19.2.apk"],
        ["summary", "builds", "matrix", "code", "changes"],
    ),
    "scan": (["scan", "fixtures/apk/max-26.19.2.apk"], OVERVIEW),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as instance:
        yield instance


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    made = {}
    cwd = Path.cwd()
    os.chdir(REPO)  # relative input paths, as in the README demo
    try:
        for name, (argv, _) in PAGES.items():
            target = folder / f"{name}.html"
            assert main([*argv, "--format", "html", "-o", str(target)]) == 0
            made[name] = target
    finally:
        os.chdir(cwd)
    return made


def test_the_harness_sees_overflow_console_errors_and_blank_pages(
    browser: Browser, tmp_path: Path
) -> None:
    # A check that cannot fail proves nothing: a wide, noisy page must fail each one.
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><meta name="viewport" content="width=device-width">'
        '<div style="width:2000px">wide</div><script>console.error("seen")</script>',
        encoding="utf-8",
    )
    shown = browser.render(bad.as_uri(), 390, 600)
    assert shown.measures["scrollWidth"] > 390
    assert shown.measures["wide"] and shown.measures["scripts"] == 1
    assert any("seen" in line for line in shown.console)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><title>x</title>", encoding="utf-8")
    assert ink_fraction(browser.render(blank.as_uri(), 390, 600).thumbnail) == 0.0


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_reads_well_in_a_browser(
    browser: Browser, pages: dict[str, Path], name: str, width: int
) -> None:
    shown = browser.render(pages[name].as_uri(), width, HEIGHT[width])
    measures = shown.measures
    assert measures["innerWidth"] == width
    assert measures["scrollWidth"] <= width, f"the page scrolls sideways: {measures['wide']}"
    assert measures["wide"] == []
    assert measures["sections"] == PAGES[name][1]
    assert measures["emptySections"] == []
    assert measures["scripts"] == 0
    assert measures["tocShown"] is True  # on paper it is left off (test below)
    assert measures["textLength"] > 2000
    assert shown.console == []
    assert ink_fraction(shown.thumbnail) > 0.05, "the screenshot is (nearly) blank"
    if UPDATE:
        write(REPO / "docs" / "img" / f"{name}-{width}.png", shown.png)


@pytest.mark.parametrize("width", WIDTHS)
def test_matrix_and_changes_fit_without_their_own_scroll_box(
    browser: Browser, pages: dict[str, Path], width: int
) -> None:
    for name in ("compare", "diff"):
        boxed = browser.render(pages[name].as_uri(), width, 800).measures["scrolling"]
        assert not [b for b in boxed if b in ("matrix", "code", "changes")], (name, boxed)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_prints_on_a4_without_scroll_boxes(
    browser: Browser, pages: dict[str, Path], name: str
) -> None:
    # A4 at 96 dpi is 794 px wide; on paper nothing can scroll, so nothing may stick out,
    # and the table of contents (links) is left off.
    printed = browser.render(pages[name].as_uri(), 794, 1123, media="print").measures
    assert printed["scrollWidth"] <= 794 and printed["wide"] == []
    assert printed["tocShown"] is False
    assert printed["sections"] == PAGES[name][1]


#: The header's icons: each fixture's synthetic 144 px square, shown at 48 CSS px.
ICONS = {
    "compare": ["MAX", "MAX", "Signal", "Telegram", "WhatsApp Messenger"],
    "diff": ["MAX"],
    "scan": ["MAX"],
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_header_icons_decode_and_show_at_a_fixed_size(
    browser: Browser, pages: dict[str, Path], name: str, width: int
) -> None:
    # naturalWidth is 0 for an image the browser could not decode (a broken data: URI).
    icons = browser.render(pages[name].as_uri(), width, 800).measures["icons"]
    assert [i["alt"] for i in icons] == ICONS[name]
    assert all(i["natural"] == 144 and i["shown"] == 48 for i in icons), icons
