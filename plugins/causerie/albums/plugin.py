"""The Pelican side of albums: the Markdown extension, ledes, list covers,
and the processed files copied into output/.

- ``initialized``: the gallery/downloads extension joins ``MARKDOWN``.
- ``content_object_init``: a post without ``Summary:`` gets the lede rule
  (:func:`.lede.first_paragraph`) instead of Pelican's first 50 words, and a
  post with photos its :class:`~.lede.Album` (``article.album``: the cover
  and the count that lists show instead of the gallery).
- ``finalized``: each cache entry a page links to is linked (hard link when
  the cache and output/ share a file system, else copied) into output/.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from html import unescape
from pathlib import Path
from typing import Any

from .lede import album_of, first_paragraph, used_keys
from .settings import AlbumsSettings

log = logging.getLogger("causerie.albums")
EXTENSION = "causerie.albums.markdown_ext"

#: Cache keys the build's pages link to (content objects are made in the
#: main process; the worker processes only convert Markdown).
_used: set[str] = set()


def config(settings: dict[str, Any]) -> AlbumsSettings:
    from causerie.settings import read_section

    return read_section(settings, "ALBUMS", AlbumsSettings)


def cache_dir(settings: dict[str, Any]) -> Path:
    ours = config(settings).cache_dir
    if ours:
        base = Path(settings.get("PATH", ".")).parent
        return (base / ours).resolve()
    return Path(settings.get("CACHE_PATH", "cache")).resolve() / "albums"


def initialized(pelican: Any) -> None:
    settings = pelican.settings
    albums = config(settings)  # a misspelt key fails here, with its name
    markdown = settings.setdefault("MARKDOWN", {})
    configs = markdown.setdefault("extension_configs", {})
    configs[EXTENSION] = {
        "content_path": str(Path(settings["PATH"]).resolve()),
        "cache_dir": str(cache_dir(settings)),
        "base_url": str(settings.get("SITEURL", "")),
        "settings": dict(settings.get("ALBUMS") or {}),
    }
    _used.clear()
    del albums
    _connect_late()


_PROBLEM = re.compile(r'<div class="albums-problem">(.*?)</div>', re.DOTALL)


def content_init(content: Any) -> None:
    html = getattr(content, "_content", None)
    if not html:
        return
    settings = getattr(content, "settings", {}) or {}
    if "albums-problem" in html:
        where = str(getattr(content, "relative_source_path", "") or "a post")
        for found in _PROBLEM.finditer(html):
            log.warning("albums: %s: %s", where, unescape(found.group(1)))
        html = content._content = _PROBLEM.sub("", html)
    if "gallery" in html or "downloads" in html:
        album = album_of(html)
        if album is not None:
            content.album = album
        _used.update(used_keys(html, config(settings).output_dir))
    if "summary" not in content.metadata and getattr(content, "_summary", None) is None:
        lede = first_paragraph(html)
        if lede is not None:
            from pelican.utils import truncate_html_words

            limit = settings.get("SUMMARY_MAX_LENGTH", 50)
            if limit is not None:
                lede = truncate_html_words(
                    lede, limit, settings.get("SUMMARY_END_SUFFIX", "…")
                )
        # Pelican's get_summary() reads metadata["summary"] first. The flag
        # tells the theme not to repeat it above the body it opens.
        content.metadata["summary"] = lede or ""
        content.lede_from_body = True


def _place(source: Path, target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def finalized(pelican: Any) -> None:
    settings = pelican.settings
    albums = config(settings)
    cache = cache_dir(settings)
    output = Path(settings["OUTPUT_PATH"]) / albums.output_dir
    missing = 0
    for key in sorted(_used):
        folder = cache / key
        if not (folder / "meta.json").exists():
            missing += 1
            continue
        for file in folder.iterdir():
            if file.name != "meta.json" and not file.name.startswith("."):
                _place(file, output / key / file.name)
    if missing:
        log.warning(
            "albums: %d processed photo(s) are not in the cache %s (it was "
            "emptied while the content cache was kept): run a clean build "
            "(publish build without --incremental)", missing, cache,
        )  # fmt: skip


def register() -> None:
    """Connect :func:`initialized`; it connects the others.

    pelicanconf.py lists this plugin before ``causerie.sitebuild``, whose
    ``initialized`` fingerprints ``MARKDOWN`` for its cache of converted
    files: the extension must be in it by then, or every build would miss
    that cache. The content handler, on the other hand, must run after the
    mailposts plugin's sanitizer (blinker calls receivers in the order they
    were connected), so it is connected at ``initialized``, when every
    plugin has registered (connecting a receiver again is a no-op).
    """
    from pelican import signals

    signals.initialized.connect(initialized)


def _connect_late() -> None:
    from pelican import signals

    signals.content_object_init.connect(content_init)
    signals.finalized.connect(finalized)
