"""``publish new``: a new post file with its metadata filled in (pure core + write)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from causerie.settings import read_section

from .registry import Author, AuthoringError, load_registry, slugify
from .settings import AuthoringSettings


@dataclass(frozen=True)
class NewPost:
    """What a new post starts with."""

    title: str
    author: Author
    lang: str
    date: dt.datetime
    category: str | None = None
    tags: tuple[str, ...] = ()
    draft: bool = True
    slug: str | None = None

    @property
    def final_slug(self) -> str:
        return self.slug or slugify(self.title)

    @property
    def filename(self) -> str:
        return f"{self.date:%Y-%m-%d}-{self.final_slug}.md"


PLACEHOLDER = {
    "fr": "Écrivez ici votre billet, en Markdown.",
    "en": "Write your post here, in Markdown.",
}


def render(post: NewPost) -> str:
    """The text of the new file: Pelican metadata, a blank line, a body."""
    if not post.title.strip() or "\n" in post.title:
        raise AuthoringError("the title must be one non-empty line")
    if not post.final_slug:
        raise AuthoringError(
            f"cannot make a slug from {post.title!r}; pass --slug some-words"
        )
    lines = [
        f"Title: {post.title.strip()}",
        f"Date: {post.date:%Y-%m-%d %H:%M}",
        f"Author: {post.author.name}",
    ]
    if post.category:
        lines.append(f"Category: {post.category}")
    if post.tags:
        lines.append(f"Tags: {', '.join(post.tags)}")
    lines += [f"Lang: {post.lang}", f"Slug: {post.final_slug}"]
    if post.draft:
        lines.append("Status: draft")
    body = PLACEHOLDER.get(post.lang, PLACEHOLDER["en"])
    return "\n".join(lines) + f"\n\n{body}\n"


def write_new_post(directory: Path, post: NewPost) -> Path:
    """Create ``directory/<date>-<slug>.md``; never overwrite an existing file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / post.filename
    text = render(post)
    try:
        # O_EXCL: two people scaffolding the same title at once cannot clobber
        # each other's draft.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise AuthoringError(
            f"{path} already exists; edit it, or choose another title or --slug"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        fp.write(text)
    return path


def new_post(
    settings: dict[str, Any],
    title: str,
    now: dt.datetime,
    author: str | None = None,
    lang: str | None = None,
    category: str | None = None,
    tags: tuple[str, ...] = (),
    slug: str | None = None,
    draft: bool = True,
) -> Path:
    """Scaffold a post for the site described by Pelican ``settings``.

    ``author`` is a slug, name or e-mail from the registry (default:
    ``AUTHORING['default_author']``); ``lang`` defaults to the author's.
    """
    config = read_section(settings, "AUTHORING", AuthoringSettings)
    root = Path(settings["PATH"])
    registry = load_registry(root / config.registry, config.languages)
    key = author or config.default_author
    if not key:
        raise AuthoringError(
            "no author given: pass --author, or set AUTHORING['default_author']"
        )
    who = registry.find(key)
    if who is None:
        raise AuthoringError(
            f"{key!r} is not in the authors registry; known: {', '.join(registry.names())}"
        )
    lang = lang or who.lang
    if lang not in config.languages:
        raise AuthoringError(
            f"language {lang!r}: use one of {', '.join(config.languages)}"
        )
    post = NewPost(
        title=title,
        author=who,
        lang=lang,
        date=now.astimezone(ZoneInfo(settings.get("TIMEZONE") or "UTC")),
        category=category,
        tags=tags,
        draft=draft,
        slug=slug,
    )
    return write_new_post(root / config.posts_dir, post)
