"""The theme's UI strings: every one extracted and translated into French."""

from __future__ import annotations

import io

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import ROOT

TRANSLATIONS = ROOT / "theme" / "translations"


def template_strings() -> set[str]:
    method_map = [("**.html", "jinja2")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "theme" / "templates"), method_map, options
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog(lang: str):
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    return read_po(io.BytesIO(path.read_bytes()), locale=lang)


def test_templates_have_ui_strings() -> None:
    assert len(template_strings()) >= 20


def test_every_string_has_a_french_translation() -> None:
    fr = catalog("fr")
    missing = []
    for msgid in sorted(template_strings()):
        message = fr.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(msgid)
            continue
        if isinstance(message.string, tuple) and not all(message.string):
            missing.append(msgid)
    assert not missing, f"untranslated in fr (run `make translations`): {missing}"


def test_catalogs_have_no_errors() -> None:
    for lang in ("fr", "en"):
        for message, errors in catalog(lang).check():
            assert not errors, f"{lang}: {message.id!r}: {errors}"
