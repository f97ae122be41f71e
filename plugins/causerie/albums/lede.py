"""A post's lede and album facts, read from its HTML (pure).

Without a ``Summary:``, Pelican cuts the first 50 words of the body, photos,
galleries and download lists included: a post's lede and its
``og:description`` then ended with "fiche-aube.pdf". :func:`first_paragraph`
is the rule instead: the first paragraph with text of its own, outside any
gallery, figure or download list (a paragraph that is only an image, or
only links to files, is not one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag

#: Blocks whose paragraphs are never a lede.
_NOT_TEXT = ("figure", "blockquote", "table", "pre", "aside", "nav")
_NOT_TEXT_CLASSES = ("gallery", "downloads", "toc", "footnote")


def _inside_excluded(p: Tag) -> bool:
    for parent in p.parents:
        if not isinstance(parent, Tag):
            continue
        if parent.name in _NOT_TEXT:
            return True
        classes: list[str] = list(parent.get("class") or [])
        if any(c in _NOT_TEXT_CLASSES for c in classes):
            return True
    return False


def _own_text(p: Tag) -> str:
    """The paragraph's words that are not an image or a link to a file."""
    copy = BeautifulSoup(str(p), "html.parser")
    for tag in copy.find_all(["img", "picture", "svg"]):
        tag.decompose()
    for a in copy.find_all("a"):
        href = str(a.get("href") or "")
        if re.search(r"\.[A-Za-z0-9]{2,5}(?:[?#]|$)", href) and not href.endswith(
            (".html", ".htm", "/")
        ):
            a.decompose()  # a download or an image link
    return " ".join(copy.get_text(" ").split())


def first_paragraph(html: str) -> str | None:
    """The HTML of the first paragraph of text of ``html``, or None."""
    soup = BeautifulSoup(html, "html.parser")
    for p in soup.find_all("p"):
        if _inside_excluded(p):
            continue
        if len(_own_text(p)) >= 1 and re.search(r"\w", _own_text(p)):
            return str(p)
    return None


@dataclass(frozen=True)
class Album:
    """What a list shows of a post with photos instead of its gallery."""

    count: int
    cover_src: str
    cover_srcset: str
    cover_width: int
    cover_height: int
    cover_alt: str


def album_of(html: str) -> Album | None:
    """The photos of ``html``'s galleries: their count and the first one."""
    soup = BeautifulSoup(html, "html.parser")
    images = [
        img
        for gallery in soup.find_all("div", class_="gallery")
        for img in gallery.find_all("img")
    ]
    if not images:
        return None
    cover = images[0]
    return Album(
        count=len(images),
        cover_src=str(cover.get("src") or ""),
        cover_srcset=str(cover.get("srcset") or ""),
        cover_width=int(str(cover.get("width") or 0)),
        cover_height=int(str(cover.get("height") or 0)),
        cover_alt=str(cover.get("alt") or ""),
    )


#: The cache keys of the processed files a page links to.
KEY_IN_URL = re.compile(r"/(?P<key>[0-9a-f]{24})/(?:\d+\.(?:jpg|png|webp)|thumb\.png)")


def used_keys(html: str, output_dir: str) -> set[str]:
    pattern = re.compile(re.escape("/" + output_dir.strip("/")) + KEY_IN_URL.pattern)
    return {m.group("key") for m in pattern.finditer(html)}
