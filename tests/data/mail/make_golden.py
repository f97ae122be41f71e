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
from collections.abc import Callable
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


# --- raw messages: shaped byte for byte, oddities included -------------------------

TOM = "Tom Whitfield <tom.whitfield@maison-lumen.example>"


def raw(
    subject: str,
    date: str,
    mid: str,
    content: str,
    body: bytes,
    *,
    sender: str = CLAIRE,
    extra: str = "",
    mime: bool = True,
) -> bytes:
    """A message as its client writes it: CRLF lines, our headers first."""
    head = (
        f"Authentication-Results: {AR}\r\nFrom: {sender}\r\nTo: {BLOG}\r\n"
        f"Subject: {subject}\r\nDate: {date}\r\nMessage-ID: <{mid}>\r\n{extra}"
    )
    if mime:
        head += "MIME-Version: 1.0\r\n"
    if content:
        head += content.rstrip("\r\n") + "\r\n"
    return head.encode("utf-8") + b"\r\n" + body


def crlf(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def b64(data: bytes) -> bytes:
    import base64

    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def qp(text: str, encoding: str = "utf-8") -> bytes:
    import quopri

    return quopri.encodestring(text.encode(encoding)).replace(b"\n", b"\r\n")


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).ellipse(
        (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), fill=(250, 250, 240)
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def logo(size: tuple[int, int] = (120, 40)) -> bytes:
    image = Image.new("RGB", size, (20, 40, 90))
    ImageDraw.Draw(image).text((6, 10), "LUMEN", fill=(255, 220, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sparse_png(width: int, height: int) -> bytes:
    """A 1-bit PNG of width×height black pixels in a few kilobytes."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def part(content: str, body: bytes, *, extra: str = "") -> bytes:
    return crlf(content.rstrip("\n") + "\n" + extra) + b"\r\n" + body + b"\r\n"


def multipart(boundary_: str, *parts: bytes, preamble: str = "") -> bytes:
    out = crlf(preamble + "\n") if preamble else b""
    for one in parts:
        out += f"--{boundary_}\r\n".encode() + one
    return out + f"--{boundary_}--\r\n".encode()


def thunderbird_blockquote() -> bytes:
    text = (
        "Une cliente nous a écrit après la réparation de sa lampe de 1962 :\n"
        "\n"
        "> Elle éclaire de nouveau mon bureau, comme au temps de mon père. \n"
        "> Merci à toute l’équipe !\n"
        "\n"
        "C’est pour ces messages que nous faisons ce métier.\n"
        "\n"
        "-- \n"
        "Claire Dubois\n"
    )
    return raw(
        "Le mot d’une cliente",
        "Sat, 28 Nov 2026 09:10:00 +0100",
        "tb-quote-1@maison-lumen.example",
        "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
        "Content-Transfer-Encoding: 8bit\nUser-Agent: Mozilla Thunderbird",
        crlf(text),
    )


def k9_android_photo() -> bytes:
    b = "----K9-GOLDEN-0001"
    return raw(
        "Livraison des abat-jour en lin",
        "Sat, 28 Nov 2026 10:02:11 +0100",
        "k9-1@maison-lumen.example",
        f'Content-Type: multipart/mixed; boundary="{b[2:]}"\nUser-Agent: K-9 Mail for Android',
        multipart(
            b[2:],
            part(
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable",
                qp(
                    "Les abat-jour en lin sont arrivés ce matin, 40 pièces.\n\n-- \nEnvoyé de mon appareil Android avec K-9 Mail. Veuillez excuser ma brièveté."
                ),
            ),
            part(
                'Content-Type: image/jpeg; name="IMG_20261128_095512.jpg"\nContent-Transfer-Encoding: base64\n'
                'Content-Disposition: attachment; filename="IMG_20261128_095512.jpg"',
                b64(jpeg((200, 170, 120))),
            ),
        ),
    )


def mutt_markdown() -> bytes:
    text = (
        "Trois nouveautés au catalogue :\n\n"
        "1. la lampe *Aube* en laiton brossé ;\n"
        "2. un abat-jour en lin **miel** ;\n"
        "3. le kit de réparation, voir <https://maison-lumen.example/kit>.\n\n"
        "-- \nClaire Dubois · Maison Lumen\n"
    )
    return raw(
        "Trois nouveautés au catalogue",
        "Fri, 27 Nov 2026 16:40:00 +0100",
        "20261127154000.GA4242@atelier.maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n"
        "Content-Transfer-Encoding: 8bit\nUser-Agent: Mutt/2.2.13 (2024-03-09)",
        crlf(text),
    )


def swaks_no_mime() -> bytes:
    return raw(
        "Test de la chaine de publication",
        "Fri, 27 Nov 2026 08:00:00 +0100",
        "20261127080000.012345@atelier.maison-lumen.example",
        "",
        crlf(
            "La chaine de publication par e-mail fonctionne depuis le serveur de l'atelier.\n"
        ),
        extra="X-Mailer: swaks v20240103.0 jetmore.org/john/code/swaks/\r\n",
        mime=False,
    )


def _outlook(
    subject: str,
    mid: str,
    date: str,
    html_body: str,
    plain: str,
    images: list[tuple[str, bytes]],
) -> bytes:
    outer, inner = (
        "----=_NextPart_000_0011_01DB4A2C.5E6F7080",
        "----=_NextPart_001_0012_01DB4A2C.5E6F7080",
    )
    html = (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word"><head><meta http-equiv=Content-Type content="text/html; charset=utf-8">'
        '<meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!-- p.MsoNormal {margin:0cm;font-family:"Aptos",sans-serif;} --></style></head>'
        '<body lang=FR link="#467886" vlink="#96607D" style=\'word-wrap:break-word\'><div class=WordSection1>'
        + html_body
        + "</div></body></html>"
    )
    parts = [
        part(
            f'Content-Type: multipart/alternative;\n\tboundary="{inner}"',
            multipart(
                inner,
                part(
                    'Content-Type: text/plain;\n\tcharset="utf-8"\nContent-Transfer-Encoding: quoted-printable',
                    qp(plain),
                ),
                part(
                    'Content-Type: text/html;\n\tcharset="utf-8"\nContent-Transfer-Encoding: quoted-printable',
                    qp(html),
                ),
            ),
        )
    ]
    for cid, data in images:
        name = cid.split("@")[0]
        parts.append(
            part(
                f'Content-Type: image/{name.rsplit(".", 1)[1].replace("jpg", "jpeg")};\n\tname="{name}"\n'
                f"Content-Transfer-Encoding: base64\nContent-ID: <{cid}>\n"
                f'Content-Disposition: inline;\n\tfilename="{name}"',
                b64(data),
            )
        )
    return raw(
        subject, date, mid,
        f'Content-Type: multipart/related;\n\ttype="multipart/alternative";\n\tboundary="{outer}"\n'
        "X-Mailer: Microsoft Outlook 16.0\nThread-Index: AdtKLF5vcIBsb2dvAA==\nContent-Language: fr",
        multipart(outer, *parts, preamble="This is a multipart message in MIME format."),
    )  # fmt: skip


def outlook_signature_logo() -> bytes:
    cid = "image001.png@01DB4A2C.5E6F7080"
    body = (
        "<p class=MsoNormal>Bonjour à tous,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal>Le salon de Lyon a fermé ses portes : 320 visiteurs sur notre stand, merci à l’équipe.<o:p></o:p></p>"
        "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal><a name=\"_MailAutoSig\"><span style='mso-ligatures:none'>Claire Dubois<o:p></o:p></span></a></p>"
        "<p class=MsoNormal><span style='mso-ligatures:none'>Directrice générale – Maison Lumen<o:p></o:p></span></p>"
        f'<p class=MsoNormal><span style=\'mso-ligatures:none\'><img width=120 height=40 style=\'width:1.25in;height:.4166in\' id="Image_x0020_1" src="cid:{cid}" alt="Maison Lumen"></span><o:p></o:p></p>'
    )
    plain = (
        "Bonjour à tous,\n\nLe salon de Lyon a fermé ses portes : 320 visiteurs sur notre stand, merci à l’équipe.\n\nClaire Dubois\nDirectrice générale – Maison Lumen\n[cid:"
        + cid
        + "]\n"
    )
    return _outlook(
        "Bilan du salon de Lyon",
        "DB9PR01MB7777A1B2C3D4@DB9PR01MB7777.eurprd01.prod.outlook.com",
        "Thu, 26 Nov 2026 18:05:00 +0100",
        body,
        plain,
        [(cid, logo())],
    )


def owa_signature_and_photo() -> bytes:
    photo, mark = "image001.jpg@01DB4B11.22334450", "image002.png@01DB4B11.22334450"
    body = (
        '<div class="elementToProof">La nouvelle vitrine de Vaise, installée ce matin :</div>'
        f'<div class="elementToProof"><img src="cid:{photo}" width=640 height=480 alt="vitrine"></div>'
        '<div id="Signature"><p>Claire Dubois<br>Maison Lumen</p>'
        f'<p><img src="cid:{mark}" width=120 height=40 alt="Maison Lumen"></p></div>'
    )
    plain = f"La nouvelle vitrine de Vaise, installée ce matin :\n[cid:{photo}]\n\nClaire Dubois\nMaison Lumen\n[cid:{mark}]\n"
    return _outlook(
        "La vitrine de Vaise",
        "AM0PR01MB8888E5F6A7B8@AM0PR01MB8888.eurprd01.prod.outlook.com",
        "Thu, 26 Nov 2026 11:30:00 +0100",
        body,
        plain,
        [(photo, jpeg((90, 120, 150))), (mark, logo())],
    )


def gmail_tracking_pixel() -> bytes:
    b = "000000000000a1b2c3d4e5f60718"
    pixel = "ii_m3px1@gmail"
    html = (
        '<div dir="ltr">Notre lettre d’information de décembre part demain matin.'
        '<img src="https://tracker.example/open?id=42" width="1" height="1">'
        f'<img src="cid:{pixel}" width="1" height="1"></div>'
    )
    return raw(
        "Lettre de décembre",
        "Wed, 25 Nov 2026 17:00:00 +0100",
        "CAGmail-pixel-1@mail.gmail.com",
        f'Content-Type: multipart/related; boundary="{b}"',
        multipart(
            b,
            part(
                'Content-Type: text/html; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable',
                qp(html),
            ),
            part(
                f'Content-Type: image/png; name="pixel.png"\nContent-Disposition: inline; filename="pixel.png"\n'
                f"Content-Transfer-Encoding: base64\nContent-ID: <{pixel}>\nX-Attachment-Id: {pixel}",
                b64(png((255, 255, 255), (1, 1))),
            ),
        ),
    )


def thunderbird_moz_signature() -> bytes:
    b = "------------GOLDEN0TB0SIG"
    html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head><body>'
        "<p>L’atelier sera ouvert le dimanche 13 décembre pour les achats de fin d’année.</p>"
        '<div class="moz-signature">-- <br>Claire Dubois<br><img src="cid:part1.logo@maison-lumen.example" alt=""></div>'
        "</body></html>"
    )
    return raw(
        "Ouverture exceptionnelle le dimanche 13",
        "Wed, 25 Nov 2026 09:45:00 +0100",
        "tb-sig-1@maison-lumen.example",
        f'Content-Type: multipart/related; boundary="{b[2:]}"\nUser-Agent: Mozilla Thunderbird',
        multipart(
            b[2:],
            part(
                "Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 8bit",
                crlf(html),
            ),
            part(
                'Content-Type: image/png; name="logo.png"\nContent-Disposition: inline; filename="logo.png"\n'
                "Content-Id: <part1.logo@maison-lumen.example>\nContent-Transfer-Encoding: base64",
                b64(logo((160, 48))),
            ),
        ),
    )


def outlook_tnef() -> bytes:
    b = "----=_NextPart_000_0021_01DB4C00.11112220"
    tnef = (
        b"\x78\x9f\x3e\x22\x01\x00\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00\x00\x01\x00\x01\x00"
        + b"\x00" * 120
    )
    return raw(
        "Horaires des fêtes",
        "Tue, 24 Nov 2026 15:20:00 +0100",
        "VI1PR01MB-tnef@eurprd01.prod.outlook.com",
        f'Content-Type: multipart/mixed;\n\tboundary="{b}"\nX-Mailer: Microsoft Outlook 16.0\nX-MS-TNEF-Correlator: 00000000C1A2',
        multipart(
            b,
            part('Content-Type: text/plain;\n\tcharset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable', qp("Les horaires des fêtes sont affichés en boutique.\n", "latin-1")),
            part('Content-Type: application/ms-tnef;\n\tname="winmail.dat"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment;\n\tfilename="winmail.dat"', b64(tnef)),
            preamble="This is a multipart message in MIME format.",
        ),
    )  # fmt: skip


def iphone_mov(
    sender: str = CLAIRE,
    mid: str = "iphone-mov-1@maison-lumen.example",
    subject: str = "La vidéo du montage",
) -> bytes:
    b = "Apple-Mail-GOLDEN-MOV"
    movie = (
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "
        + b"\x00\x00\x00\x08wide"
        + bytes(range(256)) * 8
    )
    return raw(
        subject,
        "Tue, 24 Nov 2026 12:00:00 +0100",
        mid,
        f'Content-Type: multipart/mixed; boundary="{b}"\nX-Mailer: iPhone Mail (22B91)',
        multipart(
            b,
            part("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit", crlf("Voici le montage de la lampe Aube en accéléré.\n\nEnvoyé de mon iPhone\n")),
            part('Content-Type: video/quicktime; name="IMG_0412.MOV"\nContent-Disposition: attachment; filename="IMG_0412.MOV"\nContent-Transfer-Encoding: base64', b64(movie)),
        ),
        sender=sender,
    )  # fmt: skip


def dwg_attachment() -> bytes:
    b = "=_golden_dwg"
    return raw(
        "Plan du nouvel atelier",
        "Mon, 23 Nov 2026 10:00:00 +0100",
        "dwg-1@maison-lumen.example",
        f'Content-Type: multipart/mixed; boundary="{b}"',
        multipart(
            b,
            part("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit", crlf("Le plan du futur atelier de Vaise, pour avis.\n")),
            part('Content-Type: application/acad; name="atelier-vaise.dwg"\nContent-Disposition: attachment; filename="atelier-vaise.dwg"\nContent-Transfer-Encoding: base64', b64(b"AC1032\x00\x00\x00\x00\x06\x00binary drawing data" * 4)),
        ),
    )  # fmt: skip


def png_bomb() -> bytes:
    b = "=_golden_bomb"
    return raw(
        "Le grand plan",
        "Mon, 23 Nov 2026 11:00:00 +0100",
        "bomb-1@maison-lumen.example",
        f'Content-Type: multipart/mixed; boundary="{b}"',
        multipart(
            b,
            part("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit", crlf("Le plan en très grand format.\n")),
            part('Content-Type: image/png; name="plan.png"\nContent-Disposition: attachment; filename="plan.png"\nContent-Transfer-Encoding: base64', b64(sparse_png(9000, 9000))),
        ),
    )  # fmt: skip


SENTENCE = (
    "L’atelier de réparation ouvre aussi le mercredi après-midi à partir de décembre."
)


def broken_boundary() -> bytes:
    return raw(
        "Le mercredi aussi",
        "Sun, 22 Nov 2026 09:00:00 +0100",
        "broken-boundary-1@maison-lumen.example",
        'Content-Type: multipart/alternative; boundary="----=_Part_1_1"',
        multipart(
            "----=_Part_0_987654.1700000000000",
            part("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable", qp(SENTENCE)),
            part("Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: base64", b64(f"<html><body><p>{SENTENCE}</p></body></html>".encode())),
        ),
    )  # fmt: skip


def no_boundary_parameter() -> bytes:
    return raw(
        "Nouvelles ampoules à filament",
        "Sun, 22 Nov 2026 09:30:00 +0100",
        "no-boundary-param-1@maison-lumen.example",
        "Content-Type: multipart/mixed",
        multipart(
            "GOLDENxyz123",
            part("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit", crlf("Les ampoules à filament LED de 4 W sont arrivées : 2 200 K, parfaites pour l’Aube.\n")),
        ),
    )  # fmt: skip


def base64_declared_plain() -> bytes:
    return raw(
        "Inventaire de fin novembre",
        "Sun, 22 Nov 2026 10:00:00 +0100",
        "b64-lie-1@maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
        crlf("L’inventaire est fait : il reste 14 lampes Aube et 31 abat-jour.\n"),
    )


def undeclared_base64() -> bytes:
    return raw(
        "Le kit de réparation en stock",
        "Sun, 22 Nov 2026 10:30:00 +0100",
        "b64-undeclared-1@maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit",
        b64("Le kit de réparation est de nouveau en stock, 15 € l’unité.\n".encode()),
    )


def undeclared_qp() -> bytes:
    text = "Les commandes passées avant le 18 décembre seront livrées avant Noël, partout en France métropolitaine."
    return raw(
        "Livraisons avant Noël",
        "Sun, 22 Nov 2026 11:00:00 +0100",
        "qp-undeclared-1@maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8",
        qp(text),
    )


def raw_mime_forward() -> bytes:
    body = (
        crlf(
            'Je vous transfère le visuel de la campagne.\n\n------=_NextPart_000_0001\nContent-Type: image/jpeg; name="visuel.jpg"\nContent-Transfer-Encoding: base64\n\n'
        )
        + b64(jpeg((10, 80, 60), (320, 200)))[:1200]
    )
    return raw(
        "Visuel de la campagne",
        "Sun, 22 Nov 2026 11:30:00 +0100",
        "raw-mime-1@maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
        body,
    )


def headers_only_attachment() -> bytes:
    b = "=_golden_empty"
    return raw(
        "Photo de l’équipe",
        "Sun, 22 Nov 2026 12:00:00 +0100",
        "empty-part-1@maison-lumen.example",
        f'Content-Type: multipart/mixed; boundary="{b}"',
        crlf(f"--{b}\nContent-Type: text/plain; charset=utf-8\n\nLa photo de l’équipe au complet.\n--{b}\n"
             'Content-Type: image/jpeg; name="equipe.jpg"\nContent-Transfer-Encoding: base64\n'
             f'Content-Disposition: attachment; filename="equipe.jpg"\n--{b}--\n'),
    )  # fmt: skip


def legacy(
    name: str, subject: str, mid: str, text: str, encoding: str, declared: str | None
) -> bytes:
    label = f"; charset={declared}" if declared else ""
    return raw(subject, "Mon, 23 Nov 2026 14:00:00 +0100", mid, f"Content-Type: text/plain{label}\nContent-Transfer-Encoding: 8bit", crlf(text + "\n", encoding))  # fmt: skip


def big5_raw() -> bytes:
    return legacy("big5", "Taipei showroom", "big5-1@maison-lumen.example", "我們的台北展示廳下週開幕，歡迎大家來參觀新燈具。", "big5", None)  # fmt: skip


def gb2312_as_latin1() -> bytes:
    return legacy("gb2312", "Shanghai partner", "gb2312-1@maison-lumen.example", "我们与上海的新合作伙伴签约了，第一批灯具下个月发货。", "gb2312", "iso-8859-1")  # fmt: skip


def shift_jis_raw() -> bytes:
    return legacy("sjis", "Tokyo fair", "sjis-1@maison-lumen.example", "東京の見本市に出展します。新しいランプをぜひご覧ください。", "shift_jis", None)  # fmt: skip


def koi8r_unlabelled() -> bytes:
    return legacy("koi8", "Moscow order", "koi8-1@maison-lumen.example", "Первый заказ из Москвы отправлен сегодня: двадцать ламп и десять абажуров.", "koi8_r", "us-ascii")  # fmt: skip


def latin1_labelled_utf8() -> bytes:
    return legacy("latin1", "Horaires de décembre", "latin1-utf8-1@maison-lumen.example", "Les horaires de décembre : ouvert du mardi au samedi, fermé le 25.", "latin-1", "utf-8")  # fmt: skip


def apple_mail_reply() -> bytes:
    text = (
        "Oui, nous serons au salon de Bordeaux le 5 décembre, avec toute la gamme Aube.\n\n"
        "Claire\n\n"
        "> Le 24 nov. 2026 à 09:12, Karim Haddad <karim.haddad@maison-lumen.example> a écrit :\n"
        ">\n> Est-ce qu’on confirme Bordeaux ?\n"
    )
    return raw(
        "Re: Salon de Bordeaux",
        "Tue, 24 Nov 2026 09:30:00 +0100",
        "apple-reply-1@maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\nX-Mailer: Apple Mail (2.3826)",
        qp(text),
        extra="In-Reply-To: <karim-q-1@maison-lumen.example>\r\nReferences: <karim-q-1@maison-lumen.example>\r\n",
    )  # fmt: skip


def gmail_plain_attribution() -> bytes:
    text = (
        "Les inscriptions à l’atelier de Noël sont ouvertes : 12 places, le 19 décembre.\n\n"
        "Le lun. 23 nov. 2026 à 18:00, Léa Marchetti <lea.marchetti@maison-lumen.example> a écrit :\n\n"
        "> On ouvre les inscriptions ?\n> Léa\n"
    )
    return raw(
        "Atelier de Noël : inscriptions ouvertes",
        "Tue, 24 Nov 2026 08:00:00 +0100",
        "CAGmail-plain-1@mail.gmail.com",
        'Content-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable',
        qp(text),
    )


def outlook_original_message() -> bytes:
    text = (
        "Bonjour,\n\nLa boutique de Vaise fermera exceptionnellement à 16 h le 24 décembre.\n\n"
        "Claire\n\n-----Original Message-----\nFrom: Karim Haddad <karim.haddad@maison-lumen.example>\n"
        "Sent: Monday, November 23, 2026 5:00 PM\nTo: Claire Dubois\nSubject: Horaires du 24\n\nOn ferme à quelle heure le 24 ?\n"
    )
    return raw(
        "Fermeture le 24 décembre",
        "Tue, 24 Nov 2026 10:00:00 +0100",
        "outlook-orig-1@eurprd01.prod.outlook.com",
        'Content-Type: text/plain; charset="us-ascii"\nContent-Transfer-Encoding: quoted-printable\nX-Mailer: Microsoft Outlook 16.0',
        qp(text.replace("’", "'"), "latin-1").replace(b"=E9", b"=E9"),
    )  # fmt: skip


def x_autoreply() -> bytes:
    return raw(
        "Absence du 24 au 28 novembre",
        "Tue, 24 Nov 2026 07:00:00 +0100",
        "autoreply-1@maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
        crlf(
            "Je suis absente jusqu’au 28 novembre. Pour toute urgence, appelez l’atelier.\n"
        ),
        extra="X-Autoreply: yes\r\n",
    )


def mailing_list() -> bytes:
    return raw(
        "[atelier] Ordre du jour de la réunion",
        "Mon, 23 Nov 2026 08:00:00 +0100",
        "list-1@lists.maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
        crlf("Ordre du jour : stocks, salon de Bordeaux, planning de décembre.\n"),
        extra="List-Id: Atelier <atelier.lists.maison-lumen.example>\r\nPrecedence: list\r\n",
    )


def spoofed_no_dkim() -> bytes:
    data = raw(
        "Promotion exceptionnelle",
        "Mon, 23 Nov 2026 09:00:00 +0100",
        "spoof-1@attacker.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
        crlf("Cliquez ici pour gagner une lampe.\n"),
    )
    return data.replace(b"dkim=pass", b"dkim=fail", 1)


def no_subject() -> bytes:
    return raw(
        "",
        "Mon, 23 Nov 2026 09:30:00 +0100",
        "no-subject-1@maison-lumen.example",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
        crlf("Un texte sans titre.\n"),
    )


def tom_video() -> bytes:
    return iphone_mov(TOM, "tom-mov-1@maison-lumen.example", "Assembly video")


def tom_draft() -> bytes:
    return raw(
        "Shipping to the UK after January",
        "Mon, 23 Nov 2026 16:00:00 +0000",
        "tom-draft-1@maison-lumen.example",
        'Content-Type: text/plain; charset="UTF-8"; format=flowed\nContent-Transfer-Encoding: 7bit',
        crlf(
            "tags: export, shipping\n\nFrom January we ship to the United Kingdom again, duties paid.\n\nSent from my iPhone\n"
        ),
        sender=TOM,
    )


def proton_commands() -> bytes:
    b = "b1_GOLDENproton"
    text = "catégorie: Atelier\ntags: réparation\n\nLe programme des ateliers du premier trimestre est en ligne sur le site.\n\nEnvoyé avec la messagerie sécurisée Proton Mail."
    return raw(
        "Ateliers du premier trimestre",
        "Mon, 23 Nov 2026 17:00:00 +0100",
        "proton-1@protonmail.example",
        f'Content-Type: multipart/alternative; boundary="{b}"',
        multipart(
            b,
            part("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable", qp(text)),
            part(
                "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64",
                b64(
                    ("<div>catégorie: Atelier</div><div>tags: réparation</div><div><br></div>"
                     "<div>Le programme des ateliers du premier trimestre est en ligne sur le site.</div>"
                     '<div class="protonmail_signature_block"><div>Envoyé avec la messagerie sécurisée <a href="https://proton.me/">Proton Mail</a>.</div></div>').encode()
                ),
            ),
        ),
    )  # fmt: skip


GOLDEN: dict[str, Callable[[], Message | bytes]] = {
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
    # Issue 12: clients and oddities, with their outcome (a post, a refusal
    # or a held message: see tests/test_mail_golden.py).
    "thunderbird-blockquote": thunderbird_blockquote,
    "k9-android-photo": k9_android_photo,
    "mutt-markdown": mutt_markdown,
    "swaks-no-mime": swaks_no_mime,
    "outlook-signature-logo": outlook_signature_logo,
    "owa-signature-and-photo": owa_signature_and_photo,
    "gmail-tracking-pixel": gmail_tracking_pixel,
    "thunderbird-moz-signature": thunderbird_moz_signature,
    "outlook-winmail-dat": outlook_tnef,
    "iphone-mov-video": iphone_mov,
    "tom-mov-video": tom_video,
    "dwg-attachment": dwg_attachment,
    "png-bomb-9000": png_bomb,
    "broken-boundary": broken_boundary,
    "no-boundary-parameter": no_boundary_parameter,
    "base64-declared-plain": base64_declared_plain,
    "undeclared-base64": undeclared_base64,
    "undeclared-quoted-printable": undeclared_qp,
    "raw-mime-forward": raw_mime_forward,
    "headers-only-attachment": headers_only_attachment,
    "big5-raw": big5_raw,
    "gb2312-as-latin1": gb2312_as_latin1,
    "shift-jis-raw": shift_jis_raw,
    "koi8r-as-ascii": koi8r_unlabelled,
    "latin1-labelled-utf8": latin1_labelled_utf8,
    "apple-mail-reply": apple_mail_reply,
    "gmail-plain-attribution": gmail_plain_attribution,
    "outlook-original-message": outlook_original_message,
    "x-autoreply": x_autoreply,
    "mailing-list": mailing_list,
    "spoofed-no-dkim": spoofed_no_dkim,
    "no-subject": no_subject,
    "tom-draft-commands": tom_draft,
    "proton-commands": proton_commands,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in GOLDEN.items():
        made = make()
        data = made if isinstance(made, bytes) else made.as_bytes()
        (OUT / f"{name}.eml").write_bytes(data)
        print("wrote", OUT / f"{name}.eml")


if __name__ == "__main__":
    main()
