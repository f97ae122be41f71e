"""Stable pagination: a new post leaves older list pages as they were.

The cut itself is pure (table- and property-tested); the build tests make a
site of many short posts, build it, add one post, rebuild incrementally and
check which list pages changed: a clean build of the same content must give
the same bytes, and the numbered pages of full chunks keep their bytes and
their file (same inode, same mtime).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from receiver_kit import write_settings

from causerie.sitebuild.build import BuildReport, build_site, load_settings
from causerie.sitebuild.pagination import Slice, cut

PER_PAGE = 10


def oldest_first(count: int, per_page: int) -> dict[int, list[int]]:
    """Each page's posts, as positions counted from the *oldest* post."""
    return {
        s.number: [count - 1 - i for i in range(s.start, s.stop)]
        for s in cut(count, per_page)
    }


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, [Slice(1, 0, 0)]),
        (7, [Slice(1, 0, 7)]),
        (10, [Slice(1, 0, 10)]),
        # 11 posts: the newest chunk (1 post) is not full, so the front page
        # shows it with the chunk before: 11 posts, no other page yet.
        (11, [Slice(1, 0, 11)]),
        (20, [Slice(1, 0, 10), Slice(2, 10, 20)]),
        (21, [Slice(1, 0, 11), Slice(2, 11, 21)]),
        (35, [Slice(1, 0, 15), Slice(3, 15, 25), Slice(2, 25, 35)]),
    ],
)
def test_cut(count: int, expected: list[Slice]) -> None:
    assert cut(count, PER_PAGE) == expected


@pytest.mark.parametrize("per_page", [1, 3, 10])
def test_every_post_once_and_pages_full(per_page: int) -> None:
    for count in range(0, 80):
        slices = cut(count, per_page)
        shown = [i for s in slices for i in range(s.start, s.stop)]
        assert shown == list(range(count))  # newest first, each once
        front, *numbered = slices
        if count >= per_page:
            assert per_page <= front.stop - front.start <= 2 * per_page - 1
        assert all(s.stop - s.start == per_page for s in numbered)
        # Numbered from the oldest: /page/2/ holds the oldest posts.
        assert [s.number for s in numbered] == list(range(len(numbered) + 1, 1, -1))


@pytest.mark.parametrize("per_page", [1, 3, 10])
def test_a_new_post_changes_at_most_three_pages(per_page: int) -> None:
    for count in range(0, 80):
        before, after = oldest_first(count, per_page), oldest_first(count + 1, per_page)
        changed = {
            n for n in before.keys() | after.keys() if before.get(n) != after.get(n)
        }
        # The front page, and when a chunk fills up, its new page.
        assert changed <= {1, max(after)}, (count, changed)
        # (The third is the newest older page's "newer" link, checked in a
        # real build below: it is in the HTML, not in the cut.)


def make_posts(content: Path, count: int, start: int = 0) -> None:
    posts = content / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        (posts / f"post-{i:03d}.md").write_text(
            f"Title: Billet numéro {i}\n"
            f"Date: 2024-01-01 {i // 60:02d}:{i % 60:02d}\n"
            "Author: Claire Dubois\n"
            "Category: Atelier\n"
            f"Tags: serie-{i % 2}\n"
            "Lang: fr\n"
            f"Slug: billet-{i}\n\n"
            f"Le billet numéro {i}.\n",
            encoding="utf-8",
        )


def site(tmp_path: Path, count: int) -> Path:
    content = tmp_path / "content"
    content.mkdir(parents=True)
    shutil.copy(ROOT / "content" / "authors.toml", content / "authors.toml")
    make_posts(content, count)
    return write_settings(tmp_path / "site", content, {"notify": False})


def build(settings_file: Path, output: Path, incremental: bool) -> BuildReport:
    settings = load_settings(
        settings_file,
        {"OUTPUT_PATH": str(output), "SITEBUILD": {"incremental": incremental}},
    )
    report = build_site(settings)
    assert report.problems == [], report.problems
    return report


def titles(page: Path) -> list[int]:
    return [int(n) for n in re.findall(r"Billet numéro (\d+)</a>", page.read_text())]


def links(page: Path) -> dict[str, str]:
    html = page.read_text()
    return dict(re.findall(r'rel="(prev|next)" href="http://blog\.test/([^"]*)"', html))


def test_list_pages_in_a_build(tmp_path: Path) -> None:
    settings_file = site(tmp_path, 35)
    output = tmp_path / "output"
    build(settings_file, output, incremental=True)
    # 35 posts: front page 15 newest, /page/3/ posts 10–19, /page/2/ 0–9.
    assert titles(output / "index.html") == list(range(34, 19, -1))
    assert titles(output / "page" / "3" / "index.html") == list(range(19, 9, -1))
    assert titles(output / "page" / "2" / "index.html") == list(range(9, -1, -1))
    assert links(output / "index.html") == {"next": "page/3/"}
    assert links(output / "page" / "3" / "index.html") == {
        "prev": "",
        "next": "page/2/",
    }
    assert links(output / "page" / "2" / "index.html") == {"prev": "page/3/"}
    # A category's list pages follow the same rule, under its own URL.
    category = output / "categories" / "atelier"
    assert links(category / "page" / "3" / "index.html") == {
        "prev": "categories/atelier/",
        "next": "categories/atelier/page/2/",
    }

    def stamps() -> dict[str, tuple[int, int]]:
        return {
            p.relative_to(output).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in output.rglob("*.html")
            if "/page/" in p.as_posix()
        }

    old_pages = stamps()
    # Four more posts (39): chunk 4 is not full, nothing but the front moves.
    make_posts(tmp_path / "content", 4, start=35)
    report = build(settings_file, output, incremental=True)
    now = stamps()
    # (A tag with 18 posts now has 20: its first numbered page appears.)
    assert {name: now[name] for name in old_pages} == old_pages
    assert titles(output / "index.html") == list(range(38, 19, -1))
    assert report.rendered is not None and report.kept is not None
    assert report.rendered < report.kept  # four new posts of 39: not all
    # The 40th post fills chunk 4: /page/4/ appears, /page/3/ links to it,
    # /page/2/ stays untouched.
    make_posts(tmp_path / "content", 1, start=39)
    build(settings_file, output, incremental=True)
    now = stamps()
    assert now["page/2/index.html"] == old_pages["page/2/index.html"]
    assert titles(output / "page" / "4" / "index.html") == list(range(29, 19, -1))
    assert links(output / "page" / "3" / "index.html") == {
        "prev": "page/4/",
        "next": "page/2/",
    }
    assert titles(output / "index.html") == list(range(39, 29, -1))
    # And all of it is what a clean build of the same posts gives.
    build(settings_file, tmp_path / "clean", incremental=False)
    for page in output.rglob("*.html"):
        rel = page.relative_to(output)
        assert page.read_bytes() == (tmp_path / "clean" / rel).read_bytes(), rel
