"""Markdown converted on every core, ahead of Pelican's reading.

Pelican reads its files one at a time in one process, and converting their
Markdown is the largest part of reading (docs/PERFORMANCE.md, "Building").
At the start of a build — the first ``readers_init``, before any file is
read, so that the forked workers carry none of a build's heavy state — this
module lists the Markdown files the article and page generators will read,
forks ``SITEBUILD["jobs"]`` worker processes that convert them with the
reader's own :class:`~.markdown_reader.Converter`, and streams each file's
:class:`~.content_cache.Entry` back through a pipe as soon as it is made.
The reader then takes a file's entry (:meth:`Prefetcher.take`) instead of
converting it, waiting for it if the workers have not got there yet.

Nothing here decides the output. An entry is used only if it was made from
the very text the reader has (same SHA-256); a file the listing missed, that
a worker could not convert, or whose text changed in between is converted by
the reader as it would be without workers (and its errors reported as
always). A worker that dies ends the pre-pass: logged once, the files not
yet received are read in the build's process.
"""

from __future__ import annotations

import fnmatch
import logging
import multiprocessing
import os
import time
from collections.abc import Collection, Iterable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from pelican.readers import MarkdownReader, pelican_open

from .content_cache import ContentCache, Entry, digest
from .markdown_reader import Converter
from .state import BUILD

log = logging.getLogger(__name__)

#: Fewer files to convert than this: no workers (forking and streaming back
#: cost more than they save on a small site).
MIN_FILES = 50
#: Give up on the workers if none has sent anything for this long (a worker
#: stuck in a deadlock must not hang the build; the reader then converts).
STALL_SECONDS = 120.0

_MARKDOWN_SUFFIXES = frozenset(MarkdownReader.file_extensions)


def _listed(
    root: str,
    paths: Iterable[str],
    excludes: Iterable[str],
    ignores: list[str],
    extensions: Collection[str],
) -> set[str]:
    """The files a Pelican generator's ``get_files`` finds, as a set built in
    the same order: the reader asks for files in that set's iteration order,
    and the workers convert in it, so that they stay ahead of the reader."""
    skipped_dirs: dict[str, set[str]] = {}
    for exclude in excludes:
        parent, name = os.path.split(os.path.join(root, exclude))
        skipped_dirs.setdefault(parent, set()).add(name)

    def wanted(name: str) -> bool:
        if any(fnmatch.fnmatch(name, pattern) for pattern in ignores):
            return False
        return os.path.splitext(name)[1][1:] in extensions

    found: set[str] = set()
    for path in paths:
        top = os.path.join(root, path) if path else root
        if not os.path.isdir(top):
            if os.path.exists(top) and wanted(os.path.basename(path)):
                found.add(path)
            continue
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
            skip = skipped_dirs.get(dirpath, set())
            dirnames[:] = [
                d
                for d in dirnames
                if d not in skip
                and not any(fnmatch.fnmatch(d, pattern) for pattern in ignores)
            ]
            rel = os.path.relpath(dirpath, root)
            found.update(os.path.join(rel, f) for f in filenames if wanted(f))
    return found


def markdown_sources(
    settings: dict[str, Any], extensions: Collection[str]
) -> list[str]:
    """Absolute paths of the Markdown files the article generator, then the
    page generator, will read (``*_PATHS`` under PATH, minus ``*_EXCLUDES``
    and IGNORE_FILES), in the order they will read them, as best known.

    ``extensions`` are those of every reader (the generators list files of
    all of them; only the Markdown ones are kept).
    """
    root = settings["PATH"]
    ignores = list(settings.get("IGNORE_FILES") or [])
    sources: list[str] = []
    seen: set[str] = set()
    for kind in ("ARTICLE", "PAGE"):
        listed = _listed(
            root,
            settings.get(f"{kind}_PATHS") or [],
            settings.get(f"{kind}_EXCLUDES") or [],
            ignores,
            extensions,
        )
        for rel in listed:
            path = os.path.abspath(os.path.join(root, rel))
            suffix = os.path.splitext(path)[1][1:]
            if suffix in _MARKDOWN_SUFFIXES and path not in seen:
                seen.add(path)
                sources.append(path)
    return sources


def _work(conn: Connection, paths: list[tuple[int, str]], converter: Converter) -> None:
    """A worker: convert each file and send ``(index, digest, entry)``, or
    ``(index, None, None)`` for a file it could not read or convert (the
    reader will, and will report why)."""
    for index, path in paths:
        try:
            with pelican_open(path) as text:
                message: tuple[int, str | None, Entry | None] = (
                    index,
                    digest(text),
                    converter.entry(text),
                )
        except Exception:
            message = (index, None, None)
        conn.send(message)
    conn.close()


class Prefetcher:
    """Worker processes converting a build's Markdown files ahead of the
    reader, and what they have sent so far."""

    def __init__(self, paths: list[str], jobs: int, converter: Converter) -> None:
        self._index = {path: i for i, path in enumerate(paths)}
        self._received: dict[int, tuple[str, Entry] | None] = {}
        self._workers: dict[Connection, BaseProcess] = {}
        self._failed = False
        ctx = multiprocessing.get_context("fork")
        numbered = list(enumerate(paths))
        for w in range(min(jobs, len(paths))):
            receiver, sender = ctx.Pipe(duplex=False)
            # Every jobs-th file: all workers move along the reader's order.
            share = numbered[w::jobs]
            process = ctx.Process(
                target=_work,
                args=(sender, share, converter),
                name=f"sitebuild-markdown-{w}",
                daemon=True,  # never outlives the build's process
            )
            process.start()
            # Closed here before the next fork, so that the worker holds the
            # only write end and its exit is seen as the end of the pipe.
            sender.close()
            self._workers[receiver] = process

    def take(self, path: str, key: str) -> Entry | None:
        """The entry made for ``path`` if it was made from the text whose
        digest is ``key``; None if the reader must convert the file."""
        index = self._index.pop(path, None)
        if index is None:
            return None
        while index not in self._received and self._workers:
            self._receive()
        got = self._received.pop(index, None)
        if got is None or got[0] != key:
            return None
        return got[1]

    def _receive(self) -> None:
        ready = wait(list(self._workers), timeout=STALL_SECONDS)
        if not ready:
            self._fail(f"no file converted in {STALL_SECONDS:.0f} s")
            return
        for conn in ready:
            assert isinstance(conn, Connection)
            try:
                index, key, entry = conn.recv()
            except (EOFError, OSError):
                process = self._workers.pop(conn)
                conn.close()
                process.join()
                if process.exitcode != 0:
                    self._fail(f"exit code {process.exitcode}")
                    return
                continue
            self._received[index] = (key, entry) if entry is not None else None

    def _fail(self, why: str) -> None:
        if not self._failed:
            self._failed = True
            log.warning(
                "sitebuild: a Markdown worker process stopped (%s); the "
                "remaining files are converted in the build's process",
                why,
            )
        self.close()

    def close(self) -> None:
        """Stop the workers still running; what was received is kept."""
        for conn, process in self._workers.items():
            if process.is_alive():
                process.terminate()
            process.join()
            conn.close()
        self._workers.clear()


class BuildReading:
    """What the Markdown readers of one build share: the prefetcher, and
    each file's word count for the reading time."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.prefetcher: Prefetcher | None = None
        self._started = False
        #: source path → (the body's HTML, its word count)
        self.words: dict[str, tuple[str, int]] = {}

    def start(self, readers: Any, jobs: int, cache: ContentCache | None) -> None:
        """At the build's first ``readers_init``: fork the workers if there
        is enough to convert and our reader is the one that will read it."""
        if self._started:
            return
        self._started = True
        classes = readers.reader_classes
        if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return
        if not any(classes.get(ext) is MarkdownReader for ext in _MARKDOWN_SUFFIXES):
            return  # READERS gave Markdown to another reader
        paths = markdown_sources(
            self.settings, [ext for ext, cls in classes.items() if cls]
        )
        if cache is not None and len(paths) >= MIN_FILES:
            paths = [p for p in paths if not _cached(p, cache)]
        if len(paths) < MIN_FILES:
            return
        # Made here, before forking: the extensions are imported once and
        # the workers share this process's copy of them.
        converter = Converter(self.settings)
        converter.entry("")
        converter.fields_md()
        started = time.perf_counter()
        self.prefetcher = Prefetcher(paths, jobs, converter)
        log.debug(
            "sitebuild: %d Markdown files to %d workers in %.3f s",
            len(paths),
            min(jobs, len(paths)),
            time.perf_counter() - started,
        )

    def close(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.close()
            self.prefetcher = None
        self.words = {}


def _cached(path: str, cache: ContentCache) -> bool:
    try:
        with pelican_open(path) as text:
            return digest(text) in cache.entries
    except (OSError, UnicodeError):
        return True  # the reader will say what is wrong with it


def begin(settings: dict[str, Any]) -> BuildReading:
    """A new build: stop what a previous one left (one that failed before
    ``finalized`` may have left workers)."""
    if BUILD.reading is not None:
        BUILD.reading.close()
    BUILD.reading = BuildReading(settings)
    return BUILD.reading


def current(settings: dict[str, Any]) -> BuildReading | None:
    """The build these settings belong to; None for readers made outside a
    build that announced itself (``initialized``)."""
    reading = BUILD.reading
    if reading is not None and reading.settings is settings:
        return reading
    return None


def end() -> None:
    if BUILD.reading is not None:
        BUILD.reading.close()
        BUILD.reading = None
