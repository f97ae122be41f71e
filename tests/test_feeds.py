"""Atom and RSS feeds: valid, complete, full content, absolute URLs."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from conftest import SITEURL

# Published originals per category (translations are listed under the
# original only); all.* feeds hold every language: 11 originals + 2 translations.
EXPECTED = {
    "all": 13,
    "categories/conversation": 5,
    "categories/coulisses": 2,
    "categories/produits": 2,
    "categories/engineering": 2,
    "authors/claire-dubois": 4,
    "authors/tom-whitfield": 2,
    "tags/webmention": None,  # at least one; exact count depends on tagging
}


def feed_files(site: Path) -> list[Path]:
    # The conversation feeds (comments*) are empty until readers answer:
    # tests/test_render.py checks them with mentions in the store.
    files = sorted(
        p
        for p in (site / "feeds").rglob("*.xml")
        if not p.relative_to(site / "feeds").as_posix().startswith("comments")
    )
    assert files
    return files


def test_every_feed_is_valid_with_absolute_urls(demo_site: Path) -> None:
    for path in feed_files(demo_site):
        feed = feedparser.parse(path.read_bytes())
        assert feed.bozo == 0, f"{path}: {feed.get('bozo_exception')}"
        assert feed.entries, f"{path}: empty feed"
        for entry in feed.entries:
            assert entry.link.startswith(SITEURL + "/"), f"{path}: {entry.link}"
            body = entry.content[0].value if "content" in entry else entry.description
            assert 'src="/' not in body and 'href="/' not in body, (
                f"{path}: relative URL in {entry.link}"
            )


@pytest.mark.parametrize("kind", ["atom", "rss"])
@pytest.mark.parametrize(("name", "count"), EXPECTED.items())
def test_feed_holds_the_expected_entries(
    demo_site: Path, kind: str, name: str, count: int | None
) -> None:
    feed = feedparser.parse((demo_site / "feeds" / f"{name}.{kind}.xml").read_bytes())
    assert feed.bozo == 0
    if count is None:
        assert feed.entries
    else:
        assert len(feed.entries) == count
    links = {e.link for e in feed.entries}
    assert len(links) == len(feed.entries)
    assert not any(
        "abat-jour-en-lin" in link or "portes-ouvertes" in link for link in links
    )


def test_feeds_carry_the_full_content(demo_site: Path) -> None:
    feed = feedparser.parse((demo_site / "feeds/all.atom.xml").read_bytes())
    entry = next(
        e for e in feed.entries if e.link.endswith("/posts/2025/pourquoi-un-blog/")
    )
    html = entry.content[0].value
    # The whole post, not a summary: its last sentence and its image are there.
    assert "c’est exactement à cela que sert ce blog" in html
    assert f'src="{SITEURL}/images/trois-flux-un-site.svg"' in html
