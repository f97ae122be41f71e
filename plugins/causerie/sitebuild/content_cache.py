"""Markdown already converted, kept between builds by content hash.

Converting Markdown is most of the reading stage (docs/PERFORMANCE.md,
"Building"): an incremental build converts only the files whose text
changed. What is kept is what Python-Markdown returns for a file's text: the
body's HTML, the raw ``Meta`` lines, and the HTML of its formatted fields
(``Summary:``); and the body's word count, for the reading time. Pelican's metadata processing (dates, authors, categories,
slugs) is *not* cached: it runs again on every build with the build's
settings, so every plugin sees new objects exactly as in a clean build.

Why not Pelican's own reader cache (``CACHE_CONTENT``): it keys entries by
path (by mtime unless told otherwise), and it pickles the processed metadata,
whose Author and Category objects each carry the whole settings dict — the
authors registry included — and outlive a change of those settings.

The key is the SHA-256 of the file's text; the whole cache is dropped when
the Markdown configuration or version changes (its ``fingerprint``). The
file is a pickle under the site's ``var/`` that only this module writes,
the same trust as the site's own pelicanconf.py, which is Python code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown

from causerie import settings as causerie_settings

from .settings import config
from .state import PROCESS

log = logging.getLogger(__name__)

#: Bump when the shape of an entry changes (2: ``words``).
FORMAT = 2
#: Where the cache lives, under the site's directory.
CACHE_FILE = Path("var") / "build-cache" / "markdown.pickle"


@dataclass
class Entry:
    """Python-Markdown's output for one file's text."""

    content: str
    meta: dict[str, list[str]]
    #: formatted field text → its HTML (Pelican converts ``Summary:`` etc.)
    fields: dict[str, str] = field(default_factory=dict)
    #: ``reading.word_count(content)``; None if not counted
    words: int | None = None


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(settings: dict[str, Any]) -> str:
    """What the HTML depends on besides the text: Markdown's version and
    configuration, and which fields Pelican formats."""
    config = dict(settings.get("MARKDOWN") or {})
    # Pelican's MarkdownReader.__init__ adds the configured extensions and
    # "meta" to MARKDOWN["extensions"] in place, the first time a reader is
    # made: normalize as it does, or the same build gets two fingerprints.
    configs = config.pop("extension_configs", {}) or {}
    extensions = {str(e) for e in config.pop("extensions", []) or []}
    extensions |= set(configs) | {"markdown.extensions.meta"}
    parts = (
        FORMAT,
        markdown.__version__,
        sorted(extensions),
        repr(sorted(configs.items(), key=lambda kv: str(kv[0]))),
        repr(sorted(config.items())),
        repr(sorted(settings.get("FORMATTED_FIELDS", []))),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class ContentCache:
    """Entries by content digest, loaded once and saved after a build.

    Only the entries a build used are saved, so files removed or edited
    leave no dead entries behind.
    """

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.entries: dict[str, Entry] = {}
        self.used: set[str] = set()
        #: Files converted by the current build (not found in the cache).
        self.misses = 0
        #: The key of each source file's text when last read (absolute path).
        self._keys: dict[str, str] = {}
        self._dirty = False
        self._load()

    def _load(self) -> None:
        try:
            with self.path.open("rb") as fh:
                stored = pickle.load(fh)
        except FileNotFoundError:
            return
        except Exception as exc:  # a truncated or foreign file: start afresh
            log.warning("sitebuild: %s unreadable (%s); rebuilding it", self.path, exc)
            return
        if (
            isinstance(stored, dict)
            and stored.get("fingerprint") == self.fingerprint
            and isinstance(stored.get("entries"), dict)
        ):
            self.entries = stored["entries"]

    def get(self, key: str) -> Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.used.add(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.used.add(key)
        self.misses += 1
        self._dirty = True

    def note(self, source_path: str, key: str) -> None:
        """``source_path`` was read with the text of ``key``."""
        self._keys[os.path.abspath(source_path)] = key

    def keys_of(self, source_paths: Iterable[str]) -> set[str]:
        """The keys of those files' texts when this process last read them."""
        keys = (self._keys.get(os.path.abspath(p)) for p in source_paths)
        return {k for k in keys if k is not None and k in self.entries}

    def start_build(self) -> None:
        self.used = set()
        self.misses = 0

    def save(self, keep: Iterable[str] = ()) -> None:
        """Write the entries this build used and those of ``keep``, and no
        others, atomically; skip if unchanged."""
        wanted = self.used | set(keep)
        if not self._dirty and wanted == self.entries.keys():
            return
        self.entries = {k: self.entries[k] for k in wanted}
        write_pickle(
            self.path, {"fingerprint": self.fingerprint, "entries": self.entries}
        )
        self._dirty = False


def write_pickle(path: Path, value: Any) -> None:
    """Replace ``path`` with ``value`` pickled, atomically (a reader sees the
    old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def cache_for(site_dir: str, settings: dict[str, Any]) -> ContentCache:
    """The cache of the site in ``site_dir`` for these Markdown settings."""
    path = Path(site_dir).resolve() / CACHE_FILE
    key = (path, fingerprint(settings))
    cache = PROCESS.caches.get(key)
    if cache is None:
        cache = PROCESS.caches[key] = ContentCache(path, key[1])
    return cache


def markdown_cache(settings: dict[str, Any]) -> ContentCache | None:
    """The Markdown cache of an incremental build, else None."""
    cfg = config(settings)
    if not (cfg.incremental and cfg.reuse_markdown):
        return None
    return cache_for(causerie_settings.site_dir(settings), settings)
