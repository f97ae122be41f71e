"""Why a message makes no post, in the author's words (French or English).

Each reason says what went wrong and what to do. The author reads it on a
phone, in a reply: plain words, no jargon, no codes.
"""

from __future__ import annotations

from babel.numbers import format_decimal

from causerie.catalogs import N_, message_language, tr

from .model import Refusal

_TEXTS: dict[str, str] = {
    # key: the English source text; the French is in the catalogs (causerie.catalogs)
    "no-subject": N_(
        "Your message has no subject, and the subject is the post's title: send it again with a title in the subject."
    ),
    "no-text": N_(
        "The message has no text and no photo: write a few lines (or attach photos) and send it again."
    ),
    "no-date": N_(
        "The message has no Date, so the post cannot be dated: send it again from your usual mail app, or add a line “date: 2026-03-14 09:30” at the top."
    ),
    "bad-date": N_(
        "The line “date: {value}” is not a date I understand: write it as “date: 2026-03-14” or “date: 2026-03-14 09:30” and send the message again."
    ),
    "bad-lang": N_(
        "The line “lang: {value}” names a language this blog does not publish in: use one of {choices}, or remove the line."
    ),
    "bad-status": N_(
        "The line “status: {value}” is not understood: write “status: draft” to keep the post as a draft, or remove the line to publish it."
    ),
    "bad-slug": N_(
        "The line “slug: {value}” makes no usable address: use letters and digits (“slug: my-post”), or remove the line."
    ),
    "too-big": N_(
        "The message is too large ({size} MB; at most {limit} MB): send fewer or smaller photos, in several messages if need be."
    ),
    "too-many": N_(
        "The message has {count} attachments (at most {limit}): send fewer, in several messages if need be."
    ),
    "attachments-too-big": N_(
        "The attachments weigh {size} MB together (at most {limit} MB): send fewer or smaller files."
    ),
    "not-an-image": N_(
        "The picture “{name}” cannot be read as a photo: send it again as a JPEG, PNG or HEIC photo, or leave it out."
    ),
    "image-too-large": N_(
        "The picture “{name}” has too many pixels to be processed safely: send a smaller version of it."
    ),
    "not-allowed": N_(
        "The attachment “{name}” is not a file type the blog publishes (photos, PDF, office documents, CSV or text): remove it or convert it to PDF, and send the message again."
    ),
    "tnef": N_(
        "Your mail app (Outlook) added “{name}”, a “Rich Text” wrapping that the blog cannot read: it is not something you attached. In Outlook choose File › Options › Mail › “Compose messages in: HTML” (or Format Text › HTML in this message), then send the message again."
    ),
    "video": N_(
        "“{name}” is a video, and the blog does not publish videos sent by e-mail: put it on the company’s video channel or shared drive, then send the message again with its link in the text instead of the file."
    ),
    "raw-mime": N_(
        "Your message arrived damaged: after decoding, its text still contains {what}, so it was not published (it would have shown as gibberish). Send it again; if this happens again, send it as plain text or from another mail app."
    ),
    "empty-attachment": N_(
        "The attachment “{name}” arrived empty (your mail app sent its name but not its content), so nothing was published: attach it again and send the message again."
    ),
    "macros": N_(
        "The document “{name}” contains macros, which the blog never publishes: save it without macros (or as PDF) and send the message again."
    ),
}


#: Refusals of a message damaged on its way, not by its author's choice: held.
_DAMAGED = frozenset({"raw-mime", "empty-attachment"})


def refusal(lang: str, key: str, **params: object) -> Refusal:
    """The Refusal ``key`` in the author's language (English by default)."""
    return Refusal(tr(lang, _TEXTS[key]).format(**params), hold=key in _DAMAGED)


def megabytes(size: int, lang: str) -> str:
    """``size`` bytes as megabytes with one decimal ("12.5", "12,5" in French)."""
    return str(
        format_decimal(
            round(size / 1_000_000, 1), format="0.0", locale=message_language(lang)
        )
    )
