"""Theme i18n: UI strings and dates in each page's own language (a Pelican plugin).

A French post gets French UI strings and a French date, an English post English
ones, in the same build. Templates use Jinja2's i18n extension (``_()``,
``{% trans %}``); the gettext functions installed here look at the page being
rendered (``article``, ``page``) to pick the catalog, and fall back to the site's
DEFAULT_LANG on list pages.

The handler is in :mod:`.plugin`. Filters: ``localdate`` (``{{ article.date|localdate }}``), ``isodate``.
Global: ``page_lang()`` for ``<html lang>``.
"""

from __future__ import annotations

from causerie.catalogs import CatalogError, load_catalogs, missing_catalogs

from .dates import format_date, iso_datetime

__all__ = [
    "CatalogError",
    "format_date",
    "iso_datetime",
    "load_catalogs",
    "missing_catalogs",
    "register",
]


def register() -> None:
    """Pelican's entry point (PLUGINS = ["causerie.theme_i18n"])."""
    from . import plugin

    plugin.register()
