"""Search in a real browser: the demo site built with its Pagefind index,
served over HTTP on loopback, searched in headless Chromium through the
theme's own search page (theme/templates/search.html, theme/static/js/search.js).

The site is a copy of the demo content with one approved reader's comment in
a real mention store, so that a word only that comment holds can be
searched; a post is then deleted and `publish watch`'s builder (the
Watcher) updates the site, and the post must leave the index.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_kit import axe_violations
from conftest import AS_OF, ROOT, stop_process
from test_browser import _free_port, _wait_until_serving

from causerie import search
from causerie.search import indexer
from causerie.sitebuild import build as sitebuild
from causerie.sitebuild import watch as sitebuild_watch
from causerie.webmentions import model
from causerie.webmentions.store import Store

pytestmark = pytest.mark.browser

#: Only this comment says it: a query for it can find the post through it.
COMMENT = (
    "Existe-t-il une version avec un culot à baïonnette B22, pour nos clients "
    "du Royaume-Uni ?"
)
AUBE = "Aube, une lampe pensée pour être réparée"
#: A draft: never published, so never found.
DRAFT = "Des abat-jour en lin : nos essais en cours"
#: The post the last test deletes.
VAISE = "Une journée à l’atelier de Vaise"
VAISE_FILE = "2025-09-16-une-journee-a-l-atelier.md"


@dataclass
class Site:
    url: str
    output: Path
    content: Path
    settings: dict[str, Any]
    #: The server's request log (http.server writes one line per request).
    log: Path

    def requested(self, part: str) -> int:
        return sum(part in line for line in self.log.read_text().splitlines())


def _settings(url: str, content: Path, output: Path, site_dir: Path) -> dict[str, Any]:
    return sitebuild.load_settings(
        ROOT / "pelicanconf.py",
        {
            "PATH": str(content),
            "OUTPUT_PATH": str(output),
            "CAUSERIE_SITE_DIR": str(site_dir),
            "SITEURL": url,
            "SITEBUILD": {"now": AS_OF},
        },
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("search-site")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    site_dir = base / "site"
    (site_dir / "var").mkdir(parents=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CAUSERIE_DATABASE_URL", raising=False)
        store = Store.open(f"sqlite:///{site_dir / 'var' / 'mentions.sqlite3'}")
        store.add_verified(
            "urn:uuid:5e1a0c3e-0000-4000-8000-000000000017",
            f"{url}/posts/2026/aube-une-lampe-qui-se-repare/",
            model.FORM,
            {
                "kind": "reply",
                "author_name": "Fiona Black",
                "content_html": f"<p>{COMMENT}</p>",
                "content_text": COMMENT,
                "published": dt.datetime(2026, 3, 12, 8, 0, tzinfo=dt.UTC),
                "moderation": model.APPROVED,
            },
        )
        store.engine.dispose()
        output = base / "output"
        settings = _settings(url, content, output, site_dir)
        report = sitebuild.build_site(settings)
    assert report.problems == [], report.problems
    log = base / "requests.log"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=output,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        _wait_until_serving(f"{url}/", proc, timeout=15)
        yield Site(url, output, content, settings, log)
    finally:
        stop_process(proc)


def _wait(driver: Any, script: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    logs = driver.get_log("browser")
    raise AssertionError(f"timed out waiting for {script!r}; console: {logs}")


@dataclass
class Results:
    status: str
    titles: list[str]
    urls: list[str]
    excerpts: list[str]
    metas: list[str]


def _results(driver: Any) -> Results:
    _wait(driver, "return document.getElementById('search').dataset.state === 'done'")
    data = driver.execute_script(
        "const q = (s) => [...document.querySelectorAll(s)];"
        "return {status: document.getElementById('search-status').textContent,"
        " titles: q('.search-result-title a').map(a => a.textContent),"
        " urls: q('.search-result-title a').map(a => a.href),"
        " excerpts: q('.search-result-excerpt').map(p => p.innerHTML),"
        " metas: q('.search-result-meta').map(p => p.textContent)};"
    )
    return Results(**data)


def _search(driver: Any, site: Site, page: str, query: str, **filters: str) -> Results:
    params = urllib.parse.urlencode({"q": query, **filters})
    driver.get(f"{site.url}/{page}?{params}")
    return _results(driver)


def test_french_query_is_accent_and_ending_insensitive(driver: Any, site: Site) -> None:
    found = _search(driver, site, "search/", "reparer")
    assert AUBE in found.titles, found
    # The words found are highlighted in the excerpt.
    assert any("<mark>" in e for e in found.excerpts), found.excerpts
    # Each result says when and by whom.
    aube = found.titles.index(AUBE)
    assert "Karim Haddad" in found.metas[aube]
    assert "2026" in found.metas[aube]
    assert found.status.startswith(f"{len(found.titles)} résultat"), found.status


def test_english_query_on_the_english_page(driver: Any, site: Site) -> None:
    found = _search(driver, site, "search/en/", "fixing screen readers")
    assert found.titles[0].startswith("Accessibility: what we fixed"), found
    assert "result" in found.status
    # The French page searches the French index: no English post there.
    french = _search(driver, site, "search/", "accessibility screen reader")
    assert not any(t.startswith("Accessibility") for t in french.titles), french


def test_a_word_only_a_comment_holds_finds_its_post(driver: Any, site: Site) -> None:
    found = _search(driver, site, "search/", "baionnette")
    assert found.titles == [AUBE], found
    assert "baïonnette" in found.excerpts[0].lower()


def test_category_filter(driver: Any, site: Site) -> None:
    everything = _search(driver, site, "search/", "lampe")
    produits = _search(driver, site, "search/", "lampe", category="Produits")
    assert produits.titles and set(produits.titles) < set(everything.titles)
    for url in produits.urls:
        path = url.removeprefix(site.url + "/")
        html = (site.output / path / "index.html").read_text(encoding="utf-8")
        assert 'data-pagefind-filter="category">Produits<' in html, url
    # From the keyboard: open "Narrow down" (its data is fetched only then),
    # choose the category, and the results follow.
    from selenium.webdriver.common.keys import Keys

    _search(driver, site, "search/", "lampe")
    # (Pagefind fetches from a worker: the server's log sees it all.)
    filters_before = site.requested("/pagefind/filter/")
    fragments = site.requested("/pagefind/fragment/")
    _search(driver, site, "search/", "lumière")
    assert site.requested("/pagefind/fragment/") > fragments
    assert site.requested("/pagefind/filter/") == filters_before, (
        "a plain query fetched the filters' data"
    )
    summary = driver.find_element("css selector", ".search-filters summary")
    driver.execute_script("arguments[0].focus()", summary)
    summary.send_keys(Keys.ENTER)
    select = driver.find_element("id", "search-filter-category")
    _wait(
        driver,
        "return document.querySelectorAll('#search-filter-category option').length > 1",
    )
    driver.execute_script("document.getElementById('search').dataset.state = ''")
    select.send_keys("Produits")  # typing a value's first letters selects it
    select.send_keys(Keys.TAB)
    keyboard = _results(driver)
    assert driver.current_url.endswith("?q=lumi%C3%A8re&category=Produits")
    expected = _search(driver, site, "search/", "lumière", category="Produits")
    assert keyboard.titles and sorted(keyboard.titles) == sorted(expected.titles)


def test_a_draft_is_never_found(driver: Any, site: Site) -> None:
    found = _search(driver, site, "search/", "abat-jour lin")
    assert found.titles and DRAFT not in found.titles, found


def test_no_result_says_so_and_offers_the_archives(driver: Any, site: Site) -> None:
    found = _search(driver, site, "search/", "zxqvbnkj")
    assert found.titles == []
    assert "zxqvbnkj" in found.status and "Aucun" in found.status, found.status
    empty = driver.find_element("id", "search-empty")
    assert empty.is_displayed()
    links = [a.get_attribute("href") for a in empty.find_elements("css selector", "a")]
    assert f"{site.url}/archives/" in links and f"{site.url}/tags/" in links


def test_header_field_from_the_keyboard(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{site.url}/posts/2026/accessibility-what-we-fixed/en/")
    field = driver.find_element("id", "site-search-q")
    # The English post's field leads to the English search page.
    form = field.find_element("xpath", "./ancestor::form")
    assert form.get_attribute("action") == f"{site.url}/search/en/"
    field.send_keys("audit", Keys.ENTER)
    found = _results(driver)
    assert driver.current_url.startswith(f"{site.url}/search/en/?q=audit")
    assert found.titles and found.titles[0].startswith("Accessibility")
    # Focus stays usable: the page's own field holds the query.
    assert driver.find_element("id", "search-q").get_attribute("value") == "audit"


def test_search_page_has_no_axe_violation(
    driver: Any, axe_source: str, site: Site
) -> None:
    for page, query in (
        ("search/", "lampe"),
        ("search/en/", "zxqvbnkj"),
        ("search/", ""),
    ):
        driver.get(f"{site.url}/{page}?q={query}")
        _wait(driver, "return document.getElementById('search').dataset.ready")
        if query:
            _results(driver)
        violations = axe_violations(driver, axe_source)
        assert violations == [], f"{page}?q={query}: {violations}"
        # No Content-Security-Policy violation (the page allows WebAssembly).
        errors = [
            e
            for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
        ]
        assert errors == [], errors


def test_a_deleted_post_leaves_the_index(driver: Any, site: Site) -> None:
    before = _search(driver, site, "search/", "tole atelier")
    assert VAISE in before.titles, before
    (site.content / "posts" / VAISE_FILE).unlink()

    def settings() -> dict[str, Any]:
        return {**site.settings, "SITEBUILD": {"now": AS_OF, "incremental": True}}

    built: list[Any] = []
    watcher = sitebuild_watch.Watcher(
        settings, ROOT / "pelicanconf.py", lambda _c, r, e: built.append((r, e))
    )
    watcher.build(sitebuild_watch.Change({str(site.content / "posts" / VAISE_FILE)}))
    assert built and built[-1][1] is None, built
    # The page is gone at once; the index follows in the background.
    indexing = indexer.background(site.output, search.config(watcher.settings))
    assert indexing.wait(timeout=120), "the background indexing did not finish"
    assert indexing.last_error is None, indexing.last_error
    after = _search(driver, site, "search/", "tole atelier")
    assert VAISE not in after.titles, after
    # … and the rest of the index is still there.
    assert AUBE in _search(driver, site, "search/", "reparer").titles
    # Its address now holds a tombstone (410), which is not indexed.
    gone = site.output / "posts/2025/une-journee-a-l-atelier/index.html"
    assert not gone.exists() or "data-pagefind-body" not in gone.read_text("utf-8")
