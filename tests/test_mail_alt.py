"""Issue 12, item 14: alt text was the file name ("IMG 4821"), documents
downloaded as "5.pdf", and `mail serve` logged nothing for a published mail
at the default level.

Now the author may give each photo its alt text (``alt:`` lines, in photo
order; ``légende:`` too), else it is the photo's caption from the mail (an
HTML ``alt``/``title``, a Content-Description) unless that is a file name,
else "Photo N — title"; documents keep their own name, made safe for a URL;
`mail serve` logs one INFO line per mail handled.
"""

from __future__ import annotations

import logging
import re
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import dkim
import pytest
import test_mail_pipeline
from conftest import ROOT, run_publish, stop_process
from receiver_kit import free_port, wait_until
from test_mail_parse import envelope, image_part, jpeg, post_of, with_attachments
from test_mail_pipeline import CLAIRE, NOW, Inbox, Site, wait_for

from causerie.mailposts.model import DOCUMENT, IMAGE, PUBLISHED, Arrival
from causerie.mailposts.parse import is_file_name_like
from causerie.mailposts.service import service_logging
from causerie.mailposts.sources import smtp

#: The real SMTP listener that receives the replies (a fixture).
inbox = test_mail_pipeline.inbox


def alts(body: str) -> list[str]:
    """The alt texts of the body's gallery lines ("file | alt | caption")."""
    return re.findall(
        r"^\{static\}/\S+ \| ((?:[^|\\\n]|\\.)*?)(?: \| .*)?$", body, re.M
    )


def photos_mail(text: str, names: list[str], subject: str = "Notre offre") -> Any:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["Date"] = "Sat, 14 Mar 2026 09:30:00 +0000"
    msg["Message-ID"] = "<alt1@example.com>"
    msg.set_content(text)
    for n, name in enumerate(names):
        msg.add_attachment(
            jpeg(("red", "green", "blue")[n % 3]),
            maintype="image",
            subtype="jpeg",
            filename=name,
        )
    from test_mail_parse import reparse

    return reparse(msg)


# --- alt text ---------------------------------------------------------------


def test_the_author_gives_alt_text_photo_by_photo() -> None:
    msg = photos_mail(
        "alt: La lampe Aube sur l’établi\n"
        "légende: L’atelier vu de la rue\n\n"
        "Bonjour à tous, voici nos nouvelles lampes pour les clients.\n",
        ["IMG_4821.JPG", "IMG_4822.JPG", "IMG_4823.JPG"],
    )
    post = post_of(msg)
    assert alts(post.body) == [
        "La lampe Aube sur l’établi",
        "L’atelier vu de la rue",
        "Photo 3 — Notre offre",  # no third alt: line
    ]
    assert "alt:" not in post.body and "légende" not in post.body
    assert "IMG" not in post.body


def test_without_alt_text_a_photo_is_photo_n_and_the_title_never_its_file_name() -> (
    None
):
    post = post_of(photos_mail("Bonjour à tous.\n", ["IMG_4821.JPG", "DSC01234.jpg"]))
    assert alts(post.body) == ["Photo 1 — Notre offre", "Photo 2 — Notre offre"]
    assert "4821" not in post.body and "DSC" not in post.body
    # The sender's name is still kept as the image's label (not shown).
    assert [m.label for m in post.media if m.kind == IMAGE] == [
        "IMG_4821.JPG",
        "DSC01234.jpg",
    ]


def html_with_images(*imgs: tuple[str, str]) -> Any:
    """An HTML mail whose <img> tags (attributes given) show cid: photos."""
    related = MIMEMultipart("related")
    tags = "".join(
        f'<p><img src="cid:p{n}@x" {attrs}></p>' for n, (attrs, _) in enumerate(imgs)
    )
    related.attach(MIMEText(f"<html><body><p>Bonjour.</p>{tags}</body></html>", "html"))
    for n, (_attrs, name) in enumerate(imgs):
        related.attach(image_part(jpeg(), name, cid=f"p{n}@x"))
    return envelope(related)


def test_a_caption_from_the_mail_is_the_alt_text_unless_it_is_a_file_name() -> None:
    post = post_of(
        html_with_images(
            ('alt="La vitrine de Noël"', "IMG_0001.jpeg"),
            ('alt="image001.png"', "image001.png"),  # Outlook's
            ('title="Le stand au salon"', "photo.jpg"),
            ('alt="IMG 4821"', "IMG_4821.jpg"),
        )
    )
    assert alts(post.body) == [
        "La vitrine de Noël",
        "Photo 2 — Notre offre",
        "Le stand au salon",
        "Photo 4 — Notre offre",
    ]


def test_a_content_description_is_a_caption_too() -> None:
    related = MIMEMultipart("mixed")
    related.attach(MIMEText("Bonjour.", "plain"))
    described = image_part(jpeg(), "IMG_7.jpg")
    described["Content-Description"] = "Les lampes en rang"
    related.attach(described)
    named = image_part(jpeg(), "IMG_8.jpg")
    named["Content-Description"] = "IMG_8.jpg"  # what many clients write
    related.attach(named)
    post = post_of(envelope(related))
    assert alts(post.body) == ["Les lampes en rang", "Photo 2 — Notre offre"]


@pytest.mark.parametrize(
    ("text", "file_like"),
    [
        ("IMG 4821", True),
        ("IMG_4821.HEIC", True),
        ("image001.png", True),
        ("PXL_20261121_101010", True),
        ("WhatsApp Image 2026-11-21 at 10.00.00", True),
        ("Capture d’écran 2026-11-21", True),
        ("20261121_101010", True),
        ("photo", True),
        ("La lampe Aube sur l’établi", False),
        ("Image de la vitrine", False),
        ("Pic du Midi au lever du jour", False),
    ],
)
def test_what_is_a_file_name(text: str, file_like: bool) -> None:
    assert is_file_name_like(text) is file_like


# --- documents --------------------------------------------------------------


def test_documents_keep_their_own_sanitized_name() -> None:
    post = post_of(
        with_attachments(
            (b"%PDF-1.7 ...", "application/pdf", "Devis Aube (v2).pdf"),
            (b"%PDF-1.7 ...", "application/pdf", "Devis Aube (v2).pdf"),
            (b"%PDF-1.7 ...", "application/pdf", "../../../etc/Présentation été.pdf"),
            (b"%PDF-1.7 ...", "application/pdf", "???.pdf"),
        )
    )
    docs = [m for m in post.media if m.kind == DOCUMENT]
    assert [m.path.rsplit("/", 1)[1] for m in docs] == [
        "devis-aube-v2.pdf",
        "devis-aube-v2-2.pdf",
        "presentation-ete.pdf",
        "document-4.pdf",
    ]
    assert all(m.path.startswith("images/mail/2026/rapport/") for m in docs)
    # The link text is the sender's name (without its path).
    assert (
        "{static}/images/mail/2026/rapport/devis-aube-v2.pdf | Devis Aube (v2).pdf\n"
        in post.body
    )


def test_a_document_downloads_under_its_name_from_the_built_site(
    tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    site = Site(tmp_path / "blog", inbox[1])
    msg = EmailMessage()
    msg["Authentication-Results"] = test_mail_pipeline.AR
    msg["From"] = CLAIRE
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = "Le programme du salon"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = make_msgid(domain="phone.example")
    msg.set_content("Voici le programme du salon pour les clients.\n")
    msg.add_attachment(
        b"%PDF-1.7\n%fake\n", maintype="application", subtype="pdf",
        filename="Programme Salon 2026.pdf",
    )  # fmt: skip
    assert site.pipeline(Arrival(bytes(msg), "pipe")).outcome == PUBLISHED
    result = run_publish("--settings", str(site.settings_file), "build", cwd=site.root)
    assert result.returncode == 0, result.stderr
    found = list((site.root / "output").rglob("programme-salon-2026.pdf"))
    assert len(found) == 1
    assert found[0].read_bytes() == b"%PDF-1.7\n%fake\n"
    pages = [
        p
        for p in (site.root / "output" / "posts").rglob("index.html")
        if "programme-salon-2026.pdf" in p.read_text(encoding="utf-8")
    ]
    assert pages


# --- mail serve logs each mail ----------------------------------------------


def test_mail_serve_logs_one_info_line_per_published_mail(
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    dkim_key: tuple[bytes, bytes],
    capfd: pytest.CaptureFixture[str],
) -> None:
    site = Site(tmp_path / "blog", inbox[1])
    private_key, record = dkim_key

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        wanted = b"sel._domainkey.maison-lumen.example"
        return record if name.rstrip(b".") == wanted else None

    import dataclasses

    settings = dataclasses.replace(site.pipeline.cfg, listen_port=free_port())
    raw = test_mail_pipeline.mail(ar=None).replace(b"\n", b"\r\n")
    raw = (
        bytes(
            dkim.sign(
                raw,
                b"sel",
                b"maison-lumen.example",
                private_key,
                include_headers=[b"from", b"subject", b"to"],
            )
        )
        + raw
    )
    handler = service_logging()  # what `mail serve` sets up (below, for real)
    try:
        with smtp.MailServer(settings, site.pipeline, site.root, dnsfunc=dns):
            with smtplib.SMTP("127.0.0.1", settings.listen_port, timeout=10) as c:
                assert c.sendmail(CLAIRE, ["blog@maison-lumen.example"], raw) == {}
            wait_until(lambda: len(site.posts()) == 1, 30)
            wait_for(inbox[0], 1)
            time.sleep(0.3)  # the worker's last lines
    finally:
        top = logging.getLogger("causerie.mailposts")
        top.removeHandler(handler)
        top.setLevel(logging.NOTSET)
    err = capfd.readouterr().err
    published = [line for line in err.splitlines() if " published " in line]
    assert len(published) == 1, err
    assert " INFO causerie.mailposts.pipeline: " in published[0]
    assert "http://blog.test/posts/2026/une-nouvelle-lampe-a-latelier/" in published[0]


def test_mail_serve_configures_its_log_at_the_default_level(tmp_path: Path) -> None:
    from test_mail_cli import blog

    port = free_port()
    settings = blog(tmp_path / "blog", listen_port=port)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "publish.py"), "--settings", str(settings),
         "mail", "serve"],
        cwd=settings.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: smtplib.SMTP("127.0.0.1", port, timeout=2).quit(), 30)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
            # Not DKIM-signed: accepted, then quarantined (logged as such).
            c.sendmail(CLAIRE, ["blog@maison-lumen.example"], test_mail_pipeline.mail())
        kept = tmp_path / "blog" / "var" / "mail" / "quarantined"
        wait_until(lambda: len(list(kept.glob("*.eml"))) == 1, 30)
        time.sleep(0.3)
    finally:
        stop_process(proc)
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert re.search(
        r"INFO causerie\.mailposts\S*: mailposts: SMTP listener on 127.0.0.1", err
    ), err
    assert re.search(r"INFO causerie\.mailposts\S*: mailposts: accepted ", err), err
    assert re.search(
        r"WARNING causerie\.mailposts\.pipeline: mail <[^>]+> quarantined: ", err
    ), err
