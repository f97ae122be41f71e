"""Hostile mails through the real pipeline: each ends as its documented
outcome (docs/mail.md), is never lost — a post, or a copy under
var/mail/<outcome>/ — and gets a reply only when its sender is an
authenticated author (through a real SMTP listener)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from PIL import Image
from test_mail_pipeline import AR, CLAIRE, NOW, Inbox, Site, inbox, mail, site

from causerie.mailposts.model import DUPLICATE, PUBLISHED, QUARANTINED, REFUSED, Arrival

__all__ = ["inbox", "site"]  # fixtures used here


def with_attachments(*parts: tuple[bytes, str, str, str]) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = AR
    msg["From"] = CLAIRE
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = "Des pièces jointes"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = make_msgid(domain="phone.example")
    msg.set_content("Voici les fichiers.\n")
    for data, maintype, subtype, name in parts:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, "PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A PNG that claims 30000×30000 pixels (900 megapixels) but weighs little:
    decoding it would take gigabytes of memory."""
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def traversal() -> bytes:
    return with_attachments((png(), "image", "png", "../../etc/passwd"))


def fifty() -> bytes:
    return with_attachments(*((png(), "image", "png", f"p{i}.png") for i in range(50)))


def forty_mb() -> bytes:
    noise = bytes(range(256)) * (40_000_000 // 256)
    return with_attachments((noise, "application", "octet-stream", "video.mov"))


def spoofed() -> bytes:
    return mail(ar=None)


def forged_ar() -> bytes:
    return mail(ar="mx.attacker.example; dkim=pass header.d=maison-lumen.example")


def bounce() -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = AR
    msg["From"] = "Mail Delivery Subsystem <mailer-daemon@maison-lumen.example>"
    msg["To"] = "blog@maison-lumen.example"
    msg["Return-Path"] = "<>"
    msg["Auto-Submitted"] = "auto-replied"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = make_msgid(domain="mx.example")
    msg.set_content("This is the mail system at host mx.example.\n")
    return bytes(msg)


def auto_reply() -> bytes:
    return mail(
        subject="Réponse automatique : absente",
        body="Je suis absente jusqu’au 2 janvier.\n",
        extra={"Auto-Submitted": "auto-replied"},
    )


def missing_boundary() -> bytes:
    return (
        f"Authentication-Results: {AR}\r\nFrom: {CLAIRE}\r\n"
        "To: blog@maison-lumen.example\r\nSubject: Sans frontière\r\n"
        f"Date: {format_datetime(NOW)}\r\nMessage-ID: <noboundary@phone.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
        "Le texte est là, mais la frontière des parties manque.\r\n"
    ).encode()


def wrong_charset() -> bytes:
    body = "Une lampe réparée, enfin : merci à l’atelier !\n".encode(
        "latin-1", "replace"
    )
    return (
        f"Authentication-Results: {AR}\r\nFrom: {CLAIRE}\r\n"
        "To: blog@maison-lumen.example\r\nSubject: Charset faux\r\n"
        f"Date: {format_datetime(NOW)}\r\nMessage-ID: <badcharset@phone.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + body


def broken_boundary() -> bytes:
    """Issue 12 item 10: the boundary parameter names a delimiter the body
    does not use; the parts are found at the one it does use."""
    return (
        f"Authentication-Results: {AR}\r\nFrom: {CLAIRE}\r\n"
        "To: blog@maison-lumen.example\r\nSubject: Frontière fausse\r\n"
        f"Date: {format_datetime(NOW)}\r\nMessage-ID: <badboundary@phone.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="A"\r\n\r\n'
        "--B_1234\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Le texte est retrouvé malgré la frontière fausse.\r\n--B_1234--\r\n"
    ).encode()


def raw_mime_text() -> bytes:
    """A text part that still holds a MIME header block and base64."""
    import base64

    blob = base64.encodebytes(png((300, 200))).decode().replace("\n", "\r\n")
    return (
        f"Authentication-Results: {AR}\r\nFrom: {CLAIRE}\r\n"
        "To: blog@maison-lumen.example\r\nSubject: MIME brut\r\n"
        f"Date: {format_datetime(NOW)}\r\nMessage-ID: <rawmime@phone.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Voici la photo.\r\n\r\n------=_Part_9\r\nContent-Type: image/png\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + blob
    ).encode()


def big_png() -> bytes:
    """9000×9000 pixels in a few kilobytes (1-bit, rows of zeros)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    rows = b"".join(packer.compress(b"\0" * 1126) for _ in range(9000))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 9000, 9000, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", rows + packer.flush())
        + chunk(b"IEND", b"")
    )


#: name → (the message, its outcome, whether its sender gets a reply, a word
#: the reason must contain).
CASES: dict[str, tuple[Callable[[], bytes], str, bool, str]] = {
    "spoofed From without DKIM": (spoofed, QUARANTINED, False, "DKIM"),
    "forged Authentication-Results": (forged_ar, QUARANTINED, False, "DKIM"),
    "attachment named ../../etc/passwd": (traversal, PUBLISHED, True, ""),
    "decompression-bomb PNG": (
        lambda: with_attachments((bomb(), "image", "png", "b.png")),
        REFUSED,
        True,
        "",
    ),
    "50 attachments": (fifty, REFUSED, True, "20"),
    "40 MB mail": (forty_mb, REFUSED, True, "Mo"),
    "bounce": (bounce, QUARANTINED, False, ""),
    "auto-reply": (auto_reply, QUARANTINED, False, "automatic"),
    "missing MIME boundary": (missing_boundary, PUBLISHED, True, ""),
    "unknown charset": (wrong_charset, PUBLISHED, True, ""),
    "boundary that the body does not use": (broken_boundary, PUBLISHED, True, ""),
    # Damaged on its way: held for the operator (publish mail held/release)
    # and answered, so that its author sends it again (issue 12 item 10).
    "raw MIME left in the text": (raw_mime_text, QUARANTINED, True, "abîmé"),
    "winmail.dat": (
        lambda: with_attachments(
            (b"\x78\x9f\x3e\x22\x01\x00", "application", "ms-tnef", "winmail.dat")
        ),
        REFUSED,
        True,
        "Outlook",
    ),
    ".MOV video": (
        lambda: with_attachments(
            (
                b"\0\0\0\x14ftypqt  \0\0\2\0" + b"\0" * 64,
                "video",
                "quicktime",
                "IMG_1.MOV",
            )
        ),
        REFUSED,
        True,
        "vidéo",
    ),
    "9000×9000 PNG in a small mail": (
        lambda: with_attachments((big_png(), "image", "png", "plan.png")),
        REFUSED,
        True,
        "pixels",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_mail(site: Site, inbox: tuple[Inbox, int], name: str) -> None:
    make, outcome, answered, why = CASES[name]
    raw = make()
    verdict = site.pipeline(Arrival(raw, "pipe"))
    assert verdict.outcome == outcome, verdict.reason
    assert why in (verdict.reason or ""), verdict.reason
    if outcome == PUBLISHED:
        (post,) = site.posts()
        text = post.read_text(encoding="utf-8")
        assert "Message-Id:" in text
        assert "Content-Type" not in text and "--B_1234" not in text  # no raw MIME
    else:
        kept = list((site.root / "var" / "mail" / outcome).glob("*.eml"))
        assert [p.read_bytes() for p in kept] == [raw], "the mail must be kept"
        assert site.posts() == []
    deadline = time.monotonic() + (5 if answered else 0.5)
    while time.monotonic() < deadline and not inbox[0].envelopes:
        time.sleep(0.05)
    assert bool(inbox[0].envelopes) is answered
    # And the same message again is a duplicate: nothing new.
    assert site.pipeline(Arrival(raw, "pipe")).outcome == DUPLICATE


def test_the_traversal_name_is_never_a_path(site: Site) -> None:
    verdict = site.pipeline(Arrival(traversal(), "pipe"))
    assert verdict.outcome == PUBLISHED
    written = [p for p in (site.root / "content").rglob("*") if p.is_file()]
    assert all("passwd" not in p.name for p in written)
    assert not (site.root / "etc").exists()
    assert all((site.root / "content") in p.parents for p in written)
