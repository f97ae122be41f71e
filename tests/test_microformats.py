"""Every page can be read by IndieWeb tools: mf2py finds h-entry, h-card, h-feed."""

from __future__ import annotations

from pathlib import Path

import mf2py
import pytest
from conftest import SITEURL
from conftest import post_pages as live_post_pages


def parse(site: Path, page: Path) -> dict:
    url = f"{SITEURL}/{page.parent.relative_to(site).as_posix()}/"
    return mf2py.parse(doc=page.read_text(encoding="utf-8"), url=url)


def post_pages(site: Path) -> list[Path]:
    pages = live_post_pages(site)
    assert len(pages) == 13
    return pages


def test_every_post_is_an_h_entry(demo_site: Path) -> None:
    for page in post_pages(demo_site):
        url = f"{SITEURL}/{page.parent.relative_to(demo_site).as_posix()}/"
        items = parse(demo_site, page)["items"]
        # The post itself is the first top-level item, with nothing nested
        # (related posts and the site header must not look like entries).
        assert items and items[0]["type"] == ["h-entry"], (
            f"{page}: no top-level h-entry first"
        )
        assert not items[0].get("children"), f"{page}: stray nested items"
        props = items[0]["properties"]
        for name in ("name", "published", "author", "content", "url"):
            assert props.get(name), f"{page}: h-entry has no {name}"
        assert url in props["url"], f"{page}: u-url is not the page's own URL"
        assert props["published"][0][:4] in ("2025", "2026")
        author = props["author"][0]
        assert "h-card" in author["type"], f"{page}: author is not an h-card"
        assert author["properties"]["name"][0].strip()
        assert author["properties"]["url"][0].startswith(f"{SITEURL}/authors/")
        assert props["content"][0]["value"].strip()
        assert props.get("category"), f"{page}: no p-category"


@pytest.mark.parametrize(
    "page",
    [
        "index.html",
        "categories/produits/index.html",
        "tags/webmention/index.html",
        "authors/karim-haddad/index.html",
        "archives/2025/index.html",  # a year (archives/ lists the years)
    ],
)
def test_list_pages_are_h_feeds(demo_site: Path, page: str) -> None:
    items = parse(demo_site, demo_site / page)["items"]
    feeds = [i for i in items if "h-feed" in i["type"]]
    assert feeds, f"{page}: no h-feed"
    children = feeds[0].get("children", [])
    assert children and all("h-entry" in c["type"] for c in children)
    for child in children:
        assert child["properties"].get("url") and child["properties"].get("name")


def test_author_page_has_the_registry_h_card(demo_site: Path) -> None:
    doc = parse(demo_site, demo_site / "authors/claire-dubois/index.html")
    types = [i["type"] for i in doc["items"]]
    assert types[:2] == [["h-card"], ["h-feed"]], "author page: h-card, then h-feed"
    props = doc["items"][0]["properties"]
    assert props["name"] == ["Claire Dubois"]
    assert props.get("job-title") == ["Directrice générale"]
    assert props.get("photo") and props.get("note")
    assert "https://claire-dubois.example" in doc["rels"].get("me", [])
