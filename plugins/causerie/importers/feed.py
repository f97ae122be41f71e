"""Any Atom (RFC 4287) or RSS 2.0 feed, as a stream of posts (pure).

For a blog neither Blogger nor WordPress: its full-content feed gives the
posts, their dates, authors, categories and permalinks; feeds carry no
comments. RSS's ``content:encoded`` is preferred to ``description``, Atom's
``content`` to ``summary``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from . import model
from .blogger import _content, _link
from .errors import ExportError
from .xmlsafe import Stream, children, local, ns, parse_date, syntax_problem, text


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _atom_entry(el: Any) -> list[model.Event]:
    link = _link(el, "alternate") or next(
        (
            str(c.get("href"))
            for c in children(el, "link")
            if not c.get("rel") and c.get("href")
        ),
        "",
    )
    author = children(el, "author")
    name = text(author[0], "name") if author else ""
    found: list[model.Event] = []
    if name:
        found.append(
            model.Author(
                name,
                name,
                text(author[0], "email") or None,
                text(author[0], "uri") or None,
            )
        )
    found.append(
        model.Item(
            key=text(el, "id") or link or _key(text(el, "title")),
            kind="post",
            title=text(el, "title"),
            html=_content(el),
            date=parse_date(text(el, "published")) or parse_date(text(el, "updated")),
            author_key=name or None,
            tags=tuple(
                dict.fromkeys(
                    t
                    for c in children(el, "category")
                    if (t := (c.get("term") or "").strip())
                )
            ),
            old_urls=(link,) if link else (),
        )
    )
    return found


def _rss_item(el: Any) -> list[model.Event]:
    link = text(el, "link")
    html = ""
    for child in el:
        if local(child.tag) == "encoded" and "purl.org/rss/1.0/modules/content" in ns(
            child.tag
        ):
            html = child.text or ""
    html = html or text(el, "description")
    name = ""
    for child in el:
        if local(child.tag) == "creator" or (
            local(child.tag) == "author" and not ns(child.tag)
        ):
            name = (child.text or "").strip()
            break
    email = None
    # RSS 2.0's <author> is "address (Name)"; Dublin Core's creator a name.
    match = re.fullmatch(r"\s*(\S+@\S+)\s*\((.+)\)\s*", name)
    if match:
        email, name = match.group(1), match.group(2).strip()
    elif "@" in name and " " not in name:
        email, name = name, name.partition("@")[0]
    found: list[model.Event] = []
    if name:
        found.append(model.Author(name, name, email))
    guid = text(el, "guid")
    found.append(
        model.Item(
            key=guid or link or _key(text(el, "title")),
            kind="post",
            title=text(el, "title"),
            html=html,
            date=parse_date(text(el, "pubDate")) or parse_date(text(el, "date")),
            author_key=name or None,
            tags=tuple(
                dict.fromkeys(
                    t for c in children(el, "category") if (t := (c.text or "").strip())
                )
            ),
            old_urls=tuple(
                dict.fromkeys(u for u in (link, guid) if u.startswith("http"))
            ),
        )
    )
    return found


def events(path: Path) -> Iterator[model.Event]:
    """The posts of the Atom or RSS feed at ``path``."""
    stream = Stream(path)
    sent, index, title, base = False, 0, "", ""
    try:
        for el in stream:
            if stream.root not in ("rss", "feed"):
                raise ExportError(
                    f"{path}: neither an Atom <feed> nor an RSS <rss> document (its "
                    f"root is <{stream.root}>): give the blog's full-content feed"
                )
            name = local(el.tag)
            if name in ("entry", "item"):
                if not sent:
                    sent = True
                    yield model.Blog("feed", title, base)
                index += 1
                try:
                    yield from (_atom_entry(el) if name == "entry" else _rss_item(el))
                except Exception as exc:
                    yield model.Problem(
                        f"entry {index} (line {el.sourceline})",
                        f"cannot be read ({type(exc).__name__}): skipped",
                    )
            elif name == "title" and not title:
                title = (el.text or "").strip()
            elif name == "link" and not base:
                href = el.get("href") if el.get("rel") in (None, "alternate") else None
                base = (href or el.text or "").strip().rstrip("/")
        if not sent:
            yield model.Blog("feed", title, base)
    except etree.XMLSyntaxError as exc:
        yield model.Problem(
            path.name, syntax_problem(path, exc, stream.line), fatal=True
        )
