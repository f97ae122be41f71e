"""The theme in a real browser: layout, accessibility (axe-core) and HTML validity (vnu).

The demo site is built with SITEURL set to a loopback address and served by a
real ``python -m http.server``, so every link, stylesheet and image the pages
load is the one a visitor gets. Headless Chromium is driven by Selenium with
Debian's chromium and chromedriver given explicitly, so Selenium Manager never
downloads anything.

A missing tool skips its test with the command that installs it; under CI
(``CI=true``) it fails instead, since CI installs the tools and a silent skip
there would hide a regression.

Screenshots are written to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_kit import (
    AXE_RUN,
    AXE_TAGS,
    INSTALL_JAVA,
    INSTALL_TOOLS,
    VNU_JAR,
    require,
)
from conftest import ROOT, build, post_pages, stop_process

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")


# --- the served demo site ------------------------------------------------------


@dataclass(frozen=True)
class Site:
    url: str
    root: Path

    def page(self, path: str) -> str:
        return f"{self.url}/{path}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(
    url: str, proc: subprocess.Popen[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"http.server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo site built for, and served on, a free loopback port."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    root = tmp_path_factory.mktemp("served-site")
    report = build(root, SITEURL=url)
    assert report.posts, f"the demo site has no post: {report}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            str(port),
            "-d",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_serving(f"{url}/", proc, timeout=15)
        yield Site(url, root)
    finally:
        stop_process(proc)


def _lang_of(html_file: Path) -> str | None:
    match = re.search(r'<html lang="([^"]+)"', html_file.read_text(encoding="utf-8"))
    return match.group(1) if match else None


def _post(root: Path, lang: str) -> str:
    """A post in ``lang``, preferring one that has a translation."""
    posts = post_pages(root)
    in_lang = [p for p in posts if _lang_of(p) == lang]
    assert in_lang, f"the demo site has no post in {lang!r}"
    translated = [p for p in in_lang if "hreflang=" in p.read_text(encoding="utf-8")]
    chosen = (translated or in_lang)[0]
    return chosen.parent.relative_to(root).as_posix() + "/"


def _about(root: Path) -> str:
    """The About page: a page written at {slug}/index.html in DEFAULT_LANG."""
    sections = {
        "posts",
        "authors",
        "categories",
        "tags",
        "archives",
        "theme",
        "images",
        "feeds",
        "drafts",
    }
    pages = sorted(
        p
        for p in root.glob("*/index.html")
        if p.parent.name not in sections and _lang_of(p) == "fr"
    )
    assert pages, "the demo site has no page (content/pages/a-propos.md)"
    return pages[0].parent.name + "/"


def _author(root: Path) -> str:
    authors = sorted((root / "authors").glob("*/index.html"))
    assert authors, "the demo site has no author page"
    return authors[0].parent.relative_to(root).as_posix() + "/"


@pytest.fixture(scope="module")
def pages(site: Site) -> dict[str, str]:
    """Paths of the pages checked below, found in the built demo site."""
    return {
        "index": "",
        "post-fr": _post(site.root, "fr"),
        "post-en": _post(site.root, "en"),
        "author": _author(site.root),
        "about": _about(site.root),
        # A deleted post's tombstone (content/posts/…-concours-photo-annule.md).
        "tombstone": "posts/2025/concours-photo/",
    }


# --- the browser ------------------------------------------------------------------


def _emulate(driver: Any, width: int, scheme: str) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def _open(driver: Any, url: str, scheme: str) -> None:
    driver.get(url)
    status = driver.execute_script("return document.readyState")
    assert status == "complete", f"{url} did not finish loading"
    assert "Error response" not in driver.title, f"{url}: {driver.title}"
    dark = driver.execute_script(
        "return matchMedia('(prefers-color-scheme: dark)').matches"
    )
    assert dark == (scheme == "dark"), f"the {scheme} colour scheme is not in effect"


def _screenshot(driver: Any, name: str) -> Path:
    """A full-page PNG of the current page."""
    width, height = driver.execute_script(
        "return [document.documentElement.clientWidth,"
        " document.documentElement.scrollHeight]"
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


# --- layout -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", ["index", "post-fr"])
def test_layout_fits_and_is_captured(
    driver: Any, site: Site, pages: dict[str, str], which: str, width: int, scheme: str
) -> None:
    _emulate(driver, width, scheme)
    _open(driver, site.page(pages[which]), scheme)
    path = _screenshot(driver, f"{which}-{width}-{scheme}")
    assert path.stat().st_size > 0
    scroll_width, inner_width = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if width <= 375:
        assert scroll_width <= inner_width, (
            f"{pages[which] or 'index'} scrolls sideways at {width} px: content is "
            f"{scroll_width} px wide (screenshot: {path})"
        )


def test_skip_link_is_the_first_focusable_element(
    driver: Any, site: Site, pages: dict[str, str]
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _emulate(driver, 1280, "light")
    _open(driver, site.page(pages["post-fr"]), "light")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    focused = driver.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    assert focused.get_attribute("href").endswith("#main")
    assert focused.is_displayed() and focused.rect["y"] >= 0
    outline = driver.execute_script(
        "return getComputedStyle(arguments[0]).outlineStyle", focused
    )
    assert outline != "none", "the focused skip link has no visible outline"


# --- accessibility: axe-core ---------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "which", ["index", "post-fr", "post-en", "author", "about", "tombstone"]
)
def test_axe_finds_no_violation(
    driver: Any,
    site: Site,
    pages: dict[str, str],
    axe_source: str,
    which: str,
    scheme: str,
) -> None:
    _emulate(driver, 1280, scheme)
    url = site.page(pages[which])
    _open(driver, url, scheme)
    driver.execute_script(axe_source)
    result = json.loads(driver.execute_async_script(AXE_RUN, AXE_TAGS))
    assert not isinstance(result, dict), f"axe failed on {url}: {result['error']}"
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} — {', '.join(v['targets'])}"
        for v in result
    )
    assert not result, f"axe: {len(result)} violation(s) on {url} ({scheme}):\n{report}"


# --- HTML validity: the Nu HTML Checker ------------------------------------------------


#: The one nonconforming markup written on purpose: W3C Webmention §3.1.5 asks
#: a deleted post's page for <meta http-equiv="Status" content="410 Gone">, a
#: value HTML's list for http-equiv does not have (the demo's deleted post).
ON_PURPOSE = {"Bad value “Status” for attribute “http-equiv” on element “meta”."}


def test_vnu_finds_no_error(demo_site: Path) -> None:
    java = shutil.which("java")
    require(java is not None, "java", INSTALL_JAVA)
    require(VNU_JAR.exists(), f"vnu.jar ({VNU_JAR.relative_to(ROOT)})", INSTALL_TOOLS)
    files = sorted(str(p) for p in demo_site.rglob("*.html"))
    assert files, f"no HTML file in {demo_site}"
    proc = subprocess.run(
        [str(java), "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        messages = json.loads(proc.stderr or proc.stdout or '{"messages": []}')[
            "messages"
        ]
    except (json.JSONDecodeError, KeyError):
        pytest.fail(
            f"vnu gave no JSON (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    errors = [
        m
        for m in messages
        if m.get("type") in ("error", "non-document-error")
        and m.get("message") not in ON_PURPOSE
    ]
    report = "\n".join(
        f"- {Path(m.get('url', '?').removeprefix('file:')).relative_to(demo_site)}"
        f":{m.get('lastLine', '?')}: {m.get('message')}"
        if m.get("url", "").startswith(f"file:{demo_site}")
        else f"- {m.get('url', '?')}:{m.get('lastLine', '?')}: {m.get('message')}"
        for m in errors
    )
    assert not errors, f"vnu: {len(errors)} error(s) in {len(files)} files:\n{report}"
    # vnu exits 1 on any error, even one we write on purpose.
    on_purpose = any(m.get("message") in ON_PURPOSE for m in messages)
    assert proc.returncode == 0 or (proc.returncode == 1 and on_purpose), (
        f"vnu exited with {proc.returncode}:\n{proc.stderr[-2000:]}"
    )


def test_pages_carry_a_strict_policy_and_break_none_of_it(
    driver: Any, site: Site, pages: dict[str, str]
) -> None:
    driver.get_log("browser")  # what earlier tests left
    for name, path in pages.items():
        driver.get(site.page(path))
        policy = driver.find_element(
            "css selector", 'meta[http-equiv="Content-Security-Policy"]'
        ).get_attribute("content")
        assert "default-src 'self'" in policy and "script-src 'self'" in policy, name
        assert "unsafe-inline" not in policy, name
        # The stylesheet applied (a refused one would leave browser defaults).
        font = driver.execute_script(
            "return getComputedStyle(document.body).fontFamily"
        )
        assert font and "Times" not in font, (name, font)
        refused = [
            entry["message"]
            for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"]
        ]
        assert refused == [], (name, refused)
