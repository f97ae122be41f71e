"""Sitebuild: building, previewing and scheduling the site (a Pelican plugin).

The plugin half holds back scheduled posts (:mod:`.schedule`) and gives each
post its reading time and related posts; the library half (:mod:`.build`,
:mod:`.serve`) is what ``publish build`` and ``publish serve`` call.
"""

from __future__ import annotations

import logging
from typing import Any

from pelican import signals

from causerie import pelican_compat
from causerie.settings import read_section, site_dir

from . import dates, prefetch, render_once, urls, warm
from .content_cache import ContentCache, cache_for
from .markdown_reader import use_reusing_reader
from .reading import minutes_for, reading_minutes
from .related import Candidate, RelatedIndex
from .schedule import is_due, parse_instant, system_now
from .settings import SitebuildSettings
from .stable_sitemap import pin_sitemap_clock, sitemap_queue
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
    # Before anything is patched: a Pelican whose internals moved fails here,
    # with the supported range, not deep inside a build.
    pelican_compat.check()
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
            # A warm build reads only the files that changed: no workers.
            jobs = 1 if warm.current() is not None else cfg.jobs
            reading.start(readers, jobs, cache)
            use_reusing_reader(readers, cache, reading.prefetcher, reading.words)
    # Last: a warm process (publish watch) answers unchanged files itself.
    warm.install_reader(readers)


def _finalized(pelican: Any) -> None:
    prefetch.end()
    state = warm.current()
    if state is not None:
        # Before pelican-sitemap writes and forgets its pages (it is listed
        # after this plugin): the fast path of a new post writes the sitemap
        # again from them.
        state.sitemap = sitemap_queue()
    cache = markdown_cache(pelican.settings)
    if cache is not None:
        # A warm build (publish watch) does not read unchanged files, so it
        # "uses" only the changed ones: keep the entries of the texts it
        # holds too (an edited post's older versions go).
        cache.save(keep=cache.keys_of(state.seen) if state is not None else ())


def _flush(_generator: Any, writer: Any = None) -> None:
    """The page generator, Pelican's last to render templates, is done: write
    what Causerie's writer collected, on every core (writer.flush)."""
    flush = getattr(writer, "flush", None)
    if flush is not None:
        flush()


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


class _Members(list[Any]):
    """The posts of a tag, category or author: a list whose ``in`` is a set
    lookup. Pelican's tag, category and author pages each filter the whole
    site's posts with ``article in articles`` (a list scan): 60 tags of
    8,000 posts took more than a second. Posts compare by identity (no
    ``__eq__``), so an identity set answers exactly as the list would."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__(items)
        self._ids = {id(item) for item in items}

    def __contains__(self, item: object) -> bool:
        return id(item) in self._ids


def _by_identity(items: list[Any]) -> bool:
    return all(type(item).__eq__ is object.__eq__ for item in items)


def _fast_membership(generator: Any) -> None:
    """``article_generator_finalized``: the same lists, with a fast ``in``."""
    made: dict[int, list[Any]] = {}

    def fast(members: list[Any]) -> list[Any]:
        if not _by_identity(members):
            return members
        if id(members) not in made:
            made[id(members)] = _Members(members)
        return made[id(members)]

    generator.tags = {tag: fast(posts) for tag, posts in generator.tags.items()}
    generator.categories = [(c, fast(posts)) for c, posts in generator.categories]
    generator.authors = [(a, fast(posts)) for a, posts in generator.authors]
    context = generator.context
    for key in ("tags", "categories", "authors"):
        if isinstance(context.get(key), list):
            context[key] = [(term, fast(posts)) for term, posts in context[key]]


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


#: A warm process's last related posts, by language: the pool (by key) and
#: each post's answer, for a limit.
_related: dict[str, tuple[int, dict[int, Candidate[int]], dict[int, list[int]]]] = {}


def _related_of(
    lang: str, pool: list[Candidate[int]], limit: int
) -> dict[int, list[int]]:
    """Each post's related posts (keys). In a warm process (publish watch),
    only the posts that share a tag or the category with a post added,
    removed or changed since the last build are ranked again: the others
    have the same candidates with the same scores, so the same answer."""
    index = RelatedIndex(pool)
    current = {c.key: c for c in pool}
    last = _related.get(lang) if warm.current() is not None else None
    answers: dict[int, list[int]] = {}
    if last is not None and last[0] == limit:
        _limit, before, known = last
        changed = [
            k for k in current.keys() | before.keys() if current.get(k) != before.get(k)
        ]
        if len(changed) <= len(pool) // 4:
            tags: set[str] = set()
            categories: set[str | None] = set()
            for key in changed:
                for version in (before.get(key), current.get(key)):
                    if version is not None:
                        tags |= version.tags
                        categories.add(version.category)
            categories.discard(None)
            for key, candidate in current.items():
                if (
                    key in known
                    and candidate.tags.isdisjoint(tags)
                    and candidate.category not in categories
                ):
                    answers[key] = known[key]
    for candidate in pool:
        if candidate.key not in answers:
            answers[candidate.key] = index.related(candidate, limit)
    if warm.current() is not None:
        _related[lang] = (limit, current, answers)
    return answers


def _own_terms(
    article: Any, listed: frozenset[tuple[str, str]]
) -> frozenset[tuple[str, str]]:
    # Only the post's own terms: its page's fingerprint then changes when
    # one of them gets or loses its page, not for any other tag.
    own = (
        {("category", str(article.category.slug))}
        if getattr(article, "category", None)
        else set()
    )
    own |= {("tag", str(t.slug)) for t in getattr(article, "tags", None) or []}
    return frozenset(own & listed)


def _enrich_post(generator: Any, article: Any) -> None:
    """What :func:`_enrich` gives a post, but related posts, for one post
    added without a build (publish watch's fast path)."""
    cfg = config(generator.settings)
    article.listed_terms = _own_terms(article, _listed_terms(generator))
    key = (article.content, cfg.words_per_minute)
    found = _minutes.get(key)
    if found is None:
        found = _minutes[key] = reading_minutes(article.content, cfg.words_per_minute)
    article.reading_time = found


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
    related = {
        lang: _related_of(lang, pool, cfg.related_posts)
        for lang, pool in by_lang.items()
    }
    for article in posts + generator.drafts + generator.drafts_translations:
        article.listed_terms = _own_terms(article, listed)
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
        keys = related[article.lang][id(article)]
        article.related_posts = [by_id[k] for k in keys]


def register() -> None:
    dates.install()
    signals.initialized.connect(_initialized)
    signals.get_writer.connect(get_writer)
    signals.finalized.connect(_finalized)
    signals.page_writer_finalized.connect(_flush)
    signals.generator_init.connect(render_once.install)
    signals.all_generators_finalized.connect(urls.settle)
    signals.finalized.connect(urls.forget)
    signals.readers_init.connect(_readers_init)
    signals.article_generator_pretaxonomy.connect(_hold_scheduled)
    signals.article_generator_pretaxonomy.connect(_drop_duplicate_urls)
    signals.page_generator_finalized.connect(_drop_duplicate_urls)
    signals.article_generator_finalized.connect(_fast_membership)
    signals.all_generators_finalized.connect(_enrich_all)
    signals.all_generators_finalized.connect(pin_sitemap_clock)
