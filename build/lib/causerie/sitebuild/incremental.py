"""Bring an output directory up to date with a fresh build, touching only
what changed.

An incremental build renders the site into a staging directory beside the
output (so the staging tree *is* a clean build, by construction), then
:func:`sync_tree` moves into the output only the files whose bytes differ
and removes those the build no longer produces. Unchanged files keep their
inode and mtime: a deploy that compares dates or checksums sees only the
real changes, and ``publish serve`` never serves a half-deleted site, as it
does while Pelican empties the output (DELETE_OUTPUT_DIRECTORY).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

#: Bytes compared at a time.
_CHUNK = 1 << 16


@dataclass
class SyncResult:
    """What :func:`sync_tree` did to the output."""

    unchanged: int = 0
    changed: int = 0
    removed: int = 0
    #: Every file the output now holds from the build (relative paths).
    produced: set[str] = field(default_factory=set)


def staging_dir(output: Path) -> Path:
    """Where the build renders: beside ``output``, on the same filesystem,
    so that a changed file is moved in with one atomic rename."""
    return output.parent / f".{output.name}.staging"


def same_bytes(a: Path, b: Path) -> bool:
    """True when two regular files have the same content."""
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with a.open("rb") as fa, b.open("rb") as fb:
            while True:
                chunk = fa.read(_CHUNK)
                if chunk != fb.read(_CHUNK):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


def _remove(path: Path) -> int:
    """Remove a file or a tree; the number of files it held."""
    if path.is_dir() and not path.is_symlink():
        count = sum(1 for p in path.rglob("*") if not p.is_dir() or p.is_symlink())
        shutil.rmtree(path)
        return count
    path.unlink()
    return 1


def sync_tree(
    staging: Path,
    output: Path,
    delete_stale: bool = True,
    retention: Collection[str] = (),
    kept: Collection[str] = (),
    known: set[str] | None = None,
) -> SyncResult:
    """Make ``output`` hold exactly the files of ``staging`` plus ``kept``;
    empty ``staging``.

    ``kept`` are paths (relative, with ``/``) of files the build did not
    render because the output already holds them as they would be
    (:class:`~.writer.PagePlan`). With ``delete_stale`` (Pelican's
    DELETE_OUTPUT_DIRECTORY) every other file is removed, except under the
    top-level names in ``retention`` (OUTPUT_RETENTION), as Pelican's own
    cleaning spares them. ``known`` (every file the previous sync produced,
    when nothing else writes to the output) spares the walk of the whole
    output: what is stale is what was produced then and is not now.
    """
    result = SyncResult()
    output.mkdir(parents=True, exist_ok=True)
    produced: set[str] = set(kept)
    for dirpath, _dirnames, filenames in os.walk(staging):
        rel = Path(dirpath).relative_to(staging)
        target_dir = output / rel
        if target_dir.is_symlink() or (target_dir.exists() and not target_dir.is_dir()):
            result.removed += _remove(target_dir)  # a file where a directory goes
        target_dir.mkdir(exist_ok=True)
        for name in filenames:
            source, target = Path(dirpath) / name, target_dir / name
            produced.add((rel / name).as_posix())
            if target.is_dir() and not target.is_symlink():
                result.removed += _remove(target)
            elif not target.is_symlink() and same_bytes(source, target):
                result.unchanged += 1
                continue
            os.replace(source, target)
            result.changed += 1
    if delete_stale and known is not None:
        for relpath in sorted(known - produced):
            path = output / relpath
            if path.is_file() or path.is_symlink():
                path.unlink()
                result.removed += 1
                _prune_empty(path.parent, output)
    elif delete_stale:
        result.removed += _remove_stale(output, produced, set(retention))
    shutil.rmtree(staging)
    result.produced = produced
    return result


def _prune_empty(directory: Path, output: Path) -> None:
    while directory != output and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _remove_stale(output: Path, produced: set[str], retention: set[str]) -> int:
    """Remove what the build did not produce, and directories left empty."""
    removed = 0
    for dirpath, dirnames, filenames in os.walk(output, topdown=False):
        rel = Path(dirpath).relative_to(output)
        top = rel.parts[0] if rel.parts else None
        if top in retention:
            continue
        for name in filenames + [
            d for d in dirnames if (Path(dirpath) / d).is_symlink()
        ]:
            relpath = (rel / name).as_posix()
            if rel == Path(".") and name in retention:
                continue
            if relpath not in produced:
                os.unlink(Path(dirpath) / name)
                removed += 1
        if rel != Path(".") and not os.listdir(dirpath):
            os.rmdir(dirpath)
    return removed
