"""The Pelican side of imports: imported posts' HTML sanitized at build time,
and the old blog's addresses answered (:mod:`.redirects`).

An imported post was somebody else's HTML, made into Markdown after the
sanitizer; the build does not rely on that (sanitized on the way in and
again on the way out): once Markdown has made its HTML, it goes through the
same allow-list again. A post is an imported one when its metadata has
``Imported-From``; posts written here are left alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from causerie.pelican_compat import plugin_enabled
from causerie.webmentions.sanitize import clean_article_html

from . import redirects
from .settings import config

log = logging.getLogger(__name__)
#: Content file (relative to PATH) → its URL path, from the latest build.
_urls: dict[str, str] = {}

NAME = "causerie.importers"
#: The metadata key that ties a post to the item it came from.
IMPORTED_FROM = "Imported-From"


def sanitize(content: Any) -> None:
    """``content_object_init``: clean an imported post's HTML before anything
    (summary, feeds, templates) reads it."""
    if not plugin_enabled(getattr(content, "settings", {}) or {}, NAME):
        return  # signals are process-wide: only builds that list the plugin
    metadata = getattr(content, "metadata", {}) or {}
    if metadata.get(IMPORTED_FROM.lower()) and getattr(content, "_content", None):
        content._content = clean_article_html(content._content)


def collect(generators: list[Any]) -> None:
    """``all_generators_finalized``: where each published post and page is."""
    _urls.clear()
    if not generators or not plugin_enabled(generators[0].settings, NAME):
        return
    for generator in generators:
        for attr in ("articles", "translations", "pages", "translations"):
            for content in getattr(generator, attr, None) or ():
                rel = getattr(content, "relative_source_path", None)
                if rel:
                    _urls[Path(rel).as_posix()] = "/" + str(content.url).lstrip("/")


def resolve(
    entries: dict[str, str], urls: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """(old → new URL path, old paths whose file is not published) (pure)."""
    resolved, missing = {}, []
    for old, new in entries.items():
        if new.startswith("@"):
            resolved[old] = "/" + new[1:].lstrip("/")
        elif new in urls:
            resolved[old] = urls[new]
        else:
            missing.append(old)
    return resolved, missing


def write(pelican: Any) -> None:
    """``finalized``: the redirect pages and the nginx maps in output/."""
    settings = pelican.settings
    if not plugin_enabled(settings, NAME):
        return
    listing = Path(settings["PATH"]) / config(settings).redirects
    entries = redirects.read_file(listing)
    # The maps are written even empty: nginx's include needs the files.
    resolved, missing = resolve(entries, _urls)
    if missing:
        log.info(
            "importers: %d old address(es) in %s lead to no published post "
            "(drafts, or deleted since): no redirect for them",
            len(missing),
            listing,
        )
    site_url = str(settings.get("SITEURL") or "")
    written, clashes = redirects.write_pages(
        Path(pelican.output_path), site_url, resolved
    )
    for old in clashes:
        log.warning(
            "importers: %s is a page of this site too: no redirect page there "
            "(nginx's redirects.map still answers 301)",
            old,
        )
    log.info("importers: %d redirect page(s) written", written)


def connect_signals() -> None:
    from pelican import signals

    signals.content_object_init.connect(sanitize)
    signals.all_generators_finalized.connect(collect)
    signals.finalized.connect(write)
