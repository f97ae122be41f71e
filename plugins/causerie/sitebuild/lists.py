"""What the build's lists of posts hold: scheduled posts held back, two
posts with one URL never both written, and fast membership tests."""

from __future__ import annotations

import logging
from typing import Any

from .schedule import is_due, parse_instant, system_now
from .settings import config

log = logging.getLogger("causerie.sitebuild")


def hold_scheduled(generator: Any) -> None:
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


def drop_duplicate_urls(generator: Any) -> None:
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


def fast_membership(generator: Any) -> None:
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
