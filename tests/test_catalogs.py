"""What Causerie writes to people outside a page (mail replies, refusals,
notifications) is translated with Babel catalogs, like the theme and /admin
(issue 14): every marked text is in the French catalog, with the same
placeholders; the French comes out of the catalog, not out of the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from conftest import ROOT

from causerie import catalogs
from causerie.mailposts import messages, reply

PO = ROOT / "plugins/causerie/translations/fr/LC_MESSAGES/messages.po"


def test_every_marked_text_is_translated_with_the_same_placeholders(
    tmp_path: Path,
) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "extract",
            "-F", str(ROOT / "babel-messages.cfg"), "--no-default-keywords",
            "-k", "N_", "-k", "tr:2", "-o", str(pot), "--no-location", str(ROOT),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fp:
        wanted = {m.id for m in read_po(fp) if m.id}
    with PO.open("rb") as fp:
        french = {m.id: m.string for m in read_po(fp, locale="fr") if m.id}
    assert len(wanted) > 30, "the mail and notification texts were not extracted"
    missing = sorted(str(m) for m in wanted if not french.get(m))
    assert not missing, f"untranslated in {PO}: {missing} (run make translations)"
    for msgid in wanted:
        text = str(french[msgid])
        assert set(re.findall(r"{\w+}", str(msgid))) == set(
            re.findall(r"{\w+}", text)
        ), msgid


def test_a_refusal_and_a_reply_speak_the_authors_language() -> None:
    refused = messages.refusal("fr", "too-many", count=12, limit=10)
    assert refused.reason.startswith("Le message a 12 pièces jointes (au plus 10)")
    assert messages.refusal("en", "too-many", count=12, limit=10).reason.startswith(
        "The message has 12 attachments"
    )
    # A language Causerie does not speak gets English, a regional one its base.
    assert messages.refusal(
        "de",
        "no-text",
    ).reason.startswith("The message has no text")
    assert catalogs.tr("fr-CA", reply.HOW_TO).startswith("Pour le corriger")
    assert messages.megabytes(12_540_000, "fr") == "12,5"
    assert messages.megabytes(12_540_000, "en") == "12.5"


def test_no_french_is_left_in_the_code() -> None:
    """The French lives in the catalogs only (one mechanism): no module
    picks a text by comparing a language, nor keeps a table by language."""
    for path in sorted((ROOT / "plugins/causerie").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ('== "fr"', '"fr": {', "Votre ", "Le billet ", "Bonjour"):
            assert needle not in text, f"{path.relative_to(ROOT)}: {needle!r}"


def test_the_forms_answers_feeds_and_sizes_come_from_the_catalog() -> None:
    from causerie.albums.plan import human_size

    assert human_size(1_234_567, "fr") == "1,2\u00a0Mo"
    assert human_size(1_234_567, "en") == "1.2\u00a0MB"
    assert human_size(840_000, "fr-BE") == "840\u00a0ko"
    assert catalogs.tr("fr", "Thank you!") == "Merci !"
    assert catalogs.tr("fr", "Comments on “{post}”").startswith("Commentaires sur")
