"""An item of an old blog → a post file of this one (pure).

The post is written exactly like a hand-written one (Pelican metadata, then
Markdown), with one more key, ``Imported-From``, that ties it to the item it
came from: a second import finds it there and updates it instead of adding
a copy. The HTML is sanitized first (:func:`~causerie.webmentions.sanitize.
clean_article_html`), then made Markdown whose text is literal (markdownify
with the mail converter's rules: no raw HTML, no attribute lists, links
http(s) or mailto only).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag

from causerie.authoring.registry import slugify
from causerie.mailposts.markup import MailConverter, escape_literal
from causerie.webmentions.sanitize import clean_article_html, clean_text

from . import model

IMPORTED_FROM = "Imported-From"
#: Changes whenever the conversion does, so that a re-import redoes the posts
#: an older Causerie made (the digest of each post includes it).
CONVERTER = "1"
#: The words of an untitled post that become its title.
TITLE_WORDS = 8
#: WordPress's resized copies: photo-300x200.jpg is photo.jpg made smaller.
_RESIZED = re.compile(r"-\d+x\d+(?=\.\w+$)")


class Skip(Exception):
    """An item that is not imported; the message is the reason."""


@dataclass(frozen=True)
class Image:
    """An image a post shows: where it was, where its copy goes."""

    url: str  # as the old post gave it (absolute)
    path: str  # under content/: images/imported/<slug>/<name>


@dataclass
class Planned:
    """What one item becomes: a file's path (under content/) and text,
    the images it needs, and notes on what was fixed."""

    item: model.Item
    path: str
    slug: str
    title: str
    date: dt.datetime | None
    text: str = ""
    images: list[Image] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)


def origin_key(blog: model.Blog, key: str) -> str:
    """``Imported-From``: which export and which item, on one line."""
    return f"{blog.kind} {blog.url or blog.title or '-'} {key}".replace("\n", " ")


def split_origin(value: str) -> tuple[str, str]:
    """(origin, digest) of an ``Imported-From`` value ("… 123 #3f2a…")."""
    origin, sep, digest = value.strip().rpartition(" #")
    if sep and re.fullmatch(r"[0-9a-f]{16}", digest):
        return origin, digest
    return value.strip(), ""


def _one_line(value: str) -> str:
    return " ".join(value.split())


def text_of(html: str) -> str:
    return " ".join(BeautifulSoup(html or "", "html.parser").get_text(" ").split())


def fix_title(item: model.Item) -> tuple[str, str | None]:
    """The item's title, or one made from its first words (with why)."""
    title = _one_line(clean_text(item.title, 300))
    if title:
        return title, None
    words = text_of(item.html).split()
    if not words:
        raise Skip("no title and no text")
    made = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return made, f"no title: titled with its first words, {made!r}"


def base_slug(item: model.Item, title: str) -> str:
    """The item's own slug (WordPress stores accents percent-encoded), else
    one made from its title, else from its kind and id."""
    if item.slug:
        slug = slugify(unquote(item.slug))
        if slug:
            return slug
    return slugify(title) or f"{item.kind}-{slugify(item.key) or 'sans-titre'}"


def file_name(kind: str, date: dt.datetime | None, slug: str) -> str:
    if kind == "page" or date is None:
        return f"{slug}.md"
    return f"{date:%Y-%m-%d}-{slug}.md"


def _candidates(src: str) -> list[str]:
    """The names a local copy of ``src`` may have, most specific first."""
    path = unquote(urlsplit(src).path).strip("/")
    if not path:
        return []
    parts = path.split("/")
    found = []
    if "uploads" in parts:  # WordPress: wp-content/uploads/2012/03/x.jpg
        found.append("/".join(parts[parts.index("uploads") + 1 :]))
    found += ["/".join(parts[i:]) for i in range(len(parts))]
    resized = [_RESIZED.sub("", c) for c in found if _RESIZED.search(c)]
    return list(dict.fromkeys(found + resized))


def local_names(src: str) -> list[str]:
    """What :func:`_candidates` gives, for a folder's index (public for run)."""
    return _candidates(src)


def _image_name(src: str) -> str:
    name = unquote(urlsplit(src).path).rstrip("/").rpartition("/")[2] or "image"
    stem, dot, ext = name.rpartition(".")
    stem = slugify(_RESIZED.sub("", name).rpartition(".")[0] or stem) or "image"
    ext = slugify(ext)[:5] if dot else "jpg"
    return f"{stem}.{ext or 'jpg'}"


class _PostConverter(MailConverter):
    """The mail converter, keeping the images the importer placed."""

    def convert_img(self, el: Tag, text: str, parent_tags: Any) -> str:
        src = str(el.get("src") or "")
        if not src.startswith("{static}/"):
            return ""
        alt = escape_literal(" ".join(str(el.get("alt") or "").split()))
        return f"![{alt}]({src})"


def body_markdown(
    html: str,
    base_url: str,
    media_dir: str,
    slug: str,
    placed: Callable[[str, str], bool],
) -> tuple[str, list[Image], list[str]]:
    """(Markdown, images to copy, notes) for a post's ``html``.

    ``placed(url, path)`` says whether a local copy of the image at ``url``
    can be had at ``path`` (there already, a file in --media, or
    --fetch-images); an image without one becomes a link to where it was,
    so the page never loads a stranger's server.
    """
    clean = clean_article_html(html or "")
    # Blogger posts are lines with <br>, not paragraphs: markdownify keeps them.
    soup = BeautifulSoup(clean, "html.parser")
    images: list[Image] = []
    notes: list[str] = []
    taken: dict[str, str] = {}
    for img in soup.find_all("img"):
        src = str(img.get("src") or "").strip()
        absolute = src
        if "://" not in src and base_url and src:
            absolute = base_url.rstrip("/") + "/" + src.lstrip("/")
        if absolute.startswith("http"):
            name = _image_name(absolute)
            path = f"{media_dir.strip('/')}/{slug}/{name}"
            if taken.get(path, absolute) != absolute:
                stem, _, ext = name.rpartition(".")
                path = f"{media_dir.strip('/')}/{slug}/{stem}-{len(taken) + 1}.{ext}"
            if placed(absolute, path):
                taken[path] = absolute
                images.append(Image(absolute, path))
                img["src"] = "{static}/" + path
                continue
        alt = " ".join(str(img.get("alt") or "").split()) or "image"
        if not absolute.startswith("http"):
            img.decompose()
        elif img.find_parent("a") is not None:
            img.replace_with(alt)  # the link around it stays
            notes.append(
                f"image {absolute} not copied (not in --media, no --fetch-images): its link stays"
            )
        else:
            link = soup.new_tag("a", href=absolute)
            link.string = f"{alt} (image)"
            img.replace_with(link)
            notes.append(
                f"image {absolute} not copied (not in --media, no --fetch-images): linked instead"
            )
    text = _PostConverter().convert_soup(soup)
    # A <br> alone on its line (Blogger's <div><br></div>) is no text.
    text = re.sub(r"\n[ \t]+(?=\n)", "\n", str(text))
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text, list({i.path: i for i in images}.values()), notes


def render(meta: list[tuple[str, str | None]], body: str) -> str:
    lines = [f"{key}: {_one_line(value)}" for key, value in meta if value]
    return "\n".join(lines) + "\n\n" + body.strip() + "\n"


def post_text(
    planned: Planned,
    blog: model.Blog,
    author: str | None,
    lang: str | None,
    body: str,
    digest: str = "",
) -> str:
    """The file's text: metadata as a hand-written post has it, then ``body``."""
    item = planned.item
    category = item.categories[0] if item.categories else None
    tags = list(dict.fromkeys([*item.categories[1:], *item.tags]))
    summary = text_of(item.summary or "")
    return render(
        [
            ("Title", planned.title),
            ("Date", planned.date.strftime("%Y-%m-%d %H:%M") if planned.date else None),
            ("Author", author),
            ("Category", category),
            ("Tags", ", ".join(t.replace(",", " ") for t in tags) if tags else None),
            ("Lang", lang),
            ("Slug", planned.slug),
            ("Summary", escape_literal(summary) if summary else None),
            ("Status", "draft" if item.draft else None),
            (
                IMPORTED_FROM,
                origin_key(blog, item.key) + (f" #{digest}" if digest else ""),
            ),
        ],
        body,
    )


def old_paths(urls: tuple[str, ...], blog_url: str) -> list[str]:
    """The old addresses of an item, as paths (+ query) on the old host.

    Only addresses on the old blog's own host (or bare paths) are kept; a
    guid that names another site is not ours to redirect.
    """
    host = urlsplit(blog_url).hostname if blog_url else None
    paths = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme and parts.scheme not in ("http", "https"):
            continue
        if parts.hostname and host and parts.hostname != host:
            continue
        path = parts.path or "/"
        if not path.startswith("/"):
            continue
        paths.append(path + (f"?{parts.query}" if parts.query else ""))
    return list(dict.fromkeys(paths))
