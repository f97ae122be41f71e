"""Writes the golden messages of tests/data/mail/golden/: one .eml per mail
client we expect, shaped as that client shapes its mail (structure, charset,
transfer encoding, signature). Run it again only to change them; the .eml
files are the test data, and tests/test_mail_golden.py compares what the
pipeline makes of each with its .expected.md.

    .venv/bin/python tests/data/mail/make_golden.py

Deterministic: fixed dates, boundaries and Message-IDs; the photos are drawn
by Pillow (a rotated JPEG with GPS EXIF, a HEIC), the PDF written by hand.
"""

from __future__ import annotations

import io
from email.charset import QP, Charset
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "golden"
CLAIRE = "Claire Dubois <claire.dubois@maison-lumen.example>"
BLOG = "blog@maison-lumen.example"
AR = (
    "mx.maison-lumen.example; dkim=pass (2048-bit key; unprotected) "
    "header.d=maison-lumen.example header.i=@maison-lumen.example header.s=mail2026; "
    "spf=pass smtp.mailfrom=claire.dubois@maison-lumen.example"
)
_boundary = 0


def boundary() -> str:
    global _boundary
    _boundary += 1
    return f"Apple-Mail=_GOLDEN-{_boundary:04d}"


def headers(
    msg: Message, subject: str, date: str, mid: str, mailer: str | None
) -> Message:
    msg["Authentication-Results"] = AR
    msg["From"] = CLAIRE
    msg["To"] = BLOG
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = f"<{mid}>"
    if mailer:
        msg["X-Mailer"] = mailer
    return msg


def utf8_qp(text: str, subtype: str = "plain") -> MIMEText:
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return MIMEText(text, subtype, charset)  # type: ignore[arg-type]


def photo_with_gps(width: int = 640, height: int = 480) -> bytes:
    """A landscape JPEG whose EXIF says "rotate 90° clockwise" (Orientation 6),
    as a phone held upright writes it, with a GPS position and a camera model."""
    image = Image.new("RGB", (width, height), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 4, height), fill=(230, 200, 60))  # a marker edge
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (45.0, 46.0, 12.5)  # Lyon, the workshop
    gps[3], gps[4] = "E", (4.0, 48.0, 30.2)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def png(color: tuple[int, int, int], size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (180, 120, 70)).save(out, "HEIF", quality=60)
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF, written by hand (no library needed)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length 44 >>\nstream\nBT /F1 24 Tf 72 760 Td (Programme) Tj ET\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, xref)
    )
    return out.getvalue()


def attachment(
    data: bytes, maintype: str, subtype: str, name: str, cid: str | None = None
) -> MIMEBase:
    part: MIMEBase
    if maintype == "image":
        part = MIMEImage(data, subtype)
    else:
        part = MIMEApplication(data, subtype)
    part.add_header(
        "Content-Disposition", "inline" if cid else "attachment", filename=name
    )
    if cid:
        part["Content-ID"] = f"<{cid}>"
    return part


def iphone() -> Message:
    """iPhone Mail: the text, a photo in the middle, more text; the HTML side
    is Apple's nesting: alternative > mixed > (html, image, html)."""
    text_1 = "Bonjour à tous,\n\nLa première lampe Aube de la série d’hiver est sortie de l’atelier ce matin."
    text_2 = "Karim l’a montée en 40 minutes, abat-jour compris.\n\nClaire\n\nEnvoyé de mon iPhone"
    outer = MIMEMultipart("alternative", boundary=boundary())
    outer.attach(utf8_qp(text_1 + "\n\n" + text_2 + "\n"))
    mixed = MIMEMultipart("mixed", boundary=boundary())
    mixed.attach(
        utf8_qp(
            f'<html><body><div dir="auto">{text_1.replace(chr(10), "<br>")}</div><div dir="auto"><br></div></body></html>',
            "html",
        )
    )
    mixed.attach(
        attachment(
            photo_with_gps(), "image", "jpeg", "IMG_4021.jpeg", cid="4021@iphone"
        )
    )
    mixed.attach(
        utf8_qp(
            '<html><body><div dir="auto"><br></div><div dir="auto">Karim l’a montée en 40 minutes, abat-jour compris.</div><div dir="auto"><br></div><div dir="auto">Claire<br><br><div dir="ltr">Envoyé de mon iPhone</div></div></body></html>',
            "html",
        )
    )
    outer.attach(mixed)
    return headers(
        outer,
        "[Atelier] La première Aube d’hiver #lampes",
        "Mon, 30 Nov 2026 08:12:31 +0100",
        "C1A2-iphone@maison-lumen.example",
        "iPhone Mail (22B91)",
    )


def apple_mail_inline() -> Message:
    """macOS Apple Mail: related > html with two cid images in the text."""
    outer = MIMEMultipart("alternative", boundary=boundary())
    outer.attach(
        utf8_qp(
            "Deux vues de l’atelier de Vaise :\n\n[image: établi.png]\n\nEt la vitrine :\n\n[image: vitrine.png]\n\nClaire\n"
        )
    )
    related = MIMEMultipart("related", boundary=boundary())
    related.attach(
        utf8_qp(
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
            '<body style="overflow-wrap: break-word;"><div>Deux vues de l’atelier de Vaise :</div>'
            '<div><img src="cid:etabli@apple" alt="établi.png"></div><div>Et la vitrine :</div>'
            '<div><img src="cid:vitrine@apple" alt="vitrine.png"></div><div><br></div><div>Claire</div></body></html>',
            "html",
        )
    )
    related.attach(
        attachment(png((120, 80, 40)), "image", "png", "établi.png", cid="etabli@apple")
    )
    related.attach(
        attachment(
            png((200, 200, 220)), "image", "png", "vitrine.png", cid="vitrine@apple"
        )
    )
    outer.attach(related)
    return headers(
        outer,
        "Portes ouvertes : l’atelier en images",
        "Sun, 29 Nov 2026 18:40:02 +0100",
        "A7F0-applemail@maison-lumen.example",
        "Apple Mail (2.3826)",
    )


def gmail_web() -> Message:
    outer = MIMEMultipart("alternative", boundary=boundary())
    plain = (
        "Bonjour,\n\nNous ouvrons un **atelier de réparation** le samedi matin.\n\n"
        "- apportez votre lampe\n- nous changeons l’interrupteur\n\n"
        "--\nClaire Dubois\nMaison Lumen\n\n"
        "Le dim. 29 nov. 2026 à 10:02, Karim Haddad <karim.haddad@maison-lumen.example> a écrit :\n"
        "> On peut annoncer l’atelier ?\n"
    )
    outer.attach(utf8_qp(plain))
    outer.attach(
        utf8_qp(
            '<div dir="ltr"><div>Bonjour,</div><div><br></div><div>Nous ouvrons un <b>atelier de réparation</b> le samedi matin.</div>'
            "<ul><li>apportez votre lampe</li><li>nous changeons l’interrupteur</li></ul>"
            '<div><br></div><span class="gmail_signature_prefix">-- </span><br><div dir="ltr" class="gmail_signature">'
            '<div dir="ltr">Claire Dubois<div>Maison Lumen</div></div></div></div><br>'
            '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Le dim. 29 nov. 2026 à 10:02, Karim Haddad '
            "&lt;karim.haddad@maison-lumen.example&gt; a écrit :<br></div>"
            '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">On peut annoncer l’atelier ?</blockquote></div>',
            "html",
        )
    )
    return headers(
        outer,
        "Re: Atelier réparation le samedi",
        "Sun, 29 Nov 2026 10:15:44 +0100",
        "CAGmail-web-77@mail.gmail.com",
        None,
    )


def gmail_android() -> Message:
    outer = MIMEMultipart("alternative", boundary=boundary())
    outer.attach(
        utf8_qp(
            "Petit mot depuis le salon Maison & Objet : notre stand est le B12.\n\nEnvoyé de mon Galaxy\n"
        )
    )
    outer.attach(
        utf8_qp(
            '<div dir="auto">Petit mot depuis le salon Maison &amp; Objet : notre stand est le B12.</div><div dir="auto"><br></div><div dir="auto">Envoyé de mon Galaxy</div>',
            "html",
        )
    )
    return headers(
        outer,
        "Salon Maison & Objet",
        "Sat, 28 Nov 2026 15:03:10 +0100",
        "CAGmail-android-12@mail.gmail.com",
        None,
    )


def outlook_desktop() -> Message:
    """Outlook for Windows: Windows-1252, quoted-printable, MsoNormal HTML."""
    outer = MIMEMultipart("alternative", boundary=boundary())
    text = "Bonjour,\n\nLe nouveau catalogue est prêt : 12 lampes, dont 3 “réparables à vie”. Prix à partir de 89 €.\n\nCordialement,\nClaire\n"
    outer.attach(MIMEText(text, "plain", "windows-1252"))
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv=Content-Type content="text/html; charset=windows-1252">'
        "<style><!-- p.MsoNormal {margin:0cm;} --></style></head><body lang=FR><div class=WordSection1>"
        "<p class=MsoNormal>Bonjour,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal>Le nouveau catalogue est prêt : 12 lampes, dont 3 “réparables à vie”. Prix à partir de 89 €.<o:p></o:p></p>"
        "<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Cordialement,<o:p></o:p></p><p class=MsoNormal>Claire<o:p></o:p></p></div></body></html>"
    )
    part = MIMEText(html, "html", "windows-1252")
    outer.attach(part)
    return headers(
        outer,
        "Catalogue hiver 2026",
        "Fri, 27 Nov 2026 11:20:00 +0100",
        "DB9PR01MB-outlook-desktop@eurprd01.prod.outlook.com",
        "Microsoft Outlook 16.0",
    )


def outlook_mobile() -> Message:
    outer = MIMEMultipart("alternative", boundary=boundary())
    outer.attach(
        utf8_qp(
            "We are shipping to Montréal from January.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"
        )
    )
    outer.attach(
        utf8_qp(
            '<html><body><div dir="ltr">We are shipping to Montréal from January.</div><div dir="ltr"><br></div><div dir="ltr">Get <a href="https://aka.ms/o0ukef">Outlook for iOS</a></div></body></html>',
            "html",
        )
    )
    return headers(
        outer,
        "Shipping to Canada",
        "Thu, 26 Nov 2026 19:45:12 -0500",
        "outlook-mobile-3@phx.example.outlook.com",
        None,
    )


def latin1_qp() -> Message:
    msg = MIMEText(
        "Chères clientes, chers clients,\n\nL’atelier sera fermé du 24 décembre au 2 janvier.\n"
        "Bonnes fêtes à tous !\n\n-- \nClaire\n".replace("’", "'"),
        "plain",
        "iso-8859-1",
    )
    out = headers(
        msg,
        "Fermeture de fin d'année : à bientôt",
        "Wed, 25 Nov 2026 09:00:00 +0100",
        "latin1-qp-1@maison-lumen.example",
        "Thunderbird",
    )
    del out["Subject"]
    out["Subject"] = "=?ISO-8859-1?Q?Fermeture_de_fin_d'ann=E9e_:_=E0_bient=F4t?="
    return out


def windows_1252() -> Message:
    msg = MIMEText(
        "Bonjour,\n\n« Une lampe qui se répare » — c’est notre promesse depuis 2019. Le kit coûte 15 €.\n",
        "plain",
        "windows-1252",
    )
    return headers(
        msg,
        "Notre promesse",
        "Tue, 24 Nov 2026 14:30:00 +0100",
        "cp1252-1@maison-lumen.example",
        None,
    )


def heic_photo() -> Message:
    outer = MIMEMultipart("mixed", boundary=boundary())
    outer.attach(utf8_qp("La teinte « miel » de l’abat-jour en lin, en photo.\n"))
    outer.attach(attachment(heic(), "image", "heic", "IMG_5120.HEIC"))
    return headers(
        outer,
        "Abat-jour miel",
        "Mon, 23 Nov 2026 17:05:00 +0100",
        "heic-1@maison-lumen.example",
        "iPhone Mail (22B91)",
    )


def with_pdf() -> Message:
    outer = MIMEMultipart("mixed", boundary=boundary())
    outer.attach(utf8_qp("Le programme des portes ouvertes est en pièce jointe.\n"))
    outer.attach(
        attachment(pdf(), "application", "pdf", "Programme portes ouvertes.pdf")
    )
    return headers(
        outer,
        "Programme des portes ouvertes",
        "Sun, 22 Nov 2026 12:00:00 +0100",
        "pdf-1@maison-lumen.example",
        None,
    )


GOLDEN = {
    "iphone-mail": iphone,
    "apple-mail-inline": apple_mail_inline,
    "gmail-web": gmail_web,
    "gmail-android": gmail_android,
    "outlook-desktop": outlook_desktop,
    "outlook-mobile": outlook_mobile,
    "latin1-quoted-printable": latin1_qp,
    "windows-1252": windows_1252,
    "heic-photo": heic_photo,
    "pdf-attachment": with_pdf,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in GOLDEN.items():
        (OUT / f"{name}.eml").write_bytes(make().as_bytes())
        print("wrote", OUT / f"{name}.eml")


if __name__ == "__main__":
    main()
