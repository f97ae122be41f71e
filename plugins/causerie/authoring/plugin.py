"""The authoring plugin's registration: the registry loaded once per build,
the ``author_card`` filter, and posts signed by unknown authors skipped."""

from __future__ import annotations

import logging
from typing import Any

from pelican import signals

from .registry import Registry, registry_for

# The name the warnings always had (the package's).
log = logging.getLogger("causerie.authoring")


def _initialized(pelican: Any) -> None:
    registry = registry_for(pelican.settings)
    pelican.settings["AUTHOR_REGISTRY"] = registry
    filters = dict(pelican.settings.get("JINJA_FILTERS", {}))
    filters["author_card"] = lambda author: registry.find(str(author))
    pelican.settings["JINJA_FILTERS"] = filters


def _drop_unknown_authors(generator: Any) -> None:
    registry: Registry = generator.settings["AUTHOR_REGISTRY"]
    for attr in ("articles", "translations", "drafts", "drafts_translations"):
        kept = []
        for article in getattr(generator, attr):
            names = [a.name for a in getattr(article, "authors", [])]
            if not names:
                log.warning(
                    "%s: no Author: line; skipped. Add one naming an author of "
                    "the registry (known: %s)",
                    article.relative_source_path,
                    ", ".join(registry.names()),
                )
                continue
            unknown = [n for n in names if registry.find(n) is None]
            if unknown:
                log.warning(
                    "%s: unknown author %s; skipped. Add them to the authors "
                    "registry or fix the Author: line (known: %s)",
                    article.relative_source_path,
                    ", ".join(map(repr, unknown)),
                    ", ".join(registry.names()),
                )
                continue
            kept.append(article)
        setattr(generator, attr, kept)
    # An original keeps a list of its translations: forget the skipped ones so
    # no page links to a translation that is not written.
    written = {id(a) for a in generator.articles + generator.translations}
    for article in generator.articles + generator.translations:
        article.translations = [t for t in article.translations if id(t) in written]


def register() -> None:
    signals.initialized.connect(_initialized)
    signals.article_generator_pretaxonomy.connect(_drop_unknown_authors)
