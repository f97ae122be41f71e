"""Why a message makes no post, in the author's words (French or English).

Each reason says what went wrong and what to do. The author reads it on a
phone, in a reply: plain words, no jargon, no codes.
"""

from __future__ import annotations

from .model import Refusal

_TEXTS: dict[str, tuple[str, str]] = {
    # key: (English, French)
    "no-subject": (
        "Your message has no subject, and the subject is the post's title: send it again with a title in the subject.",
        "Votre message n’a pas d’objet, or l’objet est le titre du billet : renvoyez-le avec un titre dans l’objet.",
    ),
    "no-text": (
        "The message has no text and no photo: write a few lines (or attach photos) and send it again.",
        "Le message n’a ni texte ni photo : écrivez quelques lignes (ou joignez des photos) et renvoyez-le.",
    ),
    "no-date": (
        "The message has no Date, so the post cannot be dated: send it again from your usual mail app, or add a line “date: 2026-03-14 09:30” at the top.",
        "Le message n’a pas de date, le billet ne peut donc pas être daté : renvoyez-le depuis votre messagerie habituelle, ou ajoutez en tête une ligne « date: 2026-03-14 09:30 ».",
    ),
    "bad-date": (
        "The line “date: {value}” is not a date I understand: write it as “date: 2026-03-14” or “date: 2026-03-14 09:30” and send the message again.",
        "La ligne « date: {value} » n’est pas une date que je comprends : écrivez « date: 2026-03-14 » ou « date: 2026-03-14 09:30 » et renvoyez le message.",
    ),
    "bad-lang": (
        "The line “lang: {value}” names a language this blog does not publish in: use one of {choices}, or remove the line.",
        "La ligne « lang: {value} » indique une langue que ce blog ne publie pas : utilisez {choices}, ou supprimez la ligne.",
    ),
    "bad-status": (
        "The line “status: {value}” is not understood: write “status: draft” to keep the post as a draft, or remove the line to publish it.",
        "La ligne « status: {value} » n’est pas comprise : écrivez « status: draft » pour garder le billet en brouillon, ou supprimez la ligne pour le publier.",
    ),
    "bad-slug": (
        "The line “slug: {value}” makes no usable address: use letters and digits (“slug: my-post”), or remove the line.",
        "La ligne « slug: {value} » ne donne pas d’adresse utilisable : utilisez des lettres et des chiffres (« slug: mon-billet »), ou supprimez la ligne.",
    ),
    "too-big": (
        "The message is too large ({size} MB; at most {limit} MB): send fewer or smaller photos, in several messages if need be.",
        "Le message est trop gros ({size} Mo ; au plus {limit} Mo) : envoyez moins de photos, ou plus petites, au besoin en plusieurs messages.",
    ),
    "too-many": (
        "The message has {count} attachments (at most {limit}): send fewer, in several messages if need be.",
        "Le message a {count} pièces jointes (au plus {limit}) : envoyez-en moins, au besoin en plusieurs messages.",
    ),
    "attachments-too-big": (
        "The attachments weigh {size} MB together (at most {limit} MB): send fewer or smaller files.",
        "Les pièces jointes pèsent {size} Mo en tout (au plus {limit} Mo) : envoyez moins de fichiers, ou plus légers.",
    ),
    "not-an-image": (
        "The picture “{name}” cannot be read as a photo: send it again as a JPEG, PNG or HEIC photo, or leave it out.",
        "L’image « {name} » ne peut pas être lue comme une photo : renvoyez-la en JPEG, PNG ou HEIC, ou retirez-la.",
    ),
    "image-too-large": (
        "The picture “{name}” has too many pixels to be processed safely: send a smaller version of it.",
        "L’image « {name} » a trop de pixels pour être traitée sans risque : envoyez-en une version plus petite.",
    ),
    "not-allowed": (
        "The attachment “{name}” is not a file type the blog publishes (photos, PDF, office documents, CSV or text): remove it or convert it to PDF, and send the message again.",
        "La pièce jointe « {name} » n’est pas d’un type que le blog publie (photos, PDF, documents bureautiques, CSV ou texte) : retirez-la ou convertissez-la en PDF, et renvoyez le message.",
    ),
    "tnef": (
        "Your mail app (Outlook) added “{name}”, a “Rich Text” wrapping that the blog cannot read: it is not something you attached. In Outlook choose File › Options › Mail › “Compose messages in: HTML” (or Format Text › HTML in this message), then send the message again.",
        "Votre messagerie (Outlook) a ajouté « {name} », un emballage « Texte enrichi » que le blog ne sait pas lire : ce n’est pas une pièce que vous avez jointe. Dans Outlook, choisissez Fichier › Options › Courrier › « Composer les messages au format : HTML » (ou Format du texte › HTML pour ce message), puis renvoyez le message.",
    ),
    "video": (
        "“{name}” is a video, and the blog does not publish videos sent by e-mail: put it on the company’s video channel or shared drive, then send the message again with its link in the text instead of the file.",
        "« {name} » est une vidéo, et le blog ne publie pas les vidéos envoyées par e-mail : déposez-la sur la chaîne vidéo ou le drive partagé de l’entreprise, puis renvoyez le message avec son lien dans le texte, sans le fichier.",
    ),
    "raw-mime": (
        "Your message arrived damaged: after decoding, its text still contains {what}, so it was not published (it would have shown as gibberish). Send it again; if this happens again, send it as plain text or from another mail app.",
        "Votre message est arrivé abîmé : une fois décodé, son texte contient encore {what}, il n’a donc pas été publié (il se serait affiché en charabia). Renvoyez-le ; si cela se reproduit, envoyez-le en texte brut ou depuis une autre messagerie.",
    ),
    "empty-attachment": (
        "The attachment “{name}” arrived empty (your mail app sent its name but not its content), so nothing was published: attach it again and send the message again.",
        "La pièce jointe « {name} » est arrivée vide (votre messagerie a envoyé son nom, pas son contenu), rien n’a donc été publié : joignez-la de nouveau et renvoyez le message.",
    ),
    "macros": (
        "The document “{name}” contains macros, which the blog never publishes: save it without macros (or as PDF) and send the message again.",
        "Le document « {name} » contient des macros, que le blog ne publie jamais : enregistrez-le sans macros (ou en PDF) et renvoyez le message.",
    ),
}


#: Refusals of a message damaged on its way, not by its author's choice: held.
_DAMAGED = frozenset({"raw-mime", "empty-attachment"})


def refusal(lang: str, key: str, **params: object) -> Refusal:
    """The Refusal ``key`` in French when ``lang`` is "fr", else in English."""
    english, french = _TEXTS[key]
    text = (french if lang == "fr" else english).format(**params)
    return Refusal(text, hold=key in _DAMAGED)


def megabytes(size: int, lang: str) -> str:
    """``size`` bytes as megabytes with one decimal ("12.5", "12,5" in French)."""
    text = f"{size / 1_000_000:.1f}"
    return text.replace(".", ",") if lang == "fr" else text
