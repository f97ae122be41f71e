"""mailposts.parse: an e-mail (real MIME bytes) becomes a Post or a Refusal."""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from email import policy
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from typing import Any

import markdown
import pytest
from PIL import Image

from causerie.authoring.registry import Author
from causerie.mailposts import parse
from causerie.mailposts.body import Fragment, choose_body, decode_bytes, unflow
from causerie.mailposts.markup import defuse_markdown, escape_literal
from causerie.mailposts.model import DOCUMENT, IMAGE, Post, Refusal
from causerie.mailposts.settings import MailSettings
from causerie.mailposts.signatures import cut_quotes, cut_signature

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CLAIRE = Author(
    "claire-dubois", "Claire Dubois", "claire@example.com", "DG", "…", "a.svg", "fr"
)
JOHN = Author("john-doe", "John Doe", "john@example.com", "CTO", "…", "b.svg", "en")
SETTINGS = MailSettings()
DATE = "Sat, 14 Mar 2026 09:30:00 +0000"
FR_TEXT = "Bonjour à tous, nous lançons une offre pour les clients et les partenaires de la région."
EN_TEXT = "Hello everyone, we are launching an offer for the customers and the partners of the region."


def jpeg(color: str = "red", size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def reparse(message: EmailMessage | MIMEMultipart | MIMEText) -> EmailMessage:
    """Real bytes, read back as the pipeline reads them."""
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def mail(
    body: str = FR_TEXT,
    subject: str = "Notre offre",
    subtype: str = "plain",
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["Date"] = headers.pop("date", DATE)
    msg["Message-ID"] = headers.pop("message_id", "<m1@example.com>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, subtype=subtype)
    return reparse(msg)


def parsed(
    msg: EmailMessage, author: Author, options: dict[str, Any]
) -> Post | Refusal:
    options.setdefault("settings", SETTINGS)
    return parse.parse_message(msg, author=author, tz=PARIS, **options)


def post_of(msg: EmailMessage, author: Author = CLAIRE, **options: Any) -> Post:
    result = parsed(msg, author, options)
    assert isinstance(result, Post), result
    return result


def refusal_of(msg: EmailMessage, author: Author = CLAIRE, **options: Any) -> str:
    result = parsed(msg, author, options)
    assert isinstance(result, Refusal), result
    return result.reason


def gallery_alts(body: str) -> list[str]:
    """The alt texts of a body's gallery lines ("file | alt | caption")."""
    return re.findall(
        r"^\{static\}/\S+ \| ((?:[^|\\\n]|\\.)*?)(?: \| .*)?$", body, re.M
    )


def render(text: str) -> str:
    """The body as Pelican renders it (pelicanconf.py's MARKDOWN extensions)."""
    return str(
        markdown.Markdown(extensions=["extra", "meta", "toc", "codehilite"]).convert(
            text
        )
    )


def assert_inert(html: str) -> None:
    """No live script in ``html``, as a browser's parser reads it."""
    from bs4 import BeautifulSoup

    for tag in BeautifulSoup(html, "html.parser").find_all(True):
        assert tag.name not in ("script", "svg", "iframe", "object", "embed", "math"), (
            html
        )
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), html
            if name in ("href", "src"):
                url = re.sub(r"[\x00-\x20]", "", str(value)).lower()
                assert url.startswith(
                    ("https://", "http://", "mailto:", "{static}/", "/")
                ), html


# --- subjects ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "title", "category", "tags"),
    [
        ("Notre offre", "Notre offre", None, ()),
        ("Re: Notre offre", "Notre offre", None, ()),
        ("RE: RE: Fwd: Notre offre", "Notre offre", None, ()),
        ("Fw: TR: tr : Notre offre", "Notre offre", None, ()),
        ("Réf : Notre offre", "Notre offre", None, ()),
        ("RÉF: Notre offre", "Notre offre", None, ()),
        ("RE\u00a0: Notre offre", "Notre offre", None, ()),
        ("Re[2]: AW: WG: Notre offre", "Notre offre", None, ()),
        (
            "[Produit] Notre offre #lancement #b2b",
            "Notre offre",
            "Produit",
            ("lancement", "b2b"),
        ),
        (
            "Re: [Vie de l'entreprise] Fwd: Séminaire #rh",
            "Séminaire",
            "Vie de l'entreprise",
            ("rh",),
        ),
        ("C# et F# : le bilan #dev", "C# et F# : le bilan", None, ("dev",)),
        ("Résultats #2026 #t1", "Résultats #2026", None, ("t1",)),
        (
            "Le <script>alert(1)</script> titre",
            "Le ‹script>alert(1)‹/script> titre",
            None,
            (),
        ),
        (
            "Request: remove my data",
            "Request: remove my data",
            None,
            (),
        ),  # "re" must be a word
    ],
)
def test_subject(
    subject: str, title: str, category: str | None, tags: tuple[str, ...]
) -> None:
    assert parse.parse_subject(subject) == (title, category, tags)


def test_encoded_word_subject() -> None:
    raw = (
        b"Subject: =?ISO-8859-1?Q?Re=3A_R=E9sultats_=E9t=E9?= =?UTF-8?B?wqvCoGNow6h2cmUgwrs=?=\r\n"
        b"Date: " + DATE.encode() + b"\r\nMessage-ID: <e@x>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + FR_TEXT.encode() + b"\r\n"
    )
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert post_of(msg).title == "Résultats été« chèvre »"


def test_raw_latin1_subject_recovered() -> None:
    raw = (
        b"Subject: Re: R\xe9sultats\r\nDate: "
        + DATE.encode()
        + b"\r\n\r\n"
        + FR_TEXT.encode()
    )
    post = post_of(BytesParser(policy=policy.default).parsebytes(raw))
    assert post.title == "Résultats" and post.slug == "resultats"


def test_no_subject_refused_in_the_authors_language() -> None:
    assert "objet" in refusal_of(mail(subject="Re: "))
    assert "subject" in refusal_of(mail(subject="  "), author=JOHN)


# --- commands ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found", "rest"),
    [
        ("Bonjour", {}, "Bonjour"),
        ("tags: a, b\nstatus: draft\n\nBonjour", {"tags": "a, b", "status": "draft"}, "Bonjour"),
        ("\nCatégorie : Produit\n\nlang: en\nHello", {"category": "Produit", "lang": "en"}, "Hello"),
        ("Bonjour: ceci n'est pas une commande\ntags: x", {}, "Bonjour: ceci n'est pas une commande\ntags: x"),
        ("Bonjour\ntags: x", {}, "Bonjour\ntags: x"),
        ("summary\\: un \\_résumé\\_\ntexte", {"summary": "un _résumé_"}, "texte"),
        ("slug: mon-billet\ndate: 2026-03-20 08:00\nrésumé: Court.\nTexte", {"slug": "mon-billet", "date": "2026-03-20 08:00", "summary": "Court."}, "Texte"),
    ],
)  # fmt: skip
def test_commands(text: str, found: dict[str, str], rest: str) -> None:
    assert parse.commands(text) == (found, rest)


def test_commands_make_the_post() -> None:
    body = (
        "tags: Produit, #b2b, lancement\ncategory: Annonces\nstatus: draft\ndate: 2026-03-20 08:15\nlang: en\nslug: Mon Billet!\nsummary: A short one.\n\n"
        + FR_TEXT
    )
    post = post_of(mail(body, subject="[Produit] Notre offre #lancement"))
    assert (post.status, post.lang, post.slug, post.category) == (
        "draft",
        "en",
        "mon-billet",
        "Annonces",
    )
    assert post.tags == ("lancement", "Produit", "b2b")
    assert post.date == dt.datetime(2026, 3, 20, 8, 15, tzinfo=PARIS)
    assert post.summary == "A short one."
    assert post.body == FR_TEXT


def test_commands_in_html_divs() -> None:
    html = (
        "<div>statut : brouillon</div><div>tags: a_b</div><div><br></div><div>"
        + FR_TEXT
        + "</div>"
    )
    post = post_of(mail(html, subtype="html"))
    assert post.status == "draft" and post.tags == ("a_b",)
    assert post.body == FR_TEXT


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("date: demain", "date"),
        ("lang: de", "de"),
        ("status: maybe", "status: draft"),
        ("slug: ???", "slug"),
    ],
)
def test_bad_commands_refused(command: str, words: str) -> None:
    assert words in refusal_of(mail(f"{command}\n\n{FR_TEXT}"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-20", dt.datetime(2026, 3, 20, tzinfo=PARIS)),
        ("2026-03-20 08:15", dt.datetime(2026, 3, 20, 8, 15, tzinfo=PARIS)),
        ("2026-07-01T12:00:00+00:00", dt.datetime(2026, 7, 1, 14, 0, tzinfo=PARIS)),
        ("20/03/2026 8h30", dt.datetime(2026, 3, 20, 8, 30, tzinfo=PARIS)),
        ("32/13/2026", None),
    ],
)
def test_command_dates(value: str, expected: dt.datetime | None) -> None:
    assert parse.parse_command_date(value, PARIS) == expected


# --- date, language, message-id -------------------------------------------------


def test_date_from_the_header_in_the_site_zone() -> None:
    assert post_of(mail()).date == dt.datetime(2026, 3, 14, 10, 30, tzinfo=PARIS)
    assert post_of(mail(date="Sat, 14 Mar 2026 09:30:00 -0000")).date.hour == 10


def test_missing_or_broken_date() -> None:
    arrived = dt.datetime(2026, 3, 15, 7, 0, tzinfo=dt.UTC)
    for date in ("", "not a date at all"):
        msg = mail(date=date)
        assert "date" in refusal_of(msg)
        assert post_of(msg, received_at=arrived).date == dt.datetime(
            2026, 3, 15, 8, 0, tzinfo=PARIS
        )


@pytest.mark.parametrize(
    ("text", "author", "languages", "lang"),
    [
        (FR_TEXT, JOHN, ("fr", "en"), "fr"),
        (EN_TEXT, CLAIRE, ("fr", "en"), "en"),
        ("OK 👍", JOHN, ("fr", "en"), "en"),  # too little text: the author's
        ("OK 👍", CLAIRE, ("fr", "en"), "fr"),
        (EN_TEXT, CLAIRE, ("fr",), "fr"),  # only the blog's languages
        ("OK", JOHN, ("fr", "de"), "de"),  # author's lang not offered: default
    ],
)
def test_language(
    text: str, author: Author, languages: tuple[str, ...], lang: str
) -> None:
    post = post_of(
        mail(text, subject="Photo"),
        author=author,
        languages=languages,
        default_lang=languages[-1],
    )
    assert post.lang == lang


def test_message_id() -> None:
    assert post_of(mail()).message_id == "<m1@example.com>"
    msg = mail()
    del msg["Message-ID"]
    assert post_of(msg, raw_digest="ab12").message_id == "<ab12@causerie>"
    assert post_of(msg).message_id == post_of(msg).message_id  # stable without a digest


# --- body structure and charsets --------------------------------------------------


def image_part(
    data: bytes, name: str, cid: str | None = None, disposition: str = "inline"
) -> MIMEBase:
    part = MIMEBase("image", "jpeg", name=name)
    part.set_payload(data)
    from email import encoders

    encoders.encode_base64(part)
    part.add_header("Content-Disposition", disposition, filename=name)
    if cid:
        part.add_header("Content-ID", f"<{cid}>")
    return part


def envelope(root: MIMEMultipart, subject: str = "Notre offre") -> EmailMessage:
    root["Subject"] = subject
    root["Date"] = DATE
    root["Message-ID"] = "<m2@example.com>"
    return reparse(root)


def test_apple_mail_nested_structure() -> None:
    # multipart/alternative > (text/plain, multipart/mixed > (html, image, html))
    mixed = MIMEMultipart("mixed")
    mixed.attach(
        MIMEText(
            "<html><body><div>Avant la photo : " + FR_TEXT + "</div></body></html>",
            "html",
            "utf-8",
        )
    )
    mixed.attach(image_part(jpeg("red"), "IMG_0042.jpeg"))
    mixed.attach(
        MIMEText(
            "<html><body><div>Après la photo.</div><br><div>Envoyé de mon iPhone</div></body></html>",
            "html",
            "utf-8",
        )
    )
    root = MIMEMultipart("alternative")
    root.attach(MIMEText("Avant la photo (texte seul).", "plain", "utf-8"))
    root.attach(mixed)
    msg = envelope(root)
    first_html = msg.get_body(("html",))  # what the stdlib gives: the first piece only
    assert first_html is not None and "Après" not in first_html.get_content()
    post = post_of(msg)
    blocks = post.body.split("\n\n")
    assert blocks[0].startswith("Avant la photo : Bonjour")
    assert blocks[1] == (
        "```gallery\n{static}/images/mail/2026/notre-offre/1.jpg | Photo 1 — Notre offre\n```"
    )
    assert blocks[2:] == ["Après la photo."]
    assert [(f.path, f.kind) for f in post.media] == [
        ("images/mail/2026/notre-offre/1.jpg", IMAGE),
    ]
    assert "texte seul" not in post.body and "iPhone" not in post.body


def test_cid_images_placed_in_order_and_gallery() -> None:
    html = (
        f"<p>{FR_TEXT}</p><p><img src='cid:b@x'></p><p>Entre deux.</p>"
        "<p><img src='cid:c@x'><img src='cid:a@x'></p><p>Fin.</p>"
    )
    related = MIMEMultipart("related")
    related.attach(MIMEText(html, "html", "utf-8"))
    for name in ("a", "b", "c"):  # attached in another order than shown
        related.attach(image_part(jpeg(), f"{name}.jpg", cid=f"{name}@x"))
    root = MIMEMultipart("mixed")
    root.attach(related)
    root.attach(image_part(jpeg("blue"), "d.jpg", disposition="attachment"))
    post = post_of(envelope(root))
    # Numbered in reading order (the order is the labels', below).
    assert gallery_alts(post.body) == [f"Photo {n} — Notre offre" for n in (1, 2, 3, 4)]
    galleries = re.findall(r"```gallery\n(.*?)\n```", post.body, re.DOTALL)
    # b alone, c and a: a run of two in one block, d at the end.
    assert [g.count("\n") + 1 for g in galleries] == [1, 2, 1]
    text = post.body
    assert text.index("Entre deux") < text.index("/2.jpg |") < text.index("Fin.")
    assert text.rindex("3.jpg |") < text.index("Fin.") < text.index("4.jpg |")
    images = [f for f in post.media if f.kind == IMAGE]
    assert [f.label for f in images] == ["b.jpg", "c.jpg", "a.jpg", "d.jpg"]
    assert [f.path.rsplit("/", 1)[1] for f in images] == [
        "1.jpg",
        "2.jpg",
        "3.jpg",
        "4.jpg",
    ]


def test_photos_only_with_unnamed_images() -> None:
    root = MIMEMultipart("mixed")
    root.attach(MIMEText("", "plain", "utf-8"))
    root.attach(image_part(jpeg(), ""))
    root.attach(image_part(jpeg(), ""))
    post = post_of(envelope(root))
    assert gallery_alts(post.body) == [
        "Photo 1 — Notre offre",
        "Photo 2 — Notre offre",
    ]
    assert post.body.count("```gallery\n") == 1


def test_signature_logo_dropped_with_its_signature() -> None:
    html = f"<p>{FR_TEXT}</p><div class='gmail_signature'>Claire<img src='cid:logo@x'></div>"
    related = MIMEMultipart("related")
    related.attach(MIMEText(html, "html", "utf-8"))
    related.attach(image_part(jpeg(), "logo.png", cid="logo@x"))
    post = post_of(envelope(related))
    assert post.body == FR_TEXT and post.media == ()


def png_bytes(size: tuple[int, int], color: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def outlook_message(html_body: str, logo: bytes) -> EmailMessage:
    """Shaped as Outlook for Windows sends it: related (alternative (plain,
    html), image001.png inline with a Content-ID), Word's HTML."""
    import base64

    cid = "image001.png@01DB4A2C.5E6F7080"
    logo64 = base64.encodebytes(logo).decode().replace("\n", "\r\n")
    raw = (
        "Subject: Catalogue\r\nDate: " + DATE + "\r\nMessage-ID: <o1@x.fr>\r\n"
        "MIME-Version: 1.0\r\nX-Mailer: Microsoft Outlook 16.0\r\n"
        'Content-Type: multipart/related; boundary="----=_NextPart_000_0005_01DB4A2C.5E6F7080"; '
        'type="multipart/alternative"\r\n\r\n'
        "This is a multi-part message in MIME format.\r\n\r\n"
        "------=_NextPart_000_0005_01DB4A2C.5E6F7080\r\n"
        'Content-Type: multipart/alternative; boundary="----=_NextPart_001_0006_01DB4A2C.5E6F7080"\r\n\r\n'
        "------=_NextPart_001_0006_01DB4A2C.5E6F7080\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        f"{FR_TEXT}\r\n\r\nClaire Dubois\r\n[cid:{cid}]\r\n\r\n"
        "------=_NextPart_001_0006_01DB4A2C.5E6F7080\r\n"
        'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        '<meta name=Generator content="Microsoft Word 15 (filtered medium)"></head>'
        "<body lang=FR><div class=WordSection1>"
        f"<p class=MsoNormal>{FR_TEXT}<o:p></o:p></p>"
        + html_body.replace("CID", cid)
        + "</div></body></html>\r\n\r\n"
        "------=_NextPart_001_0006_01DB4A2C.5E6F7080--\r\n\r\n"
        "------=_NextPart_000_0005_01DB4A2C.5E6F7080\r\n"
        'Content-Type: image/png; name="image001.png"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        f"Content-ID: <{cid}>\r\n"
        'Content-Disposition: inline; filename="image001.png"\r\n\r\n'
        + logo64
        + "\r\n------=_NextPart_000_0005_01DB4A2C.5E6F7080--\r\n"
    )
    parsed = BytesParser(policy=policy.default).parsebytes(raw.encode())
    assert isinstance(parsed, EmailMessage)
    return parsed


LOGO_IMG = (
    '<img width=120 height=40 id="Picture_x0020_1" src="cid:CID" alt="Maison Lumen">'
)


# Issue 12 item 8: Outlook's signature logo is not a photo.
@pytest.mark.parametrize(
    ("signature", "logo_size"),
    [
        # Outlook for Windows: Word's bookmark where the signature starts.
        (
            '<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal><a name="_MailAutoSig">'
            "<span>Claire Dubois</span></a><o:p></o:p></p>"
            f"<p class=MsoNormal><span>{LOGO_IMG}</span><o:p></o:p></p>",
            (120, 40),
        ),
        # Outlook on the web / new Outlook.
        (
            f'<div id="Signature"><p>Claire Dubois</p><p>{LOGO_IMG}</p></div>',
            (120, 40),
        ),
        # A signature generator's table.
        (
            f'<table class="x_email-signature"><tr><td>{LOGO_IMG}</td>'
            "<td>Claire Dubois</td></tr></table>",
            (120, 40),
        ),
        # After the "-- " separator.
        (f"<p class=MsoNormal>-- </p><p>Claire Dubois</p><p>{LOGO_IMG}</p>", (120, 40)),
        # No signature marker, but a 48×48 icon: a logo, not a photo.
        (f"<p class=MsoNormal>Claire Dubois {LOGO_IMG}</p>", (48, 48)),
    ],
)
def test_outlook_signature_logo_is_not_a_photo(
    signature: str, logo_size: tuple[int, int]
) -> None:
    post = post_of(outlook_message(signature, png_bytes(logo_size)))
    assert FR_TEXT in post.body
    assert post.media == (), [m.path for m in post.media]
    assert "image001" not in post.body and "cid:" not in post.body


def test_text_typed_inside_ios_apple_mail_signature_is_kept() -> None:
    # iOS Mail often leaves the cursor, so the author's text, in its
    # signature block: only the footer goes.
    html = (
        f'<div dir="ltr"></div><div dir="ltr" id="AppleMailSignature">{FR_TEXT}'
        "<br><br>Envoyé de mon iPhone</div>"
    )
    post = post_of(mail(html, subtype="html"))
    assert post.body == FR_TEXT


def test_an_outlook_photo_in_the_text_is_still_a_photo() -> None:
    html = f"<p class=MsoNormal>{LOGO_IMG.replace('120', '640')}</p>"
    post = post_of(outlook_message(html, png_bytes((640, 480))))
    assert [m.kind for m in post.media] == [IMAGE]


def test_a_tiny_image_the_author_attached_is_kept() -> None:
    root = MIMEMultipart("mixed")
    root.attach(MIMEText(FR_TEXT, "plain", "utf-8"))
    root.attach(
        image_part(png_bytes((32, 32)), "favicon.png", disposition="attachment")
    )
    post = post_of(envelope(root))
    assert [m.kind for m in post.media] == [IMAGE]


def with_attachment(data: bytes, ctype: str, name: str) -> EmailMessage:
    root = MIMEMultipart("mixed")
    root.attach(MIMEText(FR_TEXT, "plain", "utf-8"))
    maintype, subtype = ctype.split("/")
    part = MIMEBase(maintype, subtype, name=name)
    part.set_payload(data)
    from email import encoders

    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=name)
    root.attach(part)
    return envelope(root)


# Issue 12 item 11: each unsupported attachment gets the advice that fits.
@pytest.mark.parametrize(
    ("data", "ctype", "name", "french", "english"),
    [
        (
            b"\x78\x9f\x3e\x22\x00\x00\x01\x06\x90\x08",
            "application/ms-tnef",
            "winmail.dat",
            ["Outlook", "ce n’est pas une pièce que vous avez jointe", "HTML"],
            ["Outlook", "not something you attached", "HTML"],
        ),
        (
            b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 40,
            "video/quicktime",
            "IMG_0412.MOV",
            ["« IMG_0412.MOV » est une vidéo", "lien"],
            ["“IMG_0412.MOV” is a video", "link"],
        ),
        (
            b"AC1032\x00\x00binary drawing",
            "application/acad",
            "plan.dwg",
            ["« plan.dwg »", "convertissez-la en PDF"],
            ["“plan.dwg”", "convert it to PDF"],
        ),
    ],
)
def test_refusals_name_the_cause(
    data: bytes, ctype: str, name: str, french: list[str], english: list[str]
) -> None:
    fr = refusal_of(with_attachment(data, ctype, name))
    en = refusal_of(with_attachment(data, ctype, name), author=JOHN)
    assert all(w in fr for w in french), fr
    assert all(w in en for w in english), en
    if name != "plan.dwg":
        assert "PDF" not in fr and "PDF" not in en


@pytest.mark.parametrize(
    ("charset", "cte", "raw"),
    [
        ("utf-8", "8bit", "Été à Nîmes : 5 € « chèvre »".encode()),
        (
            "iso-8859-1",
            "quoted-printable",
            b"=C9t=E9 =E0 N=EEmes : 5 =80 =AB ch=E8vre =BB",
        ),
        ("iso-8859-15", "8bit", "Été à Nîmes : 5 € « chèvre »".encode("iso-8859-15")),
        ("windows-1252", "base64", "Été à Nîmes : 5 € « chèvre »".encode("cp1252")),
        (
            "utf-8",
            "8bit",
            "Été à Nîmes : 5 € « chèvre »".encode("cp1252"),
        ),  # mislabelled
        ("", "8bit", "Été à Nîmes : 5 € « chèvre »".encode("cp1252")),  # unlabelled
        ("x-unknown", "8bit", "Été à Nîmes : 5 € « chèvre »".encode()),
    ],
)
def test_charsets(charset: str, cte: str, raw: bytes) -> None:
    import base64

    payload = base64.encodebytes(raw) if cte == "base64" else raw
    label = f"; charset={charset}" if charset else ""
    message = (
        b"Subject: Test\r\nDate: " + DATE.encode() + b"\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain" + label.encode() + b"\r\n"
        b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n" + payload + b"\r\n"
    )
    post = post_of(BytesParser(policy=policy.default).parsebytes(message))
    assert post.body == "Été à Nîmes : 5 € « chèvre »"


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        (b"caf\xc3\xa9", "utf-8", "café"),
        (b"caf\xe9", "utf-8", "café"),
        (b"\x93ok\x94 \x80", "iso-8859-1", "“ok” €"),
        (b"\xa4", "iso-8859-15", "€"),
        (b"\x81", "windows-1252", "\x81"),
    ],
)
def test_decode_bytes(data: bytes, charset: str, text: str) -> None:
    assert decode_bytes(data, charset) == text


def test_format_flowed() -> None:
    assert (
        unflow("Un texte qui \ncontinue ici.\n>cit\u00e9 \n>suite\n-- \nsig")
        == "Un texte qui continue ici.\n> cité suite\n-- \nsig"
    )
    assert unflow("mot\u00a0\ncoup\u00e9", delsp=False) == "mot\u00a0\ncoupé"
    assert unflow("coup \n\u00e9", delsp=True) == "coupé"


# --- signatures and quotes ---------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nClaire Dubois\nDirectrice",
        "--\nClaire",
        "Sent from my iPhone",
        "Envoyé de mon iPhone",
        "Envoyé de mon mobile",
        "Get Outlook for iOS",
        "Get [Outlook for Android](https://aka.ms/ghei36)",
        "Obtenir Outlook pour iOS",
        "Sent from my Samsung Galaxy smartphone.",
        "Envoyé depuis mon smartphone Samsung Galaxy.",
        "Sent from Yahoo Mail on Android",
        "Envoyé à partir de Courrier pour Windows",
        "Sent from my Huawei phone",
    ],
)
def test_signatures_cut(signature: str) -> None:
    text = f"Premier paragraphe.\n\nSecond.\n\n{signature}"
    assert cut_signature(text) == ("Premier paragraphe.\n\nSecond.", True)


@pytest.mark.parametrize(
    "text",
    [
        "Titre\n---\n\nTexte",
        "Avant\n\n---\n\nAprès",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "| a | b |\n|--|--|\n| 1 | 2 |",
        "Nous avons envoyé de mon bureau un colis à nos clients",
        "Texte -- avec un tiret",
    ],
)
def test_rules_tables_and_prose_kept(text: str) -> None:
    assert cut_signature(text) == (text, False)


def test_plain_text_markdown_kept_signature_cut_through_the_parser() -> None:
    body = f"{FR_TEXT}\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n-- \nClaire\n06 12 34 56 78"
    post = post_of(mail(body))
    html_out = render(post.body)
    assert "<hr" in html_out and "<table>" in html_out and "06 12" not in html_out


@pytest.mark.parametrize(
    ("text", "all_quoted", "kept"),
    [
        (
            "Réponse.\n\nLe 12 mars 2026 à 10:00, Bob <bob@x.fr> a écrit :\n> Question ?\n> Suite",
            True,
            "Réponse.",
        ),
        (
            "Answer.\n\nOn Thu, Mar 12, 2026 at 10:00 AM Bob <bob@x.com>\nwrote:\n\n> Question?",
            True,
            "Answer.",
        ),
        ("Réponse.\n> cité\nSuite.", True, "Réponse.\nSuite."),
        (
            "Réponse.\n\n-----Original Message-----\nFrom: Bob\nQuestion",
            True,
            "Réponse.",
        ),
        (
            "Réponse.\n\nDe : Bob\nEnvoyé : jeudi 12 mars 2026\nÀ : Claire\nObjet : Question",
            True,
            "Réponse.",
        ),
        (
            "Un client nous a dit :\n\n> Bravo !",
            False,
            "Un client nous a dit :\n\n> Bravo !",
        ),
        (
            "Le directeur a écrit :\nun beau texte.",
            True,
            "Le directeur a écrit :\nun beau texte.",
        ),
    ],
)
def test_cut_quotes(text: str, all_quoted: bool, kept: str) -> None:
    assert cut_quotes(text, all_quoted_lines=all_quoted) == kept


# Issue 12 item 7: a Markdown blockquote in a fresh plain-text post is the
# author's text; only a reply's quote (attribution, forward header, or a
# message that answers another) is cut.
BLOCKQUOTE = (
    "Un client nous a écrit après l’atelier :\n\n"
    "> Ma lampe de 1962 marche de nouveau.\n"
    "> Merci à toute l’équipe !\n\n"
    "Nous en sommes très fiers."
)


def test_a_blockquote_in_a_fresh_plain_text_post_is_kept() -> None:
    post = post_of(mail(BLOCKQUOTE))
    assert "Ma lampe de 1962" in post.body and "Merci à toute" in post.body
    html_out = render(post.body)
    assert "<blockquote>" in html_out and "très fiers" in html_out


def test_a_trailing_blockquote_without_attribution_is_kept() -> None:
    body = "Le mot du jour :\n\n> La lumière est un métier."
    post = post_of(mail(body))
    assert "<blockquote>" in render(post.body)


def test_quotes_of_a_reply_are_cut() -> None:
    post = post_of(
        mail(
            "Réponse à la question de Karim : oui, le samedi.\n\n> On ouvre le samedi ?\n",
            in_reply_to="<q1@maison-lumen.example>",
        )
    )
    assert "On ouvre" not in post.body and "le samedi." in post.body


def test_a_quote_under_an_attribution_is_cut_in_a_fresh_post() -> None:
    body = (
        BLOCKQUOTE
        + "\n\nLe 12 mars 2026 à 10:00, Karim <karim@x.fr> a écrit :\n> Ancien texte\n"
    )
    post = post_of(mail(body))
    assert "Ancien texte" not in post.body and "Ma lampe de 1962" in post.body


@pytest.mark.parametrize(
    "quoted",
    [
        '<blockquote type="cite"><div>On 12 Mar 2026, Bob wrote:</div><div>Old text</div></blockquote>',
        '<div class="gmail_quote"><div class="gmail_attr">Le jeu. 12 mars 2026, Bob a écrit :</div><blockquote>Old text</blockquote></div>',
        '<div>Le 12 mars 2026, Bob a écrit :</div><blockquote type="cite">Old text</blockquote>',
        '<hr><div id="divRplyFwdMsg"><b>De :</b> Bob</div><div>Old text</div><p>Old text 2</p>',
        '<div class="moz-cite-prefix">Le 12/03/2026, Bob a écrit :</div><blockquote type="cite">Old text</blockquote>',
        '<div style="display:none">Old text preheader</div>',
        '<p class=MsoNormal><a name="_MailOriginal"><b>De :</b> Bob</a></p><p class=MsoNormal>Old text</p>',
    ],
)
def test_html_quotes_removed(quoted: str) -> None:
    post = post_of(mail(f"<div>{FR_TEXT}</div>{quoted}", subtype="html"))
    assert post.body == FR_TEXT


@pytest.mark.parametrize(
    "signature",
    [
        "<div><br></div><div>Envoyé de mon iPhone</div>",
        '<br><span class="gmail_signature_prefix">-- </span><br><div class="gmail_signature">Claire</div>',
        '<div class="moz-signature">-- <br>Claire</div>',
        '<div id="ms-outlook-mobile-signature">Get <a href="https://aka.ms/o0ukef">Outlook for iOS</a></div>',
        "<div>-- </div><div>Claire Dubois</div>",
    ],
)
def test_html_signatures_removed(signature: str) -> None:
    post = post_of(mail(f"<div>{FR_TEXT}</div>{signature}", subtype="html"))
    assert post.body == FR_TEXT


# --- safety --------------------------------------------------------------------------


XSS = [
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">clic</a>',
    '<a href="  jav&#x09;ascript:alert(1)">clic</a>',
    "<svg onload=alert(1)><circle/></svg>",
    "[clic](javascript:alert(1))",
    "&lt;div markdown=1&gt;&lt;img src=x onerror=alert(1)&gt;&lt;/div&gt;",
    "# Titre {: onclick=alert(1) }",
    "<pre>```\n&lt;script&gt;alert(1)&lt;/script&gt;\n```</pre>",
    "<ul><li><pre>&lt;script&gt;alert(1)&lt;/script&gt;</pre></li></ul>",
    "<code>&lt;script&gt;</code> et <code>`&lt;/code&gt;&lt;script&gt;`</code>",
    "&lt;a href=javascript:alert(1)&gt;x&lt;/a&gt;",
]


@pytest.mark.parametrize("payload", XSS)
def test_html_mail_cannot_revive_html(payload: str) -> None:
    post = post_of(mail(f"<div>{FR_TEXT}</div><div>{payload}</div>", subtype="html"))
    assert_inert(render(post.body))


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "[clic](javascript:alert(1))",
        "[clic]( JaVaScRiPt:alert(1))",
        "[clic](<javascript:alert(1)>)",
        "![x](data:text/html,<script>alert(1)</script>)",
        "[clic][1]\n\n[1]: javascript:alert(1)",
        "# Titre {: onclick=alert(1) }",
        "Paragraphe\n{: onmouseover=alert(1) }",
        '<div markdown="1">*x*</div>',
        "<javascript:alert(1)>",
        "```\n<script>alert(1)</script>\n```",
        "- item\n\n    <script>alert(1)</script>",
    ],
)
def test_plain_mail_cannot_revive_html(payload: str) -> None:
    post = post_of(mail(f"{FR_TEXT}\n\n{payload}"))
    assert_inert(render(post.body))


def test_safe_links_and_text_stay() -> None:
    post = post_of(
        mail(
            f"<div>{FR_TEXT} <a href='https://example.com/a?b=1&c=(2)'>le site</a> 5 &lt; 6 &amp; *pas* _gras_ #tag [x]</div>",
            subtype="html",
        )
    )
    html_out = render(post.body)
    assert '<a href="https://example.com/a?b=1&amp;c=%282%29">le site</a>' in html_out
    assert "5 &lt; 6 &amp; *pas* _gras_ #tag [x]" in html_out
    plain = post_of(
        mail(f"{FR_TEXT}\n\n[site](https://example.com) <https://example.org> **gras**")
    )
    html_out = render(plain.body)
    assert '<a href="https://example.com">site</a>' in html_out
    assert '<a href="https://example.org">https://example.org</a>' in html_out
    assert "<strong>gras</strong>" in html_out


def test_remote_images_are_not_shown() -> None:
    post = post_of(
        mail(
            f"<div>{FR_TEXT}<img src='https://tracker.example/p.gif'></div>",
            subtype="html",
        )
    )
    assert "tracker" not in post.body


@pytest.mark.parametrize(
    "text", ["<b>&amp;", "a_b *c* [d](e) {f} #g |h| `i` \\j", "- x\n+ y\n1. z\n> q"]
)
def test_escape_literal_renders_the_text(text: str) -> None:
    rendered = render(escape_literal(text))
    assert (
        re.sub(r"<[^>]+>", "", rendered)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        == text
    )


def test_defuse_keeps_ordinary_markdown() -> None:
    text = "# Titre\n\n- un\n- deux\n\n**gras** [lien](https://x.fr) [rel](/page)"
    assert defuse_markdown(text) == text


# --- attachments -----------------------------------------------------------------------


def with_attachments(*parts: tuple[bytes, str, str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "Rapport"
    msg["Date"] = DATE
    msg["Message-ID"] = "<m3@example.com>"
    msg.set_content(FR_TEXT)
    for data, ctype, name in parts:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return reparse(msg)


def test_documents_become_download_links() -> None:
    post = post_of(with_attachments(
        (b"%PDF-1.7 ...", "application/pdf", "Rapport annuel [final].pdf"),
        (b"a;b\n1;2\n", "text/csv", "../../etc/ventes.csv"),
    ))  # fmt: skip
    docs = [f for f in post.media if f.kind == DOCUMENT]
    assert [(f.path, f.media_type, f.label) for f in docs] == [
        (
            "images/mail/2026/rapport/rapport-annuel-final.pdf",
            "application/pdf",
            "Rapport annuel [final].pdf",
        ),
        ("images/mail/2026/rapport/ventes.csv", "text/csv", "ventes.csv"),
    ]
    # One downloads block (docs/albums.md), each under its sender's name.
    assert post.body.endswith(
        "```downloads\n"
        "{static}/images/mail/2026/rapport/rapport-annuel-final.pdf"
        " | Rapport annuel [final].pdf\n"
        "{static}/images/mail/2026/rapport/ventes.csv | ventes.csv\n```"
    )


@pytest.mark.parametrize(
    ("data", "ctype", "name", "words"),
    [
        (
            b"MZ\x90\x00 This program",
            "application/pdf",
            "facture.pdf",
            "« facture.pdf » n’est pas d’un type",
        ),
        (b"<svg onload=alert(1)/>", "image/svg+xml", "logo.svg", "« logo.svg »"),
        (
            b"\xff\xd8\xff garbage",
            "image/jpeg",
            "IMG_1.jpg",
            "« IMG_1.jpg » ne peut pas être lue",
        ),
    ],
)
def test_attachments_refused(data: bytes, ctype: str, name: str, words: str) -> None:
    assert words in refusal_of(with_attachments((data, ctype, name)))


def test_forwarded_message_attachment_refused() -> None:
    inner = mail("Old")
    msg = with_attachments()
    msg.add_attachment(inner)
    assert "message" in refusal_of(reparse(msg), author=JOHN)


def test_limits() -> None:
    three = with_attachments(*[(jpeg(), "image/jpeg", f"{i}.jpg") for i in range(3)])
    assert "3 pièces jointes (au plus 2)" in refusal_of(
        three, settings=MailSettings(max_attachments=2)
    )
    assert "attachments weigh" in refusal_of(
        three, author=JOHN, settings=MailSettings(max_attachments_bytes=100)
    )
    assert "trop gros" in refusal_of(
        three, settings=MailSettings(max_message_bytes=1000)
    )
    assert "trop gros" in refusal_of(mail(), raw_size=31_000_000)
    post = post_of(three, settings=MailSettings(max_attachments=3))
    assert len([f for f in post.media if f.kind == IMAGE]) == 3


def test_images_resized_with_settings() -> None:
    msg = with_attachments((jpeg(size=(1000, 500)), "image/jpeg", "large.jpg"))
    post = post_of(msg, settings=MailSettings(image_max_px=400, thumbnail_px=100))
    sizes = {f.kind: Image.open(io.BytesIO(f.data)).size for f in post.media}
    assert sizes == {IMAGE: (400, 200)}  # the albums plugin makes the other sizes


def test_empty_message_refused() -> None:
    assert "écrivez quelques lignes" in refusal_of(mail("\n\nEnvoyé de mon iPhone\n"))
    assert "write a few lines" in refusal_of(
        mail("<div><br></div>", subtype="html"), author=JOHN
    )
    pdf_only = with_attachments((b"%PDF-1.4", "application/pdf", "a.pdf"))
    pdf_only.get_body(("plain",)).set_content("")  # type: ignore[union-attr]
    assert "écrivez quelques lignes" in refusal_of(reparse(pdf_only))


def test_defaults() -> None:
    post = post_of(mail(), settings=MailSettings(default_category="Actualités"))
    assert (post.status, post.category, post.author, post.tags, post.summary) == (
        "published",
        "Actualités",
        "Claire Dubois",
        (),
        None,
    )


def test_a_multipart_without_boundary_is_read_as_its_text() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nLe texte, sans fronti\xc3\xa8re.\r\n"
    )
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    (fragment,) = choose_body(msg)
    assert isinstance(fragment, Fragment) and fragment.kind == "plain"
    assert fragment.text.strip() == "Le texte, sans frontière."


@pytest.mark.parametrize(
    "text, expected",
    [
        # Issue 12, item 3: with require_secret, "secret: …" then SUPPRIMER
        # was an edit whose whole text was "SUPPRIMER".
        ("secret: s3\r\n\r\nSUPPRIMER\r\n", ("delete", "")),
        ("\n\nDelete.\n", ("delete", "")),
        ("MODIFIER\nNouveau texte.\n", ("edit", "Nouveau texte.")),
        ("edit :\ntags: a\n", ("edit", "tags: a")),
        ("Merci !\n", (None, "Merci !\n")),
        ("Je vais SUPPRIMER ça\n", (None, "Je vais SUPPRIMER ça\n")),
        ("> SUPPRIMER\n", (None, "> SUPPRIMER\n")),
    ],
)
def test_a_reply_command_is_only_a_first_line_command(
    text: str, expected: tuple[str | None, str]
) -> None:
    assert parse.reply_command(text) == expected


# --- malformed MIME and legacy charsets (issue 12 item 10) ---------------------------

HEAD = (
    b"Subject: Atelier\r\nDate: Sat, 14 Mar 2026 09:30:00 +0000\r\n"
    b"Message-ID: <broken@example.com>\r\nMIME-Version: 1.0\r\n"
)
SENTENCE = "Bonjour à tous, l’atelier de réparation ouvre samedi et nous serons très heureux de vous accueillir."


def from_bytes(raw: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def b64(data: bytes) -> bytes:
    import base64

    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def qp(text: str) -> bytes:
    import quopri

    return quopri.encodestring(text.encode()).replace(b"\n", b"\r\n")


PHOTO = jpeg("teal", (320, 240))

REPAIRED = {
    "boundary parameter that the body does not use": HEAD
    + b'Content-Type: multipart/alternative; boundary="=_Part_1"\r\n\r\n'
    + b"--=_Part_0_1234.5678\r\nContent-Type: text/plain; charset=utf-8\r\n"
    + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    + qp(SENTENCE)
    + b"\r\n--=_Part_0_1234.5678\r\nContent-Type: text/html; charset=utf-8\r\n"
    + b"Content-Transfer-Encoding: base64\r\n\r\n"
    + b64(f"<div>{SENTENCE}</div>".encode())
    + b"--=_Part_0_1234.5678--\r\n",
    "no boundary parameter at all": HEAD
    + b"Content-Type: multipart/mixed\r\n\r\n"
    + b"--XyZ123\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    + SENTENCE.encode()
    + b"\r\n--XyZ123--\r\n",
    "base64 declared, plain text written": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + SENTENCE.encode()
    + b"\r\n",
    "base64 written, 7bit declared": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
    + b64(SENTENCE.encode()),
    "quoted-printable written, 8bit declared": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + qp(SENTENCE),
    "quoted-printable written, no CTE": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    + qp(SENTENCE),
    "a part of headers only, nameless": HEAD
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    + SENTENCE.encode()
    + b"\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
    + b"Content-Transfer-Encoding: base64\r\n--b1--\r\n",
    "binary CTE on an 8-bit text": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    + SENTENCE.encode()
    + b"\r\n",
}


@pytest.mark.parametrize("name", list(REPAIRED))
def test_malformed_mime_is_decoded(name: str) -> None:
    post = post_of(from_bytes(REPAIRED[name]))
    assert post.body == SENTENCE


def test_a_photo_in_base64_without_its_cte_is_a_photo() -> None:
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="b2"\r\n\r\n'
        b"--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + SENTENCE.encode()
        + b'\r\n--b2\r\nContent-Type: image/jpeg; name="IMG_1.jpg"\r\n'
        b'Content-Disposition: attachment; filename="IMG_1.jpg"\r\n\r\n'
        + b64(PHOTO)
        + b"--b2--\r\n"
    )
    post = post_of(from_bytes(raw))
    assert [m.kind for m in post.media] == [IMAGE]


def test_a_named_part_of_headers_only_is_refused_with_its_name() -> None:
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="b3"\r\n\r\n'
        b"--b3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + SENTENCE.encode()
        + b'\r\n--b3\r\nContent-Type: image/jpeg; name="IMG_2.jpg"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="IMG_2.jpg"\r\n--b3--\r\n'
    )
    reason = refusal_of(from_bytes(raw))
    assert "« IMG_2.jpg » est arrivée vide" in reason
    assert "“IMG_2.jpg” arrived empty" in refusal_of(from_bytes(raw), author=JOHN)


RAW_MIME = {
    # A forward pasted with its MIME: headers and base64 in a text part.
    "headers": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    + SENTENCE.encode()
    + b"\r\n\r\n------=_NextPart_000_0001\r\nContent-Type: image/jpeg\r\n"
    + b"Content-Transfer-Encoding: base64\r\n\r\n"
    + b64(PHOTO)[:400]
    + b"\r\n",
    # A body of base64 after the text, in a part that says 8bit.
    "base64": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + SENTENCE.encode()
    + b"\r\n\r\n"
    + b64(PHOTO)[:800],
    # Quoted-printable encoded again in base64 (a gateway's double
    # encoding): once base64 is undone, the text is still quoted-printable.
    "quoted-printable": HEAD
    + b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64(
        qp(
            f"<p>{SENTENCE} Venez nombreux avec vos lampes en panne, nous les réparerons.</p>"
        )
    ),
}


@pytest.mark.parametrize("what", list(RAW_MIME))
def test_raw_mime_is_never_a_post(what: str) -> None:
    reason = refusal_of(from_bytes(RAW_MIME[what]))
    assert "arrivé abîmé" in reason, reason
    english = refusal_of(from_bytes(RAW_MIME[what]), author=JOHN)
    assert "arrived damaged" in english and what in english


@pytest.mark.parametrize(
    "text",
    [
        SENTENCE,
        "Le prix = 15 € et la remise = 10 %.\nE=mc2, disait-il.",
        "Notre lien : https://example.com/a?token=QWxhZGRpbjpvcGVuIHNlc2FtZQ==&x=1",
        "Content-Type est un en-tête, dit le technicien.",
        "Le dossier : https://lumen.sharepoint.example/:f:/s/Atelier/"
        + "EaBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789" * 6
        + "?e=AB12CD&x=EF&y=0A&z=9B",
        "| a | b |\n|---|---|\n| 1 | 2 |",
    ],
)
def test_prose_is_not_taken_for_mime(text: str) -> None:
    from causerie.mailposts.mime import looks_like_mime

    assert looks_like_mime(text) is None


LEGACY = [
    ("big5", None, "我們的新燈具系列今天上市，歡迎大家到店裡參觀。"),
    ("gb2312", "iso-8859-1", "我们的新灯具系列今天上市，欢迎大家到店里参观。"),
    (
        "gbk",
        "us-ascii",
        "我们的新灯具系列今天上市，欢迎大家到店里参观。工作坊周六开放。",
    ),
    (
        "shift_jis",
        None,
        "新しいランプのシリーズが本日発売されました。ぜひお店にお越しください。",
    ),
    (
        "koi8_r",
        "us-ascii",
        "Наша новая серия ламп поступила в продажу сегодня. Приходите!",
    ),
    ("cp1251", None, "Наша новая серия ламп поступила в продажу сегодня."),
    (
        "cp1252",
        None,
        "« Une lampe qui se répare » — c’est notre promesse. Le kit coûte 15 €.",
    ),
    (
        "latin-1",
        "utf-8",
        "Chères clientes, l'atelier sera fermé du 24 décembre au 2 janvier.",
    ),
    ("big5", "big5", "我們的新燈具系列今天上市。"),
]


@pytest.mark.parametrize(("encoding", "declared", "text"), LEGACY)
def test_legacy_8bit_bodies_are_read(
    encoding: str, declared: str | None, text: str
) -> None:
    label = f"; charset={declared}".encode() if declared else b""
    raw = (
        HEAD + b"Content-Type: text/plain" + label + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text.encode(encoding) + b"\r\n"
    )
    assert post_of(from_bytes(raw)).body == text


def test_a_forwarded_message_is_not_taken_for_an_empty_attachment() -> None:
    inner = MIMEText("Le message transféré.", "plain", "utf-8")
    inner["Subject"] = "Ancien"
    from email.mime.message import MIMEMessage

    root = MIMEMultipart("mixed")
    root.attach(MIMEText(FR_TEXT, "plain", "utf-8"))
    root.attach(MIMEMessage(inner))
    reason = refusal_of(envelope(root))
    assert "arrivée vide" not in reason and "message.eml" in reason


def test_a_text_attachment_that_looks_like_base64_is_kept_as_written() -> None:
    key = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIz\r\nMDEyMzQ1Njc4OQ==\r\n"
    root = MIMEMultipart("mixed")
    root.attach(MIMEText(FR_TEXT, "plain", "utf-8"))
    part = MIMEBase("text", "plain", name="cle.txt")
    part.set_payload(key)
    part.add_header("Content-Disposition", "attachment", filename="cle.txt")
    root.attach(part)
    (document,) = [m for m in post_of(envelope(root)).media if m.kind == DOCUMENT]
    assert document.data.replace(b"\r\n", b"\n") == key.replace(b"\r\n", b"\n")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Zażółć gęślą jaźń, Łódź.", "iso-8859-2"),
        ("Çok güzel, teşekkürler! İstanbul görüşürüz.", "cp1254"),
    ],
)
def test_an_unlabelled_latin_text_is_never_read_as_another_script(
    text: str, encoding: str
) -> None:
    # Without a label, another Latin code page cannot be told from
    # Windows-1252 reliably: the Windows-1252 reading stays (as before),
    # never a Cyrillic or CJK "detection".
    found = decode_bytes(text.encode(encoding), None)
    assert found == text.encode(encoding).decode("cp1252")
    assert all(ord(c) < 0x250 for c in found)
