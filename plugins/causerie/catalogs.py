"""Babel message catalogs: the one way Causerie speaks French (or any language).

Three sets of catalogs, one mechanism: the theme's UI strings
(``theme/translations/``, by :mod:`causerie.theme_i18n`), the moderation
pages' (``webmentions/receiver/translations/``), and what Causerie writes to
people outside a page, in this package's ``translations/``: the replies to
executives who post by e-mail, their refusal reasons, and the notifications
of new mentions (:func:`tr`). English is the source language of all three.

Catalogs live as ``.po`` files in ``<dir>/<lang>/LC_MESSAGES/``.
They are compiled in memory at build time, so no ``.mo`` file is committed or
forgotten, and no system locale is involved (a machine without fr_FR still
builds French pages).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from causerie.errors import UserError

DOMAIN = "messages"


class CatalogError(UserError):
    """A translation catalog is unreadable; the message names the file to fix."""


def po_path(translations_dir: Path, lang: str) -> Path:
    return translations_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_po(path: Path, lang: str) -> Translations:
    """Read one ``.po`` file and return it as gettext translations."""
    try:
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=lang, domain=DOMAIN)
    except (OSError, ValueError, SyntaxError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc}); fix it") from exc
    buffer = io.BytesIO()
    # Fuzzy entries are guesses by msgmerge: show the English source rather
    # than a possibly wrong translation (gettext's own rule).
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def load_catalogs(
    translations_dir: Path, languages: tuple[str, ...]
) -> dict[str, NullTranslations]:
    """One translations object per language; source strings where none exists.

    English is the source language of the templates, so a missing ``en``
    catalog is normal; any other missing language is returned as
    NullTranslations and reported by :func:`missing_catalogs`.
    """
    result: dict[str, NullTranslations] = {}
    for lang in languages:
        path = po_path(translations_dir, lang)
        result[lang] = compile_po(path, lang) if path.exists() else NullTranslations()
    return result


def missing_catalogs(translations_dir: Path, languages: tuple[str, ...]) -> list[str]:
    """Languages other than English that have no catalog."""
    return [
        lang
        for lang in languages
        if lang != "en" and not po_path(translations_dir, lang).exists()
    ]


#: The catalogs of what Causerie writes to people: mail replies, refusals,
#: notifications (extracted with babel-messages.cfg, `make translations`).
MESSAGES_DIR = Path(__file__).parent / "translations"
#: The languages those texts exist in (English is the source).
MESSAGE_LANGUAGES = ("en", "fr")


def N_(message: str) -> str:
    """Marks a text for extraction where it is defined (a table of texts);
    :func:`tr` translates it where it is used."""
    return message


@functools.cache
def _messages(lang: str) -> NullTranslations:
    return load_catalogs(MESSAGES_DIR, (lang,))[lang]


def message_language(lang: str | None, default: str | None = None) -> str:
    """The language a text goes out in: ``lang``'s (``fr-CA`` -> ``fr``),
    else ``default``'s, when Causerie speaks it; else English."""
    for candidate in (lang, default):
        base = (candidate or "").split("-")[0].split("_")[0].lower()
        if base in MESSAGE_LANGUAGES:
            return base
    return "en"


def tr(lang: str, message: str) -> str:
    """``message`` (an English source text) in ``lang`` (see
    :func:`message_language`); the English text when no translation exists."""
    return _messages(message_language(lang)).gettext(message)
