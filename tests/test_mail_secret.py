"""Issue 12, item 2: no secret ever leaves — not in content/, output/, a
reply (through a real SMTP listener) or a log line, whatever the shape of
the mail (plain, HTML only, multipart/alternative), its line ends (LF, or
CRLF as every SMTP or IMAP delivery has them) and where the secret stood (a
"secret:" line, the plus address too, the subject, a sentence)."""

from __future__ import annotations

import dataclasses
import email
import logging
import smtplib
import time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import dkim
import pytest
import test_mail_pipeline
from conftest import run_publish
from receiver_kit import free_port, wait_until
from test_mail_pipeline import AR, CLAIRE, NOW, Inbox, Site, wait_for

from causerie.mailposts.model import PUBLISHED, REFUSED, Arrival
from causerie.mailposts.scrub import html_secret_values, remove_html_secret_lines
from causerie.mailposts.service import make_pipeline, service_logging
from causerie.mailposts.sources import smtp

#: The real SMTP listener that receives the replies (a fixture).
inbox = test_mail_pipeline.inbox

SECRET = "k7Rf2wQx9"
ENV = {"CAUSERIE_MAIL_SECRET_CLAIRE_DUBOIS": SECRET}
TEXT = "Nous avons fini la lampe Aube ce matin.\n\nElle part demain chez une cliente.\n"

#: How an HTML editor may write the line: a paragraph, a no-break space
#: and a <br>, words split across inline tags.
HTML_LINES = [
    f"<p>secret: {SECRET}</p>",
    f"<div>secret:&nbsp;{SECRET}<br>",
    f"<p><b>secret</b>: <span style='color:red'>{SECRET}</span></p>",
]


@pytest.fixture
def site(tmp_path: Path, inbox: tuple[Inbox, int]) -> Site:
    site = Site(tmp_path / "blog", inbox[1])
    site.pipeline = make_pipeline(site.settings, environ=ENV)
    site.pipeline.cfg = dataclasses.replace(
        site.pipeline.cfg, require_secret=True, replies_per_hour=1000
    )
    site.pipeline.clock = lambda: NOW
    return site


def build_mail(
    shape: str,
    *,
    subject: str,
    crlf: bool,
    plus: bool = False,
    line: bool = True,
    html_line: str = HTML_LINES[0],
    text: str = TEXT,
) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = AR
    msg["From"] = CLAIRE
    msg["To"] = (
        f"blog+{SECRET}@maison-lumen.example" if plus else "blog@maison-lumen.example"
    )
    msg["Subject"] = subject
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = make_msgid(domain="phone.example")
    plain = (f"secret: {SECRET}\n" if line else "") + text
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    html = f"<html><body>{html_line if line else ''}{paragraphs}</body></html>"
    if shape == "plain":
        msg.set_content(plain)
    elif shape == "html":
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(plain)
        msg.add_alternative(html, subtype="html")
    # An SMTP delivery: every line ends in CRLF, text parts included.
    return msg.as_bytes(policy=policy.SMTP if crlf else policy.default)


def ingest(site: Site, raw: bytes) -> str:
    verdict = site.pipeline(Arrival(raw, "pipe"))
    return verdict.outcome


def leaks(text: str) -> bool:
    return SECRET.lower() in text.lower()


def test_crlf_mail_keeps_crlf_in_its_text_parts() -> None:
    # The premise of the CRLF cases: the parsed text keeps the "\r".
    from email.parser import BytesParser

    raw = build_mail("alternative", subject="Lampe", crlf=True)
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    plain = msg.get_body(("plain",))
    assert plain is not None and "\r\n" in str(plain.get_content())


@pytest.mark.parametrize("html_line", HTML_LINES)
def test_a_rendered_secret_line_is_found_and_removed_from_html(
    html_line: str,
) -> None:
    html = f"<html><body>{html_line}<p>Bonjour.</p></body></html>"
    assert html_secret_values(html) == [SECRET]
    cleaned = remove_html_secret_lines(html)
    assert SECRET not in cleaned and "Bonjour." in cleaned
    # Not a line of its own: the words stay (the value guard is elsewhere).
    sentence = f"<p>Mon secret: {SECRET} est ici.</p>"
    assert html_secret_values(sentence) == []
    assert remove_html_secret_lines(sentence) == sentence


CASES = [
    (shape, crlf, plus, html_line)
    for shape in ("plain", "html", "alternative")
    for crlf in (False, True)
    for plus in (False, True)
    for html_line in (HTML_LINES if shape != "plain" else HTML_LINES[:1])
]


def test_the_secret_appears_nowhere(
    site: Site, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="causerie.mailposts")
    expected = 0
    for n, (shape, crlf, plus, html_line) in enumerate(CASES):
        raw = build_mail(
            shape, subject=f"Lampe {n}", crlf=crlf, plus=plus, html_line=html_line
        )
        assert ingest(site, raw) == PUBLISHED, (shape, crlf, plus, html_line)
        expected += 1
    # The plus address alone, the secret in a sentence and in the subject.
    raw = build_mail(
        "alternative",
        subject=f"Atelier {SECRET} du jeudi",
        crlf=True,
        plus=True,
        line=False,
        text=f"Le code était {SECRET}, merci.\n\nLa lampe est finie.\n",
    )
    assert ingest(site, raw) == PUBLISHED
    expected += 1
    raw = build_mail("plain", subject=f"secret: {SECRET} Vitrine", crlf=True)
    assert ingest(site, raw) == PUBLISHED
    expected += 1
    # In a document's file name (which the published file keeps).
    msg = email.message_from_bytes(
        build_mail("plain", subject="Le devis", crlf=False), policy=policy.default
    )
    msg.add_attachment(
        b"%PDF-1.7\n%devis\n", maintype="application", subtype="pdf",
        filename=f"Devis {SECRET}.pdf",
    )  # fmt: skip
    assert ingest(site, bytes(msg)) == PUBLISHED
    expected += 1
    # The subject is the secret alone: no title left, a refusal, whose reply
    # must not quote the subject back.
    assert ingest(site, build_mail("plain", subject=SECRET, crlf=True)) == REFUSED
    expected += 1

    posts = site.posts()
    assert len(posts) == expected - 1
    titles = sorted(p.read_text(encoding="utf-8").splitlines()[0] for p in posts)
    assert "Title: Atelier du jeudi" in titles
    assert "Title: Vitrine" in titles
    for path in (site.root / "content").rglob("*"):
        if path.is_file():
            assert not leaks(path.name), path
            assert not leaks(path.read_bytes().decode("utf-8", "replace")), path
    for post in posts:  # the text itself is kept
        assert "lampe" in post.read_text(encoding="utf-8").lower()

    result = run_publish("--settings", str(site.settings_file), "build", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert not leaks(result.stdout + result.stderr)
    output = site.root / "output"
    pages = [p for p in output.rglob("*") if p.is_file()]
    assert any("lampe-0" in str(p) for p in pages)  # the posts were built
    assert any(p.name == "devis.pdf" for p in pages)  # and the document
    for page in pages:
        assert not leaks(str(page.relative_to(output))), page
        assert not leaks(page.read_bytes().decode("utf-8", "replace")), page

    replies = wait_for(inbox[0], expected)
    assert len(replies) == expected
    for envelope, answer in zip(inbox[0].envelopes, replies, strict=True):
        assert not leaks(envelope.original_content.decode("utf-8", "replace"))
        assert not leaks(str(answer["Subject"])), answer["Subject"]
        body = answer.get_body(("plain",))
        assert body is not None and not leaks(str(body.get_content()))
    assert caplog.records  # the pipeline did log (a post, a refusal)
    assert not leaks(caplog.text)


def test_the_mail_serve_log_never_shows_the_secret(
    site: Site,
    inbox: tuple[Inbox, int],
    dkim_key: tuple[bytes, bytes],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """`mail serve` logs at INFO (a line per mail accepted, per mail
    published): the plus address the secret rides in, the "secret:" line,
    a subject with the secret, never appear in it."""
    private_key, record = dkim_key

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        wanted = b"sel._domainkey.maison-lumen.example"
        return record if name.rstrip(b".") == wanted else None

    settings = dataclasses.replace(site.pipeline.cfg, listen_port=free_port())
    raw = build_mail("plain", subject=f"Lampe {SECRET}", crlf=True, plus=True)
    raw = raw.replace(b"Authentication-Results", b"X-Old-Authentication-Results")
    signature = dkim.sign(
        raw, b"sel", b"maison-lumen.example", private_key,
        include_headers=[b"from", b"subject", b"to"],
    )  # fmt: skip
    handler = service_logging(environ=ENV)
    try:
        with smtp.MailServer(settings, site.pipeline, site.root, dnsfunc=dns):
            port = settings.listen_port
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                to = [f"blog+{SECRET}@maison-lumen.example"]
                assert client.sendmail(CLAIRE, to, bytes(signature) + raw) == {}
            wait_until(lambda: len(site.posts()) == 1, 30)
            wait_for(inbox[0], 1)
            time.sleep(0.3)  # the worker's last lines
    finally:
        top = logging.getLogger("causerie.mailposts")
        top.removeHandler(handler)
        top.setLevel(logging.NOTSET)
    err = capfd.readouterr().err
    assert "accepted" in err and " published " in err, err
    assert "blog+…@maison-lumen.example" in err
    assert not leaks(err), err
    (post,) = site.posts()
    assert not leaks(post.read_text(encoding="utf-8"))


def test_removing_the_line_keeps_a_mislabelled_charset_readable(site: Site) -> None:
    """Windows-1252 bytes labelled UTF-8 (an old client): the part the line
    is cut from is rewritten from the text as the body reader decodes it,
    not from U+FFFD replacement characters."""
    raw = (
        "Authentication-Results: " + AR + "\r\n"
        f"From: {CLAIRE}\r\nTo: blog@maison-lumen.example\r\n"
        "Subject: Vitrine\r\nDate: " + format_datetime(NOW) + "\r\n"
        "Message-ID: <cp1252-1@phone.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"secret: {SECRET}\r\nLa vitrine est prête pour l’été.\r\n"
    ).encode("cp1252")
    assert ingest(site, raw) == PUBLISHED
    (post,) = site.posts()
    text = post.read_text(encoding="utf-8")
    assert "La vitrine est prête pour l’été." in text
    assert "\ufffd" not in text and not leaks(text)
