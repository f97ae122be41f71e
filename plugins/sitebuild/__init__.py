"""Sitebuild: building, previewing and scheduling the site (a Pelican plugin).

The plugin half holds back scheduled posts (:mod:`.schedule`) and gives each
post its reading time and related posts; the library half (:mod:`.build`,
:mod:`.serve`) is what ``publish build`` and ``publish serve`` call.
"""

from __future__ import annotations

import logging
from typing import Any

from pelican import signals

from causerie_settings import read_section, site_dir

from . import prefetch, warm
from .content_cache import ContentCache, cache_for
from .markdown_reader import use_reusing_reader
from .reading import minutes_for, reading_minutes
from .related import Candidate, RelatedIndex
from .schedule import is_due, parse_instant, system_now
from .settings import SitebuildSettings
from .stable_sitemap import pin_sitemap_clock
from .writer import get_writer

__all__ = ["SitebuildSettings", "register"]

log = logging.getLogger(__name__)


def config(settings: dict[str, Any]) -> SitebuildSettings:
    return read_section(settings, "SITEBUILD", SitebuildSettings)


def markdown_cache(settings: dict[str, Any]) -> ContentCache | None:
    """The Markdown cache of an incremental build, else None."""
    cfg = config(settings)
    if not (cfg.incremental and cfg.reuse_markdown):
        return None
    return cache_for(site_dir(settings), settings)


def _initialized(pelican: Any) -> None:
    config(pelican.settings)  # fail early, before any file is read
    cache = markdown_cache(pelican.settings)
    if cache is not None:
        cache.start_build()
    prefetch.begin(pelican.settings)


def _readers_init(readers: Any) -> None:
    cfg = config(readers.settings)
    if cfg.reuse_markdown:
        cache = markdown_cache(readers.settings)
        reading = prefetch.current(readers.settings)
        if reading is None:  # readers made outside a build (no `initialized`)
            use_reusing_reader(readers, cache)
        else:
            reading.start(readers, cfg.jobs, cache)
            use_reusing_reader(readers, cache, reading.prefetcher, reading.words)
    # Last: a warm process (publish watch) answers unchanged files itself.
    warm.install_reader(readers)


def _finalized(pelican: Any) -> None:
    prefetch.end()
    cache = markdown_cache(pelican.settings)
    if cache is not None:
        cache.save()


def _hold_scheduled(generator: Any) -> None:
    """Move posts dated after "now" to the drafts: they wait for their date."""
    cfg = config(generator.settings)
    now = parse_instant(cfg.now) if cfg.now else system_now()
    for live, waiting in (
        ("articles", "drafts"),
        ("translations", "drafts_translations"),
    ):
        kept = []
        for article in getattr(generator, live):
            if is_due(article.date, now):
                kept.append(article)
            else:
                article.status = "draft"
                article.scheduled = True
                getattr(generator, waiting).append(article)
        setattr(generator, live, kept)
    published = {id(a) for a in generator.articles + generator.translations}
    for article in generator.articles + generator.translations:
        article.translations = [t for t in article.translations if id(t) in published]


def _drop_duplicate_urls(generator: Any) -> None:
    """Two posts that would be written to the same file: keep the older one.

    Pelican would stop the whole build (FileOverwriteFailedError); one bad
    post must not take the site down, so the newer one is skipped and named.
    """
    lists = (
        ("articles", "translations")
        if hasattr(generator, "articles")
        else ("pages", "translations")
    )
    items = [(attr, item) for attr in lists for item in getattr(generator, attr)]
    items.sort(
        key=lambda pair: (
            getattr(pair[1], "date", None) is None,
            str(getattr(pair[1], "date", "")),
            pair[1].source_path,
        )
    )
    owners: dict[str, Any] = {}
    dropped: set[int] = set()
    for _attr, item in items:
        first = owners.setdefault(item.save_as, item)
        if first is not item:
            dropped.add(id(item))
            log.warning(
                "%s: same URL %s as %s; skipped. Give it another `Slug:`",
                item.relative_source_path,
                item.url,
                first.relative_source_path,
            )
    if dropped:
        for attr in lists:
            setattr(
                generator,
                attr,
                [i for i in getattr(generator, attr) if id(i) not in dropped],
            )


def _candidate(article: Any) -> Candidate[int]:
    return Candidate(
        key=id(article),
        title=article.title,
        date=article.date,
        category=str(article.category) if getattr(article, "category", None) else None,
        tags=frozenset(str(t) for t in getattr(article, "tags", [])),
    )


def _enrich_all(generators: list[Any]) -> None:
    # After every generator has read its files: a post's content links to
    # static files ({static}) that are only known once StaticGenerator ran,
    # and Pelican memoizes the content the first time it is read.
    for generator in generators:
        if hasattr(generator, "articles") and hasattr(generator, "drafts"):
            _enrich(generator)


#: Reading times of the last build, by HTML and words per minute.
_minutes: dict[tuple[str, int], int] = {}


def _listed_terms(generator: Any) -> frozenset[tuple[str, str]]:
    """The categories and tags that have a page of their own."""
    terms = {("category", str(cat.slug)) for cat, _posts in generator.categories}
    terms |= {("tag", str(tag.slug)) for tag in generator.tags}
    return frozenset(terms)


def _enrich(generator: Any) -> None:
    cfg = config(generator.settings)
    listed = _listed_terms(generator)
    posts = generator.articles + generator.translations
    by_id = {id(a): a for a in posts}
    candidates = {id(a): _candidate(a) for a in posts}
    by_lang: dict[str, list[Candidate[int]]] = {}
    for article in posts:
        by_lang.setdefault(article.lang, []).append(candidates[id(article)])
    # Related posts are offered in the reader's language only.
    indexes = {lang: RelatedIndex(pool) for lang, pool in by_lang.items()}
    for article in posts + generator.drafts + generator.drafts_translations:
        # Only the post's own terms: its page's fingerprint then changes
        # when one of them gets or loses its page, not for any other tag.
        own = (
            {("category", str(article.category.slug))}
            if getattr(article, "category", None)
            else set()
        )
        own |= {("tag", str(t.slug)) for t in getattr(article, "tags", None) or []}
        article.listed_terms = frozenset(own & listed)
    global _minutes
    minutes, _minutes = _minutes, {}
    reading = prefetch.current(generator.settings)
    words = reading.words if reading is not None else {}
    for article in posts:
        html = article.content
        # By the HTML itself (a str hashes once): a process that builds
        # again (publish watch, serve) counts only the posts that changed.
        key = (html, cfg.words_per_minute)
        found = minutes.get(key)
        if found is None:
            known = words.get(article.source_path)
            # The reader counted the words of the HTML it returned; a plugin
            # (or Pelican's link rewriting) may have changed it since.
            if known is not None and known[0] == html:
                found = minutes_for(known[1], cfg.words_per_minute)
            else:
                found = reading_minutes(html, cfg.words_per_minute)
        article.reading_time = _minutes[key] = found
        keys = indexes[article.lang].related(candidates[id(article)], cfg.related_posts)
        article.related_posts = [by_id[k] for k in keys]


def register() -> None:
    signals.initialized.connect(_initialized)
    signals.get_writer.connect(get_writer)
    signals.finalized.connect(_finalized)
    signals.readers_init.connect(_readers_init)
    signals.article_generator_pretaxonomy.connect(_hold_scheduled)
    signals.article_generator_pretaxonomy.connect(_drop_duplicate_urls)
    signals.page_generator_finalized.connect(_drop_duplicate_urls)
    signals.all_generators_finalized.connect(_enrich_all)
    signals.all_generators_finalized.connect(pin_sitemap_clock)
