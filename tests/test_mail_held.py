"""Every mail ends accounted for (issue 12 item 5): held messages are listed,
released or dropped by the operator; a transient failure — a DKIM key
lookup that times out or fails, a reply the mail server does not take — is
retried later, never final. Real parts: a DNS server on loopback (UDP), the
real CLI as processes, `mail serve` over SMTP, an SMTP listener for replies."""

from __future__ import annotations

import datetime as dt
import smtplib
import sqlite3
import subprocess
import sys
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import dkim
import pytest
from aiosmtpd.controller import Controller
from conftest import ROOT, run_publish, stop_process
from dns_kit import SERVFAIL, SILENT, DnsServer
from mail_kit import dkim_keypair
from receiver_kit import free_port, wait_until
from test_mail_cli import blog, posts
from test_mail_pipeline import Inbox, Site, ingest, mail, wait_for

from causerie.mailposts import dkimcheck
from causerie.mailposts.model import PUBLISHED, QUARANTINED, RETRY, UPDATED, Arrival

CLAIRE = "Claire Dubois <claire.dubois@maison-lumen.example>"
KEY_NAME = "s1._domainkey.maison-lumen.example"
GOOD_AR = "mx.maison-lumen.example; dkim=pass header.d=maison-lumen.example"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    return dkim_keypair(tmp_path_factory.mktemp("dkim"))


def message(subject: str, *, ar: str | None = None, sign: bytes | None = None) -> bytes:
    msg = EmailMessage()
    if ar:
        msg["Authentication-Results"] = ar
    msg["From"] = CLAIRE
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3))
    msg["Message-ID"] = make_msgid(domain="phone.example")
    msg.set_content("Le four est réparé, la production reprend lundi.\n")
    raw = msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if sign is None:
        return raw
    signature = dkim.sign(
        raw,
        b"s1",
        b"maison-lumen.example",
        sign,
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return bytes(signature) + raw


def ledger_rows(root: Path) -> list[tuple[str, str]]:
    path = root / "var" / "mail" / "ledger.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return [
            tuple(r) for r in conn.execute("SELECT message_id, outcome FROM messages")
        ]


# --- DKIM: a key lookup that fails now is not a failed signature --------------


def test_a_key_lookup_that_times_out_or_fails_is_temporary(
    key: tuple[bytes, bytes],
) -> None:
    """dkimpy reports a DNS timeout, and a SERVFAIL, as "does not verify":
    the message was quarantined as forged (issue 12 item 5)."""
    private, record = key
    raw = message("Une nouvelle", sign=private)
    with DnsServer({KEY_NAME: record}) as server:
        lookup = dkimcheck.resolver_lookup((server.address,), timeout=0.5)
        assert dkimcheck.check(raw, lookup) == dkimcheck.DkimResult(
            ("maison-lumen.example",)
        )
        server.mode = SERVFAIL
        failed = dkimcheck.check(raw, lookup)
        assert failed.domains == () and "SERVFAIL" in (failed.temporary or "")
        server.mode = SILENT
        silent = dkimcheck.check(raw, lookup)
        assert silent.domains == () and "timeout" in (silent.temporary or "")
        server.mode, server.records = "answer", {}  # NXDOMAIN: no key, for good
        assert dkimcheck.check(raw, lookup) == dkimcheck.DkimResult(())


def serve(settings: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, str(ROOT / "publish.py")),
            *("--settings", str(settings), "mail", "serve"),
        ],
        cwd=settings.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def send(port: int, raw: bytes) -> None:
    wait_until(lambda: smtplib.SMTP("127.0.0.1", port, timeout=2).quit(), 30)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        assert (
            client.sendmail(
                "c@maison-lumen.example", ["blog@maison-lumen.example"], raw
            )
            == {}
        )


def test_mail_serve_keeps_a_message_whose_key_lookup_fails_and_retries_it(
    tmp_path: Path, key: tuple[bytes, bytes]
) -> None:
    """SERVFAIL for the DKIM key: no quarantine, no ledger row; the message
    stays in the spool, its redelivery is not a duplicate, and the next
    `mail serve` publishes it once the DNS answers."""
    private, record = key
    root = tmp_path / "blog"
    port = free_port()
    with DnsServer({KEY_NAME: record}) as server:
        settings = blog(
            root, listen_port=port, dns_servers=[server.address], dns_timeout=0.5
        )
        server.mode = SERVFAIL
        raw = message("Le four est réparé", sign=private)
        proc = serve(settings)
        try:
            send(port, raw)
            send(port, raw)  # the sending server tries again: not a duplicate
            wait_until(lambda: len(server.queries) >= 2, 30)
        finally:
            stop_process(proc)
        spool = root / "var" / "mail" / "spool"
        assert len(list(spool.glob("*.eml"))) == 2
        assert not list((root / "var" / "mail" / "quarantined").glob("*.eml"))
        assert ledger_rows(root) == []
        assert posts(root) == []

        server.mode = "answer"  # the DNS is back
        proc = serve(settings)
        try:
            wait_until(
                lambda: len(posts(root)) == 1 and not list(spool.glob("*.eml")), 60
            )
        finally:
            stop_process(proc)
    assert [outcome for _id, outcome in ledger_rows(root)] == [PUBLISHED]
    assert len(posts(root)) == 1


# --- held, release, drop ------------------------------------------------------


def publish(settings: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_publish("--settings", str(settings), "mail", *args, cwd=settings.parent)


def test_held_release_and_drop_from_the_command_line(tmp_path: Path) -> None:
    root = tmp_path / "blog"
    # The mail server's authserv-id is mistyped in the settings: every mail
    # is held ("no DKIM pass"), none is lost.
    settings = blog(root, authserv_id="mx.maison-lumen.exmaple")
    mails = tmp_path / "mails"
    mails.mkdir()
    first = mails / "first.eml"
    first.write_bytes(message("Le four est réparé", ar=GOOD_AR))
    forged = mails / "forged.eml"
    forged.write_bytes(
        message(
            "Virement urgent",
            ar="mx.attacker.example; dkim=pass header.d=maison-lumen.example",
        )
    )
    for file in (first, forged):
        assert publish(settings, "import", str(file)).stdout.startswith("quarantined")

    listed = publish(settings, "held")
    assert listed.returncode == 0, listed.stderr
    assert "2 held messages." in listed.stdout
    assert "Le four est réparé" in listed.stdout and "Virement urgent" in listed.stdout
    assert "claire.dubois@maison-lumen.example" in listed.stdout
    assert "no DKIM pass aligned" in listed.stdout
    lines = listed.stdout.splitlines()
    good_id = next(line for line in lines if "Le four" in line).split()[0]
    forged_id = next(line for line in lines if "Virement" in line).split()[0]

    # A redelivery of a held message is a duplicate…
    assert publish(settings, "import", str(first)).stdout.startswith("duplicate")
    # …and releasing it with unchanged settings holds it again.
    again = publish(settings, "release", good_id)
    assert again.returncode == 1 and again.stdout.startswith("quarantined")

    # The settings fixed: released with them, it is published.
    blog(root, authserv_id="mx.maison-lumen.example")
    released = publish(settings, "release", good_id)
    assert released.returncode == 0, released.stdout + released.stderr
    assert released.stdout.startswith("published")
    assert len(posts(root)) == 1
    assert "Le four est réparé" not in publish(settings, "held").stdout
    # Released and published: a redelivery is now a duplicate of the post.
    assert publish(settings, "import", str(first)).stdout.startswith("duplicate")

    # The forged one: dropped, its copy gone, its record kept.
    dropped = publish(settings, "drop", forged_id)
    assert dropped.returncode == 0, dropped.stderr
    assert dropped.stdout.startswith("dropped")
    assert publish(settings, "held").stdout.strip() == "No held messages."
    assert not list((root / "var" / "mail" / "quarantined").iterdir())
    assert "dropped" in [outcome for _id, outcome in ledger_rows(root)]
    assert publish(settings, "import", str(forged)).stdout.startswith("duplicate")

    unknown = publish(settings, "release", "ffffffffffff")
    assert unknown.returncode == 1 and "publish mail held" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_release_trust_publishes_without_dkim_but_sanitized(tmp_path: Path) -> None:
    """The operator's override: a genuine mail whose DKIM cannot pass (a
    phone's relay that breaks signatures). Still an author, still
    sanitized; a stranger stays held."""
    root = tmp_path / "blog"
    settings = blog(root)
    msg = EmailMessage()
    msg["From"] = CLAIRE
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = "Portes ouvertes samedi"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain="phone.example")
    msg.set_content("Venez nombreux <script>alert(1)</script> samedi.\n")
    unsigned = tmp_path / "unsigned.eml"
    unsigned.write_bytes(bytes(msg))
    del msg["From"], msg["Message-ID"]
    msg["From"] = "Inconnu <someone@elsewhere.example>"
    msg["Message-ID"] = make_msgid(domain="elsewhere.example")
    stranger = tmp_path / "stranger.eml"
    stranger.write_bytes(bytes(msg))
    for file in (unsigned, stranger):
        assert publish(settings, "import", str(file)).stdout.startswith("quarantined")
    listed = publish(settings, "held").stdout.splitlines()
    claire_id = next(line for line in listed if "claire" in line).split()[0]
    stranger_id = next(line for line in listed if "someone@" in line).split()[0]

    trusted = publish(settings, "release", "--trust", claire_id)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    (post,) = posts(root)
    text = post.read_text(encoding="utf-8")
    assert "Venez nombreux" in text and "<script>" not in text
    held_stranger = publish(settings, "release", "--trust", stranger_id)
    assert held_stranger.returncode == 1
    assert "not an author" in held_stranger.stdout


# --- a reply the mail server did not take -------------------------------------


def test_a_reply_the_relay_refused_is_sent_later_and_still_confirms(
    tmp_path: Path,
) -> None:
    """The reply server is down when the post is published: the reply is
    kept in var/mail/outbox/, sent on the next try, and an answer to it
    (MODIFIER) still edits the post — it was lost before."""
    port = free_port()
    site = Site(tmp_path / "blog", port)  # nothing listens on the port yet
    assert ingest(site, mail()).outcome == PUBLISHED
    outbox = site.root / "var" / "mail" / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 1
    assert site.pipeline.retry_replies() == (0, 1)  # still down: kept

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert site.pipeline.retry_replies() == (1, 0)
        (confirmation,) = wait_for(handler, 1)
        assert "est en ligne" in confirmation.get_content()
        assert not list(outbox.glob("*.eml"))
        edited = site.pipeline(
            Arrival(
                mail(
                    subject="Re: Une nouvelle lampe",
                    body="MODIFIER\n\nLe texte corrigé.\n",
                    extra={"In-Reply-To": str(confirmation["Message-ID"])},
                ),
                "pipe",
            )
        )
        assert edited.outcome == UPDATED, edited.reason
    finally:
        controller.stop()


def test_a_temperror_of_our_mail_server_is_checked_here_and_retried(
    tmp_path: Path, key: tuple[bytes, bytes]
) -> None:
    """IMAP and pipe modes trust the mail server's Authentication-Results;
    `dkim=temperror` there (it could not fetch the key) was a quarantine for
    good. Now the signature is verified here: a DNS still failing is a
    retry with nothing recorded; once it answers, the post."""
    private, record = key
    site = Site(tmp_path / "blog", free_port())  # no reply server: none needed
    site.pipeline.mailer = None
    temperror = (
        "mx.maison-lumen.example; dkim=temperror (key lookup timed out) "
        "header.d=maison-lumen.example header.s=s1"
    )

    def signed_mail() -> bytes:
        unsigned = mail(ar=temperror)
        signature = dkim.sign(
            unsigned, b"s1", b"maison-lumen.example", private,
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )  # fmt: skip
        return bytes(signature) + unsigned

    raw = signed_mail()
    with DnsServer({KEY_NAME: record}) as server:
        site.pipeline.dnsfunc = dkimcheck.resolver_lookup((server.address,), 0.5)
        server.mode = SERVFAIL
        first = ingest(site, raw)
        assert first.outcome == RETRY, first.reason
        assert ledger_rows(site.root) == [] and site.posts() == []
        server.mode = "answer"
        second = ingest(site, raw)
        assert second.outcome == PUBLISHED, second.reason
        # Tampered: verified here, it fails for good (held, not retried).
        tampered = signed_mail().replace(b"Elle part demain", b"Elle part jamais")
        forged = ingest(site, tampered)
        assert forged.outcome == QUARANTINED, forged.reason
