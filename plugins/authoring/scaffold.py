"""``publish new``: a new post file with its metadata filled in (pure core + write)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from .registry import Author, AuthoringError, slugify


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
