"""The same content gives the same sitemap.xml, byte for byte.

pelican-sitemap dates list pages (home, categories, tags…) with
``datetime.now()`` taken when the plugin module is imported: every build
differed from the last (so a deploy of an unchanged site made a new release)
and a long-running ``publish serve`` kept the time it started. List pages
change when a post does, so their last modification is the newest post's.
"""

from __future__ import annotations

from typing import Any

from .state import PROCESS


def _plugin() -> Any:
    """pelican-sitemap's module, or None where it is not installed."""
    try:
        from pelican.plugins.sitemap import sitemap
    except ImportError:
        return None
    return sitemap


def newest_date(generators: list[Any]) -> Any:
    """The latest date or modified date of the published posts and pages."""
    dates = [
        getattr(item, "modified", None) or item.date
        for generator in generators
        for attr in ("articles", "translations", "pages", "translations_pages")
        for item in getattr(generator, attr, [])
        if getattr(item, "date", None) is not None
    ]
    return max(dates, default=None)


def pin_sitemap_clock(generators: list[Any]) -> None:
    """``all_generators_finalized``: give pelican-sitemap the newest date."""
    sitemap = _plugin()
    if sitemap is None:  # the site does not use it
        return
    remember_dates()
    newest = newest_date(generators)
    if newest is not None:
        sitemap.generator.now = newest


def sitemap_queue() -> tuple[list[tuple[str, Any]], Any] | None:
    """pelican-sitemap's pages of the build in progress, and its clock."""
    sitemap = _plugin()
    if sitemap is None:
        return None
    return list(sitemap.generator.page_queue), sitemap.generator.now


def write_sitemap(pelican: Any, pages: list[tuple[str, Any]], now: Any) -> None:
    """Have pelican-sitemap write ``pelican.output_path``/sitemap.xml for
    ``pages`` (its queue of (path, content)) dated by ``now``."""
    sitemap = _plugin()
    assert sitemap is not None  # its queue came from it (sitemap_queue)
    generator = sitemap.generator
    saved = generator.page_queue, generator.now
    generator.page_queue, generator.now = list(pages), now
    try:
        generator._write_out(pelican)
    finally:
        generator.page_queue, generator.now = saved


def remember_dates() -> None:
    """Have pelican-sitemap format each date once per process.

    It formats every page's date with Pelican's strftime (about 80 µs) at
    every write; the fast path of a new post writes the sitemap of the whole
    site again, and 8,000 dates were most of its time. Installed once, by
    the first build, so that the build fills what the fast path reads.
    """
    sitemap = _plugin()
    if sitemap is None:
        return
    original = sitemap.format_date
    if getattr(original, "causerie_memo", False):
        return

    def format_date(date: Any) -> Any:
        found = PROCESS.sitemap_dates.get(date)
        if found is None:
            found = PROCESS.sitemap_dates[date] = original(date)
        return found

    format_date.causerie_memo = True  # type: ignore[attr-defined]
    sitemap.format_date = format_date


def forget_failed_build() -> None:
    """Make pelican-sitemap ready for a new build after one that failed.

    It writes the sitemap only for the Pelican object it saw first and
    forgets that object when it writes: after a build that raised (a broken
    template), it kept waiting for the dead build's object, and a process
    that builds again (publish serve, publish watch, tests) wrote no sitemap
    from then on.
    """
    sitemap = _plugin()
    if sitemap is None:
        return
    sitemap.generator._main_pelican = None
    sitemap.generator.page_queue = []
