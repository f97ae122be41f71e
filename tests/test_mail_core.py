"""Posting by e-mail, the core around the parser: who may publish (auth),
writing posts once and atomically (write), when never to answer (reply),
and the ledger. Tables of real messages, built with the stdlib."""

from __future__ import annotations

import datetime as dt
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from causerie.authoring.registry import Author, Registry
from causerie.mailposts import auth, reply, write
from causerie.mailposts.ledger import Ledger
from causerie.mailposts.model import Arrival, MediaFile, Post
from causerie.mailposts.settings import MailSettings

CLAIRE = Author(
    slug="claire-dubois",
    name="Claire Dubois",
    email="claire@maison-lumen.example",
    role="CEO",
    bio="…",
    avatar="a.svg",
    lang="fr",
    mail="publish",
)
KARIM = Author(
    slug="karim-haddad",
    name="Karim Haddad",
    email="karim@maison-lumen.example",
    role="Atelier",
    bio="…",
    avatar="k.svg",
    lang="fr",
    mail="off",
)
REGISTRY = Registry((CLAIRE, KARIM))
SETTINGS = MailSettings(
    address="blog@maison-lumen.example", authserv_id="mx.maison-lumen.example"
)
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def message(*headers: tuple[str, str], body: str = "Bonjour.\n") -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers:
        msg[name] = value
    msg.set_content(body)
    # Through bytes and back, as an adapter would hand it over.
    parsed: EmailMessage = BytesParser(policy=policy.default).parsebytes(bytes(msg))
    return parsed


AR_PASS = (
    "Authentication-Results",
    "mx.maison-lumen.example; dkim=pass (2048-bit key) header.d=maison-lumen.example "
    "header.s=sel; spf=pass smtp.mailfrom=maison-lumen.example",
)
FROM_CLAIRE = ("From", "Claire Dubois <Claire@maison-lumen.example>")
TO_BLOG = ("To", "blog@maison-lumen.example")


def decide(
    msg: EmailMessage,
    dkim: tuple[str, ...] | None = None,
    settings: MailSettings = SETTINGS,
    environ: dict[str, str] | None = None,
    recipients: tuple[str, ...] = (),
) -> auth.Decision:
    arrival = Arrival(bytes(msg), "imap" if dkim is None else "smtp", dkim, recipients)
    return auth.authorize(msg, arrival, REGISTRY, settings, environ or {})


@pytest.mark.parametrize(
    ("headers", "dkim", "allowed", "why"),
    [
        ((FROM_CLAIRE, TO_BLOG, AR_PASS), None, True, None),
        # SMTP mode: our own DKIM check; the header is not even read.
        ((FROM_CLAIRE, TO_BLOG), ("maison-lumen.example",), True, None),
        ((FROM_CLAIRE, TO_BLOG, AR_PASS), (), False, "no DKIM pass aligned"),
        # A spoofed From without DKIM.
        ((FROM_CLAIRE, TO_BLOG), None, False, "no DKIM pass aligned"),
        # A forged Authentication-Results from a foreign authserv-id.
        (
            (
                FROM_CLAIRE,
                TO_BLOG,
                (
                    "Authentication-Results",
                    "mx.attacker.example; dkim=pass header.d=maison-lumen.example",
                ),
            ),
            None,
            False,
            "no DKIM pass aligned",
        ),
        # Ours, but DKIM failed; or passed for another domain.
        (
            (
                FROM_CLAIRE,
                (
                    "Authentication-Results",
                    "mx.maison-lumen.example; dkim=fail header.d=maison-lumen.example",
                ),
            ),
            None,
            False,
            "passing: none",
        ),
        (
            (
                FROM_CLAIRE,
                (
                    "Authentication-Results",
                    "mx.maison-lumen.example; dkim=pass header.d=mailer.example",
                ),
            ),
            None,
            False,
            "passing: mailer.example",
        ),
        # Relaxed alignment: a parent domain's signature covers a subdomain's From.
        (
            (("From", "claire@mail.maison-lumen.example"),),
            ("maison-lumen.example",),
            False,
            "not an author",  # …but that address is not in the registry
        ),
        # The comment (in parentheses) cannot hide a "dkim=pass".
        (
            (
                FROM_CLAIRE,
                (
                    "Authentication-Results",
                    "mx.maison-lumen.example; dkim=fail (was dkim=pass header.d=maison-lumen.example) header.d=maison-lumen.example",
                ),
            ),
            None,
            False,
            "passing: none",
        ),
        (
            (("From", "Someone <someone@elsewhere.example>"), AR_PASS),
            None,
            False,
            "not an author",
        ),
        (
            (("From", "Karim <karim@maison-lumen.example>"), AR_PASS),
            None,
            False,
            'mail = "off"',
        ),
        (
            (
                ("From", "claire@maison-lumen.example, karim@maison-lumen.example"),
                AR_PASS,
            ),
            None,
            False,
            "no single sender",
        ),
        (((("To", "blog@maison-lumen.example")),), None, False, "no single sender"),
    ],
)
def test_who_may_publish(
    headers: tuple[tuple[str, str], ...],
    dkim: tuple[str, ...] | None,
    allowed: bool,
    why: str | None,
) -> None:
    decision = decide(message(*headers), dkim)
    assert decision.allowed is allowed, decision.reason
    if why:
        assert why in (decision.reason or "")
    else:
        assert decision.author == CLAIRE


@pytest.mark.parametrize(
    ("from_domain", "dkim", "expected"),
    [
        ("maison-lumen.example", ("maison-lumen.example",), True),
        ("mail.maison-lumen.example", ("maison-lumen.example",), True),
        ("maison-lumen.example", ("mail.maison-lumen.example",), False),
        ("evil-maison-lumen.example", ("maison-lumen.example",), False),
        ("maison-lumen.example", ("",), False),
        ("maison-lumen.example", (), False),
    ],
)
def test_alignment(from_domain: str, dkim: tuple[str, ...], expected: bool) -> None:
    assert auth.aligned(from_domain, dkim) is expected


SECRET_ENV = {"CAUSERIE_MAIL_SECRET_CLAIRE_DUBOIS": "s3cr3t-lampe"}
WITH_SECRET = MailSettings(
    address="blog@maison-lumen.example",
    authserv_id="mx.maison-lumen.example",
    require_secret=True,
)


@pytest.mark.parametrize(
    ("to", "body", "recipients", "environ", "allowed"),
    [
        ("blog+s3cr3t-lampe@maison-lumen.example", "Bonjour.\n", (), SECRET_ENV, True),
        (
            "blog@maison-lumen.example",
            "secret: s3cr3t-lampe\nBonjour.\n",
            (),
            SECRET_ENV,
            True,
        ),
        (
            "blog@maison-lumen.example",
            "Bonjour.\n",
            ("blog+s3cr3t-lampe@maison-lumen.example",),
            SECRET_ENV,
            True,
        ),
        ("blog+wrong@maison-lumen.example", "Bonjour.\n", (), SECRET_ENV, False),
        (
            "blog@maison-lumen.example",
            "Bonjour, le secret: s3cr3t-lampe\n",
            (),
            SECRET_ENV,
            False,
        ),
        ("blog+s3cr3t-lampe@maison-lumen.example", "Bonjour.\n", (), {}, False),
    ],
)
def test_the_authors_secret(
    to: str,
    body: str,
    recipients: tuple[str, ...],
    environ: dict[str, str],
    allowed: bool,
) -> None:
    msg = message(FROM_CLAIRE, ("To", to), AR_PASS, body=body)
    assert (
        decide(
            msg, settings=WITH_SECRET, environ=environ, recipients=recipients
        ).allowed
        is allowed
    )


def test_secret_lines_are_removed() -> None:
    assert auth.remove_secret_lines("a\nSecret: x1\nb\n") == "a\n\nb\n"


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ((("Auto-Submitted", "auto-replied"),), "Auto-Submitted: auto-replied"),
        ((("Auto-Submitted", "auto-generated; type=vacation"),), "auto-generated"),
        ((("Precedence", "bulk"),), "Precedence: bulk"),
        ((("Precedence", "junk"),), "Precedence: junk"),
        ((("List-Id", "<news.example.com>"),), "List-Id"),
        ((("Return-Path", "<>"),), "bounce"),
        ((("From", "Blog <blog@maison-lumen.example>"),), "our own address"),
        # Another address that merely contains ours is a person.
        ((("From", "Ma <myblog@maison-lumen.example>"),), None),
        ((("X-Auto-Response-Suppress", "All"),), "X-Auto-Response-Suppress"),
        ((("Auto-Submitted", "no"),), None),
        ((("Precedence", "first-class"),), None),
        ((), None),
    ],
)
def test_automatic_mail_is_never_answered(
    headers: tuple[tuple[str, str], ...], why: str | None
) -> None:
    msg = message(
        *(headers if any(h[0] == "From" for h in headers) else (FROM_CLAIRE, *headers))
    )
    found = reply.automatic(msg, SETTINGS.address)
    assert (found is None) if why is None else (why in (found or ""))


def test_replies_are_automatic_with_a_null_sender_friendly_shape() -> None:
    original = message(
        FROM_CLAIRE,
        TO_BLOG,
        ("Subject", "Nouvelle lampe"),
        ("Message-ID", "<a1@phone>"),
    )
    sent = reply.confirmation(
        original, CLAIRE.email, SETTINGS, "fr", "https://blog/x/", draft=False
    )
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == "<a1@phone>"
    assert sent["References"] == "<a1@phone>"
    assert sent["Subject"] == "Re: Nouvelle lampe"
    assert "https://blog/x/" in sent.get_content()
    assert "SUPPRIMER" in sent.get_content()


def post(message_id: str = "<m1@phone>", slug: str = "lampe", **kw: object) -> Post:
    values: dict[str, object] = {
        "title": "Une lampe\nStatus: published",
        "slug": slug,
        "date": dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        "lang": "fr",
        "status": "published",
        "author": "Claire Dubois",
        "body": "Bonjour.",
        "message_id": message_id,
        "tags": ("atelier", "lampes"),
        **kw,
    }
    return Post(**values)  # type: ignore[arg-type]


def test_render_keeps_every_value_on_one_line() -> None:
    text = write.render(post())
    head, body = text.split("\n\n", 1)
    assert head.splitlines() == [
        "Title: Une lampe Status: published",
        "Date: 2026-12-01 09:30",
        "Author: Claire Dubois",
        "Tags: atelier, lampes",
        "Lang: fr",
        "Slug: lampe",
        "Message-Id: <m1@phone>",
    ]
    assert body == "Bonjour.\n"


def test_a_post_is_written_once(tmp_path: Path) -> None:
    path, new = write.write_post(post(), tmp_path, "posts")
    assert (path.name, new) == ("2026-12-01-lampe.md", True)
    again, new_again = write.write_post(post(), tmp_path, "posts")
    assert (again, new_again) == (path, False)
    other, _ = write.write_post(post("<m2@phone>"), tmp_path, "posts")
    assert other.name == "2026-12-01-lampe-2.md"
    assert sorted(p.name for p in (tmp_path / "posts").iterdir()) == [
        "2026-12-01-lampe-2.md",
        "2026-12-01-lampe.md",
    ]  # no temporary file left behind
    assert write.message_id_of(other) == "<m2@phone>"


def test_media_are_written_and_cannot_leave_content(tmp_path: Path) -> None:
    image = MediaFile(
        "images/mail/2026/lampe/1.jpg", b"\xff\xd8jpeg", "image", "image/jpeg"
    )
    path, _ = write.write_post(post(media=(image,)), tmp_path, "posts")
    assert (tmp_path / "images/mail/2026/lampe/1.jpg").read_bytes() == b"\xff\xd8jpeg"
    evil = MediaFile("../../etc/passwd", b"x", "document", "text/plain")
    with pytest.raises(ValueError, match="leaves content"):
        write.write_post(post("<m3@phone>", media=(evil,)), tmp_path, "posts")
    assert path.exists()


def test_replace_keeps_date_slug_and_message_id(tmp_path: Path) -> None:
    path, _ = write.write_post(post(), tmp_path, "posts")
    newer = post(
        "<m9@phone>",
        slug="autre",
        title="Nouveau titre",
        body="Texte corrigé.",
        date=dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC),
    )
    write.replace_post(path, newer, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "Title: Nouveau titre" in text
    assert "Date: 2026-12-01 09:30" in text and "Slug: lampe" in text
    assert "Message-Id: <m1@phone>" in text
    assert text.endswith("\n\nTexte corrigé.\n")
    write.delete_post(path)
    assert not path.exists()


def test_the_ledger(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "var/mail/ledger.sqlite3")
    assert ledger.seen("<a@x>", "d1") is None
    assert ledger.record("<a@x>", "d1", "published", path="posts/a.md", at=NOW)
    assert ledger.seen("<a@x>", "other").outcome == "published"  # type: ignore[union-attr]
    assert ledger.seen("<b@x>", "d1").path == "posts/a.md"  # type: ignore[union-attr]  # same bytes
    assert not ledger.record(
        "<a@x>", "d2", "published", at=NOW
    )  # a second writer loses
    ledger.confirmation_sent("<c@blog>", "posts/a.md", "Claire@X", NOW)
    assert ledger.confirmation(["<z@x>", "<c@blog>"]) == ("posts/a.md", "claire@x")
    assert [ledger.reply_allowed("c@x", 2, NOW) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert ledger.reply_allowed("c@x", 2, NOW + dt.timedelta(hours=2))
    # It survives a reopening (another process, a restart).
    ledger.close()
    assert Ledger(tmp_path / "var/mail/ledger.sqlite3").seen("<a@x>", "") is not None


def test_a_secret_line_is_recognised_and_removed_with_crlf_line_ends() -> None:
    # Bytes as an SMTP delivery hands them over: every line ends in CRLF,
    # and the text part's content keeps the "\r".
    raw = (
        b"From: Claire Dubois <claire@maison-lumen.example>\r\n"
        b"To: blog@maison-lumen.example\r\n"
        b"Subject: Atelier\r\n"
        b"Authentication-Results: mx.maison-lumen.example; dkim=pass"
        b" header.d=maison-lumen.example\r\n"
        b"Message-ID: <crlf-1@maison-lumen.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"\r\n"
        b"secret: s3cr3t-lampe\r\n"
        b"Bonjour.\r\n"
    )
    msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    assert "\r" in str(msg.get_content())
    assert decide(msg, settings=WITH_SECRET, environ=SECRET_ENV).allowed
    cleaned = auth.remove_secret_lines(str(msg.get_content()))
    assert "s3cr3t-lampe" not in cleaned and "Bonjour." in cleaned
