"""The Pelican side of search: what the theme is told, the search pages,
and the index written after each build."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from causerie import signals as causerie_signals
from causerie.settings import read_section

from .core import BUNDLE_DIR, ENTRY_FILE, is_excluded, search_pages
from .indexer import background, index_or_warn, remove_index
from .settings import SearchSettings

log = logging.getLogger(__name__)


def _config(settings: dict[str, Any]) -> SearchSettings:
    return read_section(settings, "SEARCH", SearchSettings)


def _languages(settings: dict[str, Any]) -> list[str]:
    langs = list((settings.get("AUTHORING") or {}).get("languages") or ())
    return langs or [str(settings.get("DEFAULT_LANG", "en"))]


def _incremental(settings: dict[str, Any]) -> bool:
    return bool((settings.get("SITEBUILD") or {}).get("incremental"))


def initialized(pelican: Any) -> None:
    """Validate SEARCH at the build's start; tell the theme where the search
    pages are (SEARCH_PAGES: lang -> URL) and how comments are weighted."""
    settings = pelican.settings
    cfg = _config(settings)
    if not cfg.enabled:
        settings["SEARCH_PAGES"] = {}
        return
    pages = search_pages(
        cfg.url, str(settings.get("DEFAULT_LANG", "en")), _languages(settings)
    )
    settings["SEARCH_PAGES"] = {p.lang: p.url for p in pages}
    settings["SEARCH_BUNDLE"] = BUNDLE_DIR + "/"
    # None: comments are left out of the index (data-pagefind-ignore).
    settings["SEARCH_COMMENTS_WEIGHT"] = (
        f"{cfg.comments_weight:g}" if cfg.comments else None
    )
    # A build empties the output first (Pelican's DELETE_OUTPUT_DIRECTORY,
    # and the incremental sync): the previous index must stay until the new
    # one replaces it, or search answers from nothing for a while. Pelican
    # has read OUTPUT_RETENTION before plugins run: the settings file must
    # name it.
    # (An incremental build's staging settings have none: it is the output's
    # settings, read by the sync, that count, and the same file sets both.)
    if (
        settings.get("DELETE_OUTPUT_DIRECTORY")
        and not _incremental(settings)
        and BUNDLE_DIR not in (settings.get("OUTPUT_RETENTION") or ())
    ):
        log.warning(
            "search: OUTPUT_RETENTION does not name %r: each build deletes the "
            "search index until it is written again; add "
            "OUTPUT_RETENTION = [%r] to the settings file",
            BUNDLE_DIR,
            BUNDLE_DIR,
        )


def install_globals(generator: Any) -> None:
    """``search_indexed(article)``: False for a page SEARCH['exclude'] names.

    A global, not a filter: Jinja looks filters up when it compiles, so a
    theme using one would fail with this plugin left out of PLUGINS; the
    templates call it behind ``SEARCH_PAGES``, which only this plugin sets."""
    cfg = _config(generator.settings)

    def searchable(content: Any) -> bool:
        if not cfg.enabled:
            return False
        save_as = str(getattr(content, "save_as", "") or "")
        return not is_excluded(save_as, cfg.exclude)

    generator.env.globals["search_indexed"] = searchable


def write_search_pages(generator: Any, writer: Any) -> None:
    """One search page per language, rendered with theme/templates/search.html."""
    settings = generator.settings
    cfg = _config(settings)
    if not cfg.enabled:
        return
    template = generator.get_template("search")
    pages = search_pages(
        cfg.url, str(settings.get("DEFAULT_LANG", "en")), _languages(settings)
    )
    for page in pages:
        writer.write_file(
            page.save_as,
            template,
            generator.context,
            relative_urls=settings.get("RELATIVE_URLS", False),
            url=page.url,
            # `page`: what theme_i18n reads the language from.
            page=page,
            search_page=page,
            search_translations=[p for p in pages if p is not page],
        )


def finalized(pelican: Any) -> None:
    """A clean build: index the output now, before the build returns (a
    deploy follows it). An incremental build renders into a staging
    directory: :func:`output_updated` indexes the real output after."""
    settings = pelican.settings
    cfg = _config(settings)
    output = Path(settings["OUTPUT_PATH"])
    if not cfg.enabled:
        remove_index(output)
        return
    if _incremental(settings):
        return
    index_or_warn(output, cfg)


def output_updated(
    output: Path,
    settings: dict[str, Any],
    background_: bool = False,
    changed: bool = True,
) -> None:
    """Index the output again after an incremental build or a fast path;
    nothing to do when no file changed and an index is there."""
    cfg = _config(settings)
    if not cfg.enabled:
        remove_index(output)
        return
    if not changed and (output / BUNDLE_DIR / ENTRY_FILE).is_file():
        return
    if background_:
        background(output, cfg).request(cfg)
    else:
        index_or_warn(output, cfg)


def _on_output_updated(sender: Any, **kw: Any) -> None:
    settings = kw["settings"]
    # Connected once per process: a watch whose new settings dropped the
    # plugin must not index any more.
    if __package__ not in {str(p) for p in settings.get("PLUGINS") or ()}:
        return
    output_updated(
        Path(sender),
        settings,
        bool(kw.get("background")),
        bool(kw.get("changed", True)),
    )


def connect() -> None:
    from pelican import signals

    signals.initialized.connect(initialized)
    signals.generator_init.connect(install_globals)
    signals.article_writer_finalized.connect(write_search_pages)
    signals.finalized.connect(finalized)
    causerie_signals.output_updated.connect(_on_output_updated)
