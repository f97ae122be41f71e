"""Earlier versions of mail posts: kept before every edit, deletion and
restore, so that each can be undone (``publish mail restore``).

One version is a folder, outside content/ (never built)::

    var/mail/history/posts/2026-11-21-aube.md/<key>/
        version.json     its order, time, why it was kept, its media
        post.md          the post file as it was (absent: there was none)
        media/images/mail/2026/aube/1.jpg …   its photos and documents

A version is written to a temporary folder and renamed into place: a crash
leaves a whole version or none. Its key is the answer's digest for an
edit or a deletion, and a kept version is never overwritten: a retried
edit, whose first try had already replaced the post, must not take the new
text for the old.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from .errors import MailError
from .write import atomic_write, delete_post, fsync_dir, media_of, remove_media

_VERSION = "version.json"
_LEGACY = re.compile(r"^(?P<post>.+\.md)\.(?P<key>[0-9a-f]{16})$")


@dataclass(frozen=True)
class Version:
    """One kept version of the post ``path`` (relative to content/)."""

    path: str
    key: str
    folder: Path
    seq: int
    at: str  # ISO 8601
    why: str  # "edit", "delete", "restore"
    present: bool  # False: the post did not exist (a restore of a deletion)
    media: tuple[str, ...]  # relative to content/

    def text(self) -> bytes | None:
        if not self.present:
            return None
        post = self.folder / "post.md"
        return post.read_bytes() if post.is_file() else self.folder.read_bytes()

    def media_bytes(self, rel: str) -> bytes | None:
        kept = self.folder / "media" / rel
        return kept.read_bytes() if kept.is_file() else None


def root_of(var_dir: Path) -> Path:
    return var_dir / "mail" / "history"


def versions(var_dir: Path, path: str) -> list[Version]:
    """The kept versions of ``path``, oldest first."""
    root = root_of(var_dir)
    found: list[Version] = []
    base = root / path
    if base.is_dir():
        for meta in base.glob(f"*/{_VERSION}"):
            data = json.loads(meta.read_text(encoding="utf-8"))
            found.append(
                Version(
                    path,
                    meta.parent.name,
                    meta.parent,
                    int(data["seq"]),
                    str(data["at"]),
                    str(data["why"]),
                    bool(data["present"]),
                    tuple(data.get("media", ())),
                )
            )
    # Versions kept before media were (a file "<post>.md.<digest16>"): text only.
    for legacy in sorted(base.parent.glob(f"{base.name}.*"), key=os.path.getmtime):
        match = _LEGACY.match(legacy.name)
        if match and legacy.is_file():
            at = dt.datetime.fromtimestamp(legacy.stat().st_mtime, dt.UTC)
            found.append(
                Version(
                    path, match["key"], legacy, -1, at.isoformat(), "edit", True, ()
                )
            )
    return sorted(found, key=lambda v: (v.seq, v.at))


def keep(
    var_dir: Path,
    content_dir: Path,
    path: str,
    key: str,
    *,
    media_dir: str,
    at: dt.datetime,
    why: str,
) -> Version:
    """Keep the post ``path`` as it is now, with its media, as version
    ``key`` (or return the version kept under that key already)."""
    kept = versions(var_dir, path)
    for version in kept:
        if version.key == key:
            return version
    target = content_dir / path
    final = root_of(var_dir) / path / key
    temp = final.parent / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    text = target.read_bytes() if target.is_file() else None
    media = media_of(text.decode("utf-8", "replace"), media_dir) if text else []
    try:
        temp.mkdir(parents=True)
        if text is not None:
            atomic_write(temp / "post.md", text)
        present_media = []
        for rel in media:
            source = content_dir / rel
            if source.is_file():
                atomic_write(temp / "media" / rel, source.read_bytes())
                present_media.append(rel)
        meta = {
            "seq": max((v.seq for v in kept), default=0) + 1,
            "at": at.isoformat(),
            "why": why,
            "present": text is not None,
            "media": present_media,
        }
        atomic_write(temp / _VERSION, json.dumps(meta, indent=1).encode("utf-8"))
        os.rename(temp, final)  # the commit point: a whole version, or none
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    fsync_dir(final.parent)
    return next(v for v in versions(var_dir, path) if v.key == key)


def posts_with_history(var_dir: Path) -> list[str]:
    """Every post path (relative to content/) that has kept versions."""
    root = root_of(var_dir)
    if not root.is_dir():
        return []
    found = {m.parent.parent.relative_to(root).as_posix() for m in root.rglob(_VERSION)}
    for legacy in root.rglob("*.md.*"):
        match = _LEGACY.match(legacy.name)
        if match and legacy.is_file():
            found.add(
                legacy.parent.joinpath(match["post"]).relative_to(root).as_posix()
            )
    return sorted(found)


def find_post(var_dir: Path, content_dir: Path, query: str) -> str:
    """The post meant by ``query``: its path (content/posts/x.md or
    posts/x.md), its file name, or its slug. Raises MailError."""
    wanted = query.strip().removeprefix("./").removeprefix("content/")
    known = posts_with_history(var_dir)
    if not known:
        raise MailError(
            "no post has an earlier version yet: versions are kept when a post "
            "is edited or deleted by e-mail"
        )

    def names(path: str) -> set[str]:
        name = Path(path).name
        stem = name.removesuffix(".md")
        slug = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", stem)
        return {path, name, stem, slug}

    matches = [p for p in known if wanted in names(p)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise MailError(
            f"no post {query!r} has earlier versions; those that do: "
            + ", ".join(known)
        )
    raise MailError(
        f"{query!r} names several posts: {', '.join(matches)}; give the file path"
    )


def restore(
    var_dir: Path,
    content_dir: Path,
    path: str,
    *,
    media_dir: str,
    at: dt.datetime,
    key: str | None = None,
) -> tuple[Version, Version]:
    """Put back the newest kept version of ``path``, post and media; the
    state replaced is kept first (as version ``key``), so a second restore
    undoes the first. Returns (the version restored, the version kept).

    Done again with the same ``key`` (a RESTAURER answer retried after a
    crash), it puts back the same version as the first time, not the one
    the first time kept: a retry never undoes what it retries."""
    kept = versions(var_dir, path)
    if not kept:
        raise MailError(f"{path} has no earlier version")
    key = key or f"restore-{at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    done = [v for v in kept if v.key == key]
    if done:
        undo = done[0]
        earlier = [v for v in kept if v.seq < undo.seq]
        if not earlier:
            raise MailError(f"{path} has no earlier version")
        wanted = earlier[-1]
    else:
        wanted = kept[-1]
        undo = keep(
            var_dir, content_dir, path, key, media_dir=media_dir, at=at, why="restore"
        )
    for rel in wanted.media:  # media first: the post never points at a missing file
        data = wanted.media_bytes(rel)
        if data is not None:
            atomic_write(content_dir / rel, data)
    text = wanted.text()
    target = content_dir / path
    if text is None:
        delete_post(target)
    else:
        atomic_write(target, text)
    # What the restored text shows stays, even if this version did not keep
    # it (one kept before media were): only what no longer shows goes.
    shown = set(wanted.media)
    if text is not None:
        shown |= set(media_of(text.decode("utf-8", "replace"), media_dir))
    remove_media(list(undo.media), content_dir, media_dir, keep=shown)
    return wanted, undo
