"""The local target: releases in a directory of this machine, switched by
renaming a symlink over ``current``."""

from __future__ import annotations

import errno
import filecmp
import os
import shutil
import subprocess
from pathlib import Path

from .releases import PARTIAL, State, link_target, read_state
from .settings import DeployError


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def same_tree(a: Path, b: Path) -> bool:
    """True if both directories hold the same files with the same bytes."""
    files_a = _files(a)
    if files_a != _files(b):
        return False
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)


def _files(root: Path) -> set[str]:
    found: set[str] = set()
    for dirpath, _dirs, names in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        found.update(os.path.normpath(os.path.join(rel, n)) for n in names)
    return found


def copy_tree(source: Path, dest: Path, base: Path | None) -> tuple[int, int]:
    """Copy ``source`` into the new directory ``dest``; a file identical to
    the same path in ``base`` (the live release) is hard-linked instead, so
    an unchanged file costs no space and keeps its ETag. Nothing is ever
    written into ``base``: links share the bytes, they never change them.
    Returns (files copied, files linked)."""
    copied = linked = 0
    dest.mkdir(mode=0o755)
    for dirpath, dirs, names in os.walk(source):
        rel = Path(dirpath).relative_to(source)
        for name in dirs:
            (dest / rel / name).mkdir(mode=0o755)
        for name in names:
            src, dst = Path(dirpath) / name, dest / rel / name
            old = base / rel / name if base is not None else None
            if (
                old is not None
                and old.is_file()
                and not old.is_symlink()
                and filecmp.cmp(src, old, shallow=False)
            ):
                try:
                    os.link(old, dst)
                    linked += 1
                    continue
                except OSError as exc:
                    if exc.errno not in (errno.EMLINK, errno.EXDEV, errno.EPERM):
                        raise
            shutil.copy2(src, dst)
            copied += 1
    return copied, linked


class LocalTarget:
    """Releases under ``root`` on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases = root / "releases"
        self.current = root / "current"
        self.where = str(root)

    def state(self) -> State:
        if self.current.exists() and not self.current.is_symlink():
            raise DeployError(
                f"{self.current} is a directory, not a symlink: move it away "
                f"(mv {self.current} {self.current}.old) and deploy again"
            )
        link = os.readlink(self.current) if self.current.is_symlink() else None
        names = os.listdir(self.releases) if self.releases.is_dir() else []
        return read_state(names, link)

    def unchanged(self, output: Path, live: str) -> bool:
        return same_tree(output, self.releases / live)

    def upload(self, output: Path, release: str, base: str | None) -> str:
        partial = self.releases / (release + PARTIAL)
        try:
            self.releases.mkdir(parents=True, exist_ok=True)
            copied, linked = copy_tree(
                output, partial, self.releases / base if base else None
            )
            # The bytes must be on disk before `current` may point at them:
            # after a crash the live site must not be empty files.
            os.sync()
            os.rename(partial, self.releases / release)
            fsync_dir(self.releases)
        except OSError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise DeployError(
                f"cannot write the new release to {exc.filename or partial}: "
                f"{exc.strerror}{_hint(exc, self.root)}. The live site is "
                "unchanged; fix that and run `publish deploy` again"
            ) from exc
        return f"{copied} file(s) copied, {linked} unchanged (linked)"

    def activate(self, release: str) -> None:
        # rename() over `current` is atomic: a reader sees the old link or
        # the new one. `ln -sfn` unlinks first, leaving a moment with none.
        temporary = self.root / f".current.{os.getpid()}.tmp"
        try:
            temporary.unlink(missing_ok=True)
            os.symlink(link_target(release), temporary)
            os.rename(temporary, self.current)
            fsync_dir(self.root)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise DeployError(
                f"cannot switch {self.current} to {release}: {exc.strerror}"
                f"{_hint(exc, self.root)}. The live site is unchanged; run "
                "the command again"
            ) from exc

    def remove(self, names: list[str]) -> None:
        for name in names:
            shutil.rmtree(self.releases / name, ignore_errors=True)

    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120
        )


def _hint(exc: OSError, root: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f" (the disk is full: free space on the disk of {root})"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f" (check that this user may write to {root})"
    return ""
