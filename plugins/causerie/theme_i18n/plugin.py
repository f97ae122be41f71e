"""The theme_i18n plugin: each generator's Jinja environment gets gettext
callables and date filters that look at the page being rendered."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from jinja2 import pass_context
from jinja2.runtime import Context
from pelican import signals

from causerie.catalogs import load_catalogs, missing_catalogs

from .dates import format_date, iso_datetime

# The name the warnings always had (the package's).
log = logging.getLogger("causerie.theme_i18n")


def _languages(settings: dict[str, Any]) -> tuple[str, ...]:
    langs = tuple(settings.get("AUTHORING", {}).get("languages", ("fr", "en")))
    default = settings.get("DEFAULT_LANG", "en")
    return langs if default in langs else (default, *langs)


def context_lang(context: Context | dict[str, Any]) -> str:
    """The language of the page being rendered."""
    for name in ("article", "page"):
        item = context.get(name)
        lang = getattr(item, "lang", None)
        if isinstance(lang, str) and lang:
            return lang
    return str(context.get("DEFAULT_LANG", "en"))


def _install(generator: Any) -> None:
    settings = generator.settings
    translations_dir = Path(settings["THEME"]) / "translations"
    languages = _languages(settings)
    for lang in missing_catalogs(translations_dir, languages):
        log.warning(
            "theme_i18n: no catalog for %r in %s; its pages will show English UI "
            "strings. Run `make translations` and translate the new .po file",
            lang,
            translations_dir,
        )
    catalogs = load_catalogs(translations_dir, languages)
    fallback = NullTranslations()

    def catalog(ctx: Context) -> NullTranslations:
        return catalogs.get(context_lang(ctx), fallback)

    @pass_context
    def gettext(ctx: Context, message: str) -> str:
        return catalog(ctx).gettext(message)

    @pass_context
    def ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
        return catalog(ctx).ngettext(singular, plural, n)

    @pass_context
    def localdate(ctx: Context, value: dt.date, fmt: str = "full") -> str:
        return format_date(value, context_lang(ctx), fmt)

    @pass_context
    def page_lang(ctx: Context) -> str:
        return context_lang(ctx)

    env = generator.env
    env.add_extension("jinja2.ext.i18n")
    # newstyle: _() autoescapes and formats %(name)s itself; the wrapper calls
    # our functions through Context.call, which passes the render context.
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters["localdate"] = localdate
    env.filters["isodate"] = iso_datetime
    env.globals["page_lang"] = page_lang


def register() -> None:
    signals.generator_init.connect(_install)
