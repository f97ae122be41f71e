"""A Post → files in content/, atomically, exactly once.

Each file is written to a temporary name in its directory, flushed, fsynced,
renamed over its final name, and the directory fsynced: a crash leaves the
old file or the new one, never half of one. Media first, the post last, so a
post never points at an image not yet on disk. The post's file name comes
from its date and slug; the Message-ID in its metadata makes a second write
of the same message find the first and stop (no second post).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from pathlib import Path, PurePosixPath

from .markup import escape_literal
from .model import Post

#: The metadata key that ties a post to the message it came from.
MESSAGE_ID = "Message-Id"
_MAX_SUFFIX = 50


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` so that a crash leaves old or new, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX: the entry is data of
    the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _one_line(value: str) -> str:
    # A metadata value is one line: a newline in a subject must not become
    # a second key ("Status: published") in the file.
    return " ".join(value.split())


def render(post: Post) -> str:
    """The post as a Markdown file with Pelican metadata."""
    meta = [
        ("Title", post.title),
        ("Date", post.date.strftime("%Y-%m-%d %H:%M")),
        ("Author", post.author),
        ("Category", post.category),
        ("Tags", ", ".join(post.tags) if post.tags else None),
        ("Lang", post.lang),
        ("Slug", post.slug),
        # Pelican renders Summary as Markdown (FORMATTED_FIELDS) and shows it
        # in lists and feeds, outside the body's sanitizer: written as
        # literal text, a link, attribute list, image or tag in it is words.
        ("Summary", escape_literal(post.summary) if post.summary else None),
        ("Status", "draft" if post.status == "draft" else None),
        (MESSAGE_ID, post.message_id),
    ]
    lines = [f"{key}: {_one_line(value)}" for key, value in meta if value]
    return "\n".join(lines) + "\n\n" + post.body.strip() + "\n"


def message_id_of(path: Path) -> str | None:
    """The Message-Id metadata of a post file, or None."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    return None  # the end of the metadata
                key, _, value = line.partition(":")
                if key.strip().lower() == MESSAGE_ID.lower():
                    return value.strip()
    except OSError:
        return None
    return None


def candidates(post: Post, posts_dir: Path) -> list[Path]:
    """Where the post may be: its name, then its name with -2, -3…"""
    stem = f"{post.date:%Y-%m-%d}-{post.slug}"
    return [posts_dir / f"{stem}.md"] + [
        posts_dir / f"{stem}-{n}.md" for n in range(2, _MAX_SUFFIX)
    ]


def find(post: Post, posts_dir: Path) -> Path | None:
    """The file already written for this very message, if any."""
    for path in candidates(post, posts_dir):
        if not path.exists():
            return None
        if message_id_of(path) == post.message_id:
            return path
    return None


def with_media_folder(post: Post, folder: str) -> Post:
    """``post`` with its media in ``folder`` (relative to content/), and the
    body's ``{static}/`` references moved with them."""
    media, body = [], post.body
    for item in post.media:
        path = PurePosixPath(item.path)
        moved = PurePosixPath(folder) / path.name
        if moved != path:
            body = moved_reference(body, str(path), str(moved))
            item = dataclasses.replace(item, path=moved.as_posix())
        media.append(item)
    return dataclasses.replace(post, body=body, media=tuple(media))


def moved_reference(body: str, old: str, new: str) -> str:
    """``body`` with its references to the file ``old`` (under content/) made
    to ``new``: a Markdown link's "{static}/…/1.jpg)" or a gallery or
    downloads line's "{static}/…/1.jpg |" (docs/albums.md), never 1.jpg
    inside 11.jpg or 1-thumb.jpg."""
    reference = re.escape(f"{{static}}/{old}")
    return re.sub(
        reference + r"(?=\)|[ \t]*\||[ \t]*$)",
        lambda _m: f"{{static}}/{new}",
        body,
        flags=re.MULTILINE,
    )


def with_slug(post: Post, slug: str) -> Post:
    """``post`` under another slug: its media move to the folder named by
    the new slug (``{media_dir}/{yyyy}/{slug}/``)."""
    if slug == post.slug:
        return post
    post = dataclasses.replace(post, slug=slug)
    if not post.media:
        return post
    parent = PurePosixPath(post.media[0].path).parent
    return with_media_folder(post, (parent.parent / slug).as_posix())


def read_metadata(path: Path) -> dict[str, str]:
    """A post file's metadata (keys in lower case), up to its first blank
    line; {} if it cannot be read."""
    meta: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break
                match = re.match(r"^([A-Za-z][\w-]*):\s*(.*?)\s*$", line)
                if match:
                    meta.setdefault(match.group(1).lower(), match.group(2))
    except OSError:
        return {}
    return meta


def write_post(post: Post, content_dir: Path, posts_dir: str) -> tuple[Path, bool]:
    """Write the post and its media; (its path, False if it was there already)."""
    directory = content_dir / posts_dir
    existing = find(post, directory)
    if existing is not None:
        return existing, False
    write_media(post, content_dir)
    for path in candidates(post, directory):
        if not path.exists():
            atomic_write(path, render(post).encode("utf-8"))
            return path, True
    raise FileExistsError(
        f"{_MAX_SUFFIX} posts named {post.date:%Y-%m-%d}-{post.slug} already: "
        "give this one a slug: line"
    )


def write_media(post: Post, content_dir: Path) -> None:
    """A post's images and documents, each atomically, never outside content/
    (the paths are ours, but a second lock costs nothing)."""
    root = content_dir.resolve()
    targets = [(root / media.path).resolve() for media in post.media]
    for media, target in zip(post.media, targets, strict=True):
        if root not in target.parents:
            raise ValueError(f"media path {media.path!r} leaves content/")
    for media, target in zip(post.media, targets, strict=True):
        atomic_write(target, media.data)


def relocated(post: Post, version: str) -> Post:
    """An edit's media moved to a folder of its own (``…/aube/<version>/1.jpg``),
    the text's references with them. The edit then never writes over a file
    the current version shows: until the post's file is renamed, the post is
    wholly the old one, photos included; after, wholly the new (a kill -9
    in between leaves no old text with a new photo)."""
    moves: dict[str, str] = {}
    media = []
    for item in post.media:
        parent, _, name = item.path.rpartition("/")
        moves[item.path] = (
            f"{parent}/{version}/{name}" if parent else f"{version}/{name}"
        )
        media.append(dataclasses.replace(item, path=moves[item.path]))
    body = post.body
    for old, new in moves.items():
        body = moved_reference(body, old, new)
    return dataclasses.replace(post, body=body, media=tuple(media))


def replace_post(path: Path, new: Post, content_dir: Path) -> None:
    """An author's answer to a confirmation: the post's text (and title) are
    the new ones; its date, slug, language and Message-Id stay."""
    write_media(new, content_dir)
    keep = _metadata(path)
    text = render(new)
    kept_meta = {k.lower(): v for k, v in keep.items()}
    lines = []
    for line in text.split("\n\n", 1)[0].splitlines():
        key = line.split(":", 1)[0]
        if (
            key.lower() in ("date", "slug", "lang", MESSAGE_ID.lower())
            and key.lower() in kept_meta
        ):
            line = f"{key}: {kept_meta[key.lower()]}"
        lines.append(line)
    body = text.split("\n\n", 1)[1]
    atomic_write(path, ("\n".join(lines) + "\n\n" + body).encode("utf-8"))


def _metadata(path: Path) -> dict[str, str]:
    meta = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            break
        match = re.match(r"^([A-Za-z][\w-]*):\s*(.*)$", line)
        if match:
            meta[match.group(1)] = match.group(2)
    return meta


def delete_post(path: Path) -> None:
    """Remove a post's file (the next build serves its tombstone, and
    ``publish mentions send`` tells the pages it linked to)."""
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)


#: ``{static}/images/mail/2026/aube/1.jpg``: how a post points at its media.
_STATIC = re.compile(r"\{static\}/?([^\s()\"'<>\]]+)")


def media_of(text: str, media_dir: str) -> list[str]:
    """The media files (relative to content/) a post's text points at, under
    ``media_dir`` only: a hand-written post may also show a shared image
    (``{static}/images/logo.png``), which is never a post's own."""
    prefix = media_dir.strip("/") + "/"
    found = (m.group(1) for m in _STATIC.finditer(text))
    return list(dict.fromkeys(p for p in found if p.startswith(prefix)))


def remove_media(
    paths: list[str], content_dir: Path, media_dir: str, keep: set[str] | None = None
) -> list[str]:
    """Remove these media files (those not in ``keep``) and then their
    folders once empty, never ``media_dir`` itself nor a folder something
    else still uses; the paths removed."""
    root = content_dir.resolve()
    top = (root / media_dir.strip("/")).resolve()
    removed, folders = [], set()
    for rel in paths:
        if keep and rel in keep:
            continue
        target = (root / rel).resolve()
        if top not in target.parents:
            continue  # not a post's own media: never ours to remove
        if target.exists():
            target.unlink()
            removed.append(rel)
        folders.add(target.parent)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        while folder != top and top in folder.parents:
            try:
                folder.rmdir()  # only if empty: another post's files stay
            except OSError:
                break
            fsync_dir(folder.parent)
            folder = folder.parent
    for folder in folders:
        if folder.exists():
            fsync_dir(folder)
    return removed
