"""Galleries in headless Chromium (issue 16): posts of 1, 2, 3, 7 and 20
photos at 320, 768 and 1440 px, in light, dark and print: no image's box
overlaps anything outside its gallery, the gallery stays inside the content
column, the home page's next post starts below a post with photos; axe-core
and the Nu HTML Checker find nothing; the viewer works with the keyboard
and gives focus back.

The site is built for, and served by, a real ``python -m http.server`` on
a loopback port, so every image the page loads is a file of the build.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from album_kit import album_post, build_site, make_site, pdf
from browser_kit import INSTALL_JAVA, INSTALL_TOOLS, VNU_JAR, axe_violations, require
from conftest import stop_process
from test_browser import _free_port, _wait_until_serving

pytestmark = pytest.mark.browser

COUNTS = (1, 2, 3, 7, 20)
WIDTHS = (320, 768, 1440)
LONG = (
    "Un paragraphe assez long pour passer à la ligne sur un téléphone, avec "
    "des mots comme « réparabilité » et des liens vers [un autre billet]({filename}/posts/2026-06-02-album-2.md)."
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("album-site")
    posts: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for day, count in enumerate(COUNTS, start=1):
        text, photos = album_post(
            f"album-{count}", count, date=f"2026-06-{day:02d} 10:00", text=LONG
        )
        posts[f"2026-06-{day:02d}-album-{count}.md"] = text
        files.update(photos)
    posts["2026-06-10-documents.md"] = (
        "Title: Les documents\nDate: 2026-06-10 10:00\nAuthor: Claire Dubois\n"
        "Lang: fr\nSlug: documents\n\nLa fiche technique et le programme.\n\n"
        "```downloads\nimages/docs/fiche-aube.pdf | Fiche technique de l’Aube\n"
        "images/docs/programme.odt\n```\n"
    )
    files["images/docs/fiche-aube.pdf"] = pdf(2)
    files["images/docs/programme.odt"] = b"PK\x03\x04" + b"\x00" * 300
    make_site(root, posts, files)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    report = build_site(root, SITEURL=url)
    assert report.problems == [], report.problems
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port),
         "-d", str(root / "output")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_until_serving(f"{url}/", proc, timeout=15)
        yield url, root / "output"
    finally:
        stop_process(proc)


def emulate(driver: Any, width: int, scheme: str = "light", media: str = "") -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {
            "media": media,
            "features": [{"name": "prefers-color-scheme", "value": scheme}],
        },
    )


#: Boxes of the page, measured by the browser: each gallery image, the
#: gallery, the content column, and every element outside the gallery
#: (neither inside it nor one of its ancestors) that has a box.
MEASURE = """
const rect = e => { const r = e.getBoundingClientRect();
  return {l: r.left + scrollX, t: r.top + scrollY, r: r.right + scrollX, b: r.bottom + scrollY}; };
const gallery = document.querySelector('.e-content .gallery');
const column = document.querySelector('.e-content');
const inside = new Set(gallery.querySelectorAll('*'));
const others = [];
for (const e of document.body.querySelectorAll('*')) {
  if (inside.has(e) || e === gallery || e.contains(gallery)) continue;
  const r = e.getBoundingClientRect();
  if (r.width < 1 || r.height < 1 || getComputedStyle(e).visibility === 'hidden') continue;
  if (getComputedStyle(e).position === 'fixed') continue;
  others.push({what: e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : ''), ...rect(e)});
}
return JSON.stringify({
  images: [...gallery.querySelectorAll('img')].map(rect),
  figures: [...gallery.querySelectorAll('figure')].map(rect),
  gallery: rect(gallery), column: rect(column), others,
  scroll: document.documentElement.scrollWidth, width: innerWidth,
});
"""


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    # Touching edges (sub-pixel rounding) is not overlapping.
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > 0.5 and (
        min(a["b"], b["b"]) - max(a["t"], b["t"]) > 0.5
    )


def check_layout(driver: Any, where: str, count: int) -> None:
    box = json.loads(driver.execute_script(MEASURE))
    assert len(box["images"]) == count, where
    assert box["scroll"] <= box["width"], f"{where}: the page scrolls sideways"
    g, c = box["gallery"], box["column"]
    assert g["l"] >= c["l"] - 0.5 and g["r"] <= c["r"] + 0.5, f"{where}: {g} leaves {c}"
    for n, (img, fig) in enumerate(zip(box["images"], box["figures"], strict=True)):
        assert img["b"] - img["t"] > 20 and img["r"] - img["l"] > 20, (where, n, img)
        assert g["l"] - 0.5 <= img["l"] and img["r"] <= g["r"] + 0.5, (where, n, img)
        assert g["t"] - 0.5 <= img["t"] and img["b"] <= g["b"] + 0.5, (where, n, img)
        assert fig["b"] <= g["b"] + 0.5, (where, n, fig)
        hit = [o for o in box["others"] if overlaps(img, o)]
        assert not hit, f"{where}: photo {n + 1} overlaps {hit[:3]}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("count", COUNTS)
def test_a_gallery_holds_in_its_column(
    driver: Any, served: tuple[str, Path], count: int, width: int
) -> None:
    url, _ = served
    for scheme in ("light", "dark"):
        emulate(driver, width, scheme)
        driver.get(f"{url}/posts/2026/album-{count}/")
        check_layout(driver, f"album-{count} at {width}px, {scheme}", count)


@pytest.mark.parametrize("count", (3, 20))
def test_a_gallery_holds_in_print(
    driver: Any, served: tuple[str, Path], count: int
) -> None:
    url, _ = served
    emulate(driver, 768, media="print")
    try:
        driver.get(f"{url}/posts/2026/album-{count}/")
        check_layout(driver, f"album-{count} in print", count)
    finally:
        emulate(driver, 1280)


HOME = """
return JSON.stringify([...document.querySelectorAll('.feed article.h-entry')].map(e => {
  const r = e.getBoundingClientRect(); const img = e.querySelector('img.entry-cover');
  const i = img && img.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          title: e.querySelector('.entry-title').textContent.trim(),
          cover: i && {top: i.top, bottom: i.bottom, left: i.left, right: i.right},
          galleries: e.querySelectorAll('.gallery, figure').length};
}));
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_the_home_page_shows_covers_and_each_post_below_the_last(
    driver: Any, served: tuple[str, Path], width: int
) -> None:
    url, _ = served
    emulate(driver, width)
    driver.get(f"{url}/")
    entries = json.loads(driver.execute_script(HOME))
    albums = [e for e in entries if e["title"].startswith("Album")]
    assert len(albums) == len(COUNTS)
    for entry in albums:
        assert entry["galleries"] == 0, entry
        cover = entry["cover"]
        assert cover and cover["bottom"] - cover["top"] > 20, entry
        assert (
            entry["left"] - 0.5 <= cover["left"]
            and cover["right"] <= entry["right"] + 0.5
        )
        assert (
            entry["top"] - 0.5 <= cover["top"]
            and cover["bottom"] <= entry["bottom"] + 0.5
        )
    for before, after in itertools.pairwise(entries):
        assert after["top"] >= before["bottom"] - 0.5, (before["title"], after["title"])


@pytest.mark.parametrize(
    "path", ["posts/2026/album-1/", "posts/2026/album-7/", "posts/2026/documents/", ""]
)
def test_axe_finds_nothing(
    driver: Any, axe_source: str, served: tuple[str, Path], path: str
) -> None:
    url, _ = served
    for width, scheme in ((1440, "light"), (320, "dark")):
        emulate(driver, width, scheme)
        driver.get(f"{url}/{path}")
        violations = axe_violations(driver, axe_source)
        assert violations == [], f"/{path} at {width}px {scheme}: {violations}"


def test_the_viewer_works_with_the_keyboard_and_keeps_focus(
    driver: Any, axe_source: str, served: tuple[str, Path]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, _output = served
    emulate(driver, 1440)
    driver.get(f"{url}/posts/2026/album-7/")
    links = driver.find_elements(By.CSS_SELECTOR, ".gallery a.gallery-link")
    hrefs = [a.get_attribute("href") for a in links]
    # Without JavaScript the link is the large photo itself.
    with urllib.request.urlopen(hrefs[0], timeout=10) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"] == "image/jpeg"
    links[0].send_keys(Keys.ENTER)  # the keyboard opens it, as a click does
    state = """const d = document.querySelector('dialog.viewer');
      return JSON.stringify({open: d && d.open, src: d && d.querySelector('img').src,
        alt: d && d.querySelector('img').alt, count: d && d.querySelector('.viewer-count').textContent,
        focus: document.activeElement.className,
        inside: d && d.contains(document.activeElement)});"""
    shown = json.loads(driver.execute_script(state))
    assert shown["open"] and shown["src"] == hrefs[0] and shown["inside"]
    assert shown["alt"] == "Photo 1 de l’album album-7" and shown["count"] == "1 sur 7"
    assert driver.execute_script(
        "return document.querySelector('dialog.viewer img').complete"
    ) in (True, False)
    violations = axe_violations(driver, axe_source)
    assert violations == [], f"the open viewer: {violations}"
    active = driver.switch_to.active_element
    active.send_keys(Keys.ARROW_RIGHT)
    assert json.loads(driver.execute_script(state))["src"] == hrefs[1]
    active.send_keys(Keys.ARROW_LEFT)
    active.send_keys(Keys.ARROW_LEFT)  # from the first, round to the last
    shown = json.loads(driver.execute_script(state))
    assert shown["src"] == hrefs[-1] and shown["count"] == "7 sur 7"
    # Tab stays inside the dialog (the page behind is inert).
    for _ in range(4):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        assert json.loads(driver.execute_script(state))["inside"]
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    shown = json.loads(driver.execute_script(state))
    assert not shown["open"]
    assert driver.execute_script("return document.activeElement.href") == hrefs[0]
    # The buttons work with a click too.
    links[2].click()
    driver.find_element(By.CSS_SELECTOR, "dialog.viewer .viewer-next").click()
    assert json.loads(driver.execute_script(state))["src"] == hrefs[3]
    driver.find_element(By.CSS_SELECTOR, "dialog.viewer .viewer-close").click()
    assert driver.execute_script("return document.activeElement.href") == hrefs[2]
    # No CSP violation, no script error.
    errors = [
        e
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert not errors, errors


def test_vnu_finds_no_error_on_album_pages(served: tuple[str, Path]) -> None:
    java = shutil.which("java")
    require(java is not None, "java", INSTALL_JAVA)
    require(VNU_JAR.exists(), "vnu.jar", INSTALL_TOOLS)
    _, output = served
    files = [
        str(output / "index.html"),
        *sorted(str(p) for p in (output / "posts" / "2026").glob("*/index.html")),
    ]
    assert len(files) == len(COUNTS) + 2
    proc = subprocess.run(
        [str(java), "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    messages = json.loads(proc.stderr or proc.stdout or '{"messages": []}')["messages"]
    errors = [m for m in messages if m.get("type") in ("error", "non-document-error")]
    assert not errors, "\n".join(
        f"{m.get('url')}:{m.get('lastLine')}: {m.get('message')}" for m in errors
    )
    assert proc.returncode == 0
