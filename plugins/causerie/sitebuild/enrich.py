"""What each post is given at build time: its reading time, its related
posts (in its language) and the listed terms its page shows.

A warm process (``publish watch``) keeps the last answers, so a build after
one change ranks again only the posts that change could concern.
"""

from __future__ import annotations

from typing import Any

from . import prefetch, warm
from .reading import minutes_for, reading_minutes
from .related import Candidate, RelatedIndex
from .settings import config
from .state import PROCESS


def candidate(article: Any) -> Candidate[int]:
    return Candidate(
        key=id(article),
        title=article.title,
        date=article.date,
        category=str(article.category) if getattr(article, "category", None) else None,
        tags=frozenset(str(t) for t in getattr(article, "tags", [])),
    )


def enrich_all(generators: list[Any]) -> None:
    # After every generator has read its files: a post's content links to
    # static files ({static}) that are only known once StaticGenerator ran,
    # and Pelican memoizes the content the first time it is read.
    for generator in generators:
        if hasattr(generator, "articles") and hasattr(generator, "drafts"):
            enrich(generator)


def _listed_terms(generator: Any) -> frozenset[tuple[str, str]]:
    """The categories and tags that have a page of their own."""
    terms = {("category", str(cat.slug)) for cat, _posts in generator.categories}
    terms |= {("tag", str(tag.slug)) for tag in generator.tags}
    return frozenset(terms)


def related_of(
    lang: str, pool: list[Candidate[int]], limit: int
) -> dict[int, list[int]]:
    """Each post's related posts (keys). In a warm process (publish watch),
    only the posts that share a tag or the category with a post added,
    removed or changed since the last build are ranked again: the others
    have the same candidates with the same scores, so the same answer."""
    index = RelatedIndex(pool)
    current = {c.key: c for c in pool}
    last = PROCESS.related.get(lang) if warm.current() is not None else None
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
        PROCESS.related[lang] = (limit, current, answers)
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


def enrich_post(generator: Any, article: Any) -> None:
    """What :func:`enrich` gives a post, but related posts, for one post
    added without a build (publish watch's fast path)."""
    cfg = config(generator.settings)
    article.listed_terms = _own_terms(article, _listed_terms(generator))
    key = (article.content, cfg.words_per_minute)
    found = PROCESS.minutes.get(key)
    if found is None:
        found = PROCESS.minutes[key] = reading_minutes(
            article.content, cfg.words_per_minute
        )
    article.reading_time = found


def enrich(generator: Any) -> None:
    cfg = config(generator.settings)
    listed = _listed_terms(generator)
    posts = generator.articles + generator.translations
    by_id = {id(a): a for a in posts}
    candidates = {id(a): candidate(a) for a in posts}
    by_lang: dict[str, list[Candidate[int]]] = {}
    for article in posts:
        by_lang.setdefault(article.lang, []).append(candidates[id(article)])
    # Related posts are offered in the reader's language only.
    related = {
        lang: related_of(lang, pool, cfg.related_posts)
        for lang, pool in by_lang.items()
    }
    for article in posts + generator.drafts + generator.drafts_translations:
        article.listed_terms = _own_terms(article, listed)
    minutes, PROCESS.minutes = PROCESS.minutes, {}
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
        article.reading_time = PROCESS.minutes[key] = found
        keys = related[article.lang][id(article)]
        article.related_posts = [by_id[k] for k in keys]
