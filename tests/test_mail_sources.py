"""The adapters that bring mail in, against real servers: Dovecot for IMAP,
our aiosmtpd listener driven by smtplib, and files for the pipe."""

from __future__ import annotations

import io
import json
import logging
import shutil
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dkim
import pytest
from mail_kit import (
    PASSWORD,
    Dovecot,
    Scripted,
    dovecot,
    message,
    start_dovecot,
    wait_until,
)
from receiver_kit import free_port
from test_mail_pipeline import Inbox, Site, inbox, site
from test_mail_pipeline import mail as pipeline_mail
from test_mail_pipeline import wait_for as wait_for_replies

__all__ = [
    "dovecot",
    "inbox",
    "site",
]  # the fixtures, from mail_kit and test_mail_pipeline

from causerie.mailposts import model
from causerie.mailposts.errors import MailError
from causerie.mailposts.settings import MailSettings
from causerie.mailposts.sources import imap, pipe, smtp

SEEN, DELETED = b"\\Seen", b"\\Deleted"

# --- IMAP -------------------------------------------------------------------


def poll(server: Dovecot, ingest: Any, **overrides: Any) -> imap.PollReport:
    return imap.poll(server.settings(**overrides), ingest, password=PASSWORD)


def test_poll_moves_each_message_by_its_verdict(dovecot: Dovecot) -> None:
    for subject in ("publish me", "quarantine me", "refuse me", "retry me", "boom"):
        dovecot.append(message(subject))
    assert not {"Processed", "Failed", "Quarantine"} & dovecot.folders()
    ingest = Scripted()

    report = poll(dovecot, ingest)

    assert sorted(ingest.subjects()) == sorted(
        ["publish me", "quarantine me", "refuse me", "retry me", "boom"]
    )
    assert all(a.via == "imap" and a.dkim_domains is None for a in ingest.arrivals)
    assert {r.folder for r in report.moved} == {"Processed", "Quarantine", "Failed"}
    assert len(report.kept) == 2
    (boom,) = [r for r in report.kept if r.verdict is None]
    assert boom.error == "RuntimeError: the pipeline broke"
    # The folders were created; every message is still unread (BODY.PEEK).
    assert dovecot.folder("Processed") == [("publish me", ())]
    assert dovecot.folder("Quarantine") == [("quarantine me", ())]
    assert dovecot.folder("Failed") == [("refuse me", ())]
    # RETRY and a failing pipeline: left in INBOX, unseen, not flagged.
    assert dovecot.folder("INBOX") == [("boom", ()), ("retry me", ())]


def test_a_second_poll_finds_nothing_new(dovecot: Dovecot) -> None:
    dovecot.append(message("publish one"))
    dovecot.append(message("draft two"))
    ingest = Scripted()
    assert len(poll(dovecot, ingest).moved) == 2
    assert dovecot.folder("INBOX") == []

    again = poll(dovecot, ingest)

    assert again.results == [] and len(ingest.arrivals) == 2


def test_a_kept_message_is_tried_again_by_the_next_poll(dovecot: Dovecot) -> None:
    dovecot.append(message("publish later"))
    ingest = Scripted()
    ingest.fail_first.add("publish later")
    (first,) = poll(dovecot, ingest).results
    assert first.folder is None and first.error
    assert dovecot.folder("INBOX") == [("publish later", ())]

    (second,) = poll(dovecot, ingest).results

    assert second.folder == "Processed"
    assert dovecot.folder("Processed") == [("publish later", ())]


def test_without_move_it_copies_and_expunges_only_that_message() -> None:
    # A server without MOVE (RFC 6851): UID COPY, \Deleted, UID EXPUNGE.
    server = start_dovecot(
        capability="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS"
    )
    try:
        # Someone else's message flagged \Deleted must survive our expunges.
        server.append(message("not ours"))
        with server.client() as client:
            client.select_folder("INBOX")
            client.add_flags(client.search("ALL"), [DELETED])
        server.append(message("publish me"))
        server.append(message("retry me"))
        ingest = Scripted()

        report = poll(server, ingest)

        assert [r.folder for r in report.results] == ["Processed", None]
        assert ingest.subjects() == ["publish me", "retry me"]  # \Deleted skipped
        assert server.folder("Processed") == [("publish me", ())]
        assert server.folder("INBOX") == [("not ours", (DELETED,)), ("retry me", ())]
    finally:
        server.cleanup()


def test_imaps_and_starttls_verify_the_server_certificate() -> None:
    server = start_dovecot(tls=True)
    try:
        trust = ssl.create_default_context(cafile=str(server.cert))
        ingest = Scripted()
        ways = {"ssl": server.imaps_port, "starttls": server.port}
        for security, port in ways.items():
            server.append(message(f"publish over {security}"))
            settings = server.settings(imap_security=security, imap_port=port)

            # The system's trust store does not know this server's certificate.
            with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
                imap.poll(settings, ingest, password=PASSWORD)
            report = imap.poll(settings, ingest, password=PASSWORD, ssl_context=trust)

            assert [r.folder for r in report.results] == ["Processed"]
        assert ingest.subjects() == ["publish over ssl", "publish over starttls"]
    finally:
        server.cleanup()


def test_a_message_over_the_size_limit_goes_to_failed_unread(dovecot: Dovecot) -> None:
    dovecot.append(message("publish big", "x" * 5000))
    ingest = Scripted()

    (result,) = poll(dovecot, ingest, max_message_bytes=2000).results

    assert ingest.arrivals == []
    assert result.folder == "Failed" and result.verdict
    assert "max_message_bytes" in (result.verdict.reason or "")
    assert dovecot.folder("Failed") == [("publish big", ())]


def test_a_refused_login_says_what_to_check(dovecot: Dovecot) -> None:
    with pytest.raises(MailError) as caught:
        imap.poll(dovecot.settings(), Scripted(), password="wrong-secret")
    assert "CAUSERIE_IMAP_PASSWORD" in str(caught.value)
    assert "wrong-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "secret", "expected"),
    [
        ({"imap_security": "none", "imap_host": "imap.example.com"}, "x", "in clear"),
        ({}, None, "CAUSERIE_IMAP_PASSWORD"),
        ({"imap_host": None}, "x", "imap_host"),
        ({"imap_user": None}, "x", "imap_user"),
    ],
)
def test_settings_errors_say_what_to_fix(
    overrides: dict[str, Any], secret: str | None, expected: str
) -> None:
    settings = MailSettings(
        **{
            "imap_host": "127.0.0.1",
            "imap_port": free_port(),
            "imap_user": "blog",
            "imap_security": "none",
            **overrides,
        }
    )
    with pytest.raises(MailError, match=expected):
        imap.poll(settings, Scripted(), password=secret)


def test_an_unreachable_server_is_a_mail_error() -> None:
    settings = MailSettings(
        imap_host="127.0.0.1",
        imap_port=free_port(),
        imap_user="u",
        imap_security="none",
    )
    with pytest.raises(MailError, match="imap_port"):
        imap.poll(settings, Scripted(), password="x")


def run_watch(
    server: Dovecot,
    ingest: Callable[[model.Arrival], model.Verdict],
    **kwargs: Any,
) -> tuple[threading.Event, threading.Thread, list[BaseException]]:
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            imap.watch(
                server.settings(),
                ingest,
                password=PASSWORD,
                stop=stop,
                backoff=imap.Backoff(0.1, 0.5),
                **kwargs,
            )
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return stop, thread, errors


def test_watch_picks_up_new_mail_with_idle_until_stopped(dovecot: Dovecot) -> None:
    dovecot.append(message("publish before"))
    ingest = Scripted()
    reports: list[imap.PollReport] = []
    stop, thread, errors = run_watch(dovecot, ingest, on_report=reports.append)
    try:
        ingest.wait_for(1)
        dovecot.append(message("publish during"))

        ingest.wait_for(2)
        wait_until(lambda: len(dovecot.folder("Processed")) == 2)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and errors == []
    assert ingest.subjects() == ["publish before", "publish during"]
    assert [len(r.moved) for r in reports] == [1, 1]
    assert dovecot.folder("INBOX") == []


def test_watch_sees_mail_that_arrives_while_it_works(dovecot: Dovecot) -> None:
    # The server announces the new message (EXISTS) in its answer to one of
    # our commands, not during IDLE: it must not wait for the IDLE refresh.
    dovecot.append(message("publish first"))
    gate = threading.Event()
    ingest = Scripted(gate)
    stop, thread, errors = run_watch(dovecot, ingest)
    try:
        ingest.wait_for(1)  # the pipeline holds the first message…
        dovecot.append(message("publish second"))  # …while a second arrives
        gate.set()

        ingest.wait_for(2, timeout=10)
    finally:
        stop.set()
        thread.join(10)
    assert errors == []
    assert ingest.subjects() == ["publish first", "publish second"]


class Recorded:
    """The real pipeline of a site, counting what the source handed it."""

    def __init__(self, pipeline: Callable[[model.Arrival], model.Verdict]) -> None:
        self.pipeline = pipeline
        self.calls: list[model.Verdict] = []
        self.lock = threading.Lock()

    def __call__(self, arrival: model.Arrival) -> model.Verdict:
        verdict = self.pipeline(arrival)
        with self.lock:
            self.calls.append(verdict)
        return verdict

    def wait_for(self, count: int, timeout: float = 15) -> None:
        wait_until(lambda: len(self.calls) >= count, timeout)


def test_watch_reconnects_after_the_server_restarts(
    dovecot: Dovecot,
    site: Site,
    inbox: tuple[Inbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Dovecot stops right after the first message went through the pipeline,
    # possibly before its MOVE was answered: IMAP gives at-least-once
    # delivery, so the source may hand that message over again after the
    # restart (seen under load in CI). What must hold is the outcome: one
    # post and one reply per message, whatever the source did.
    caplog.set_level(logging.INFO, logger="causerie.mailposts")
    ingest = Recorded(site.pipeline)
    stop, thread, errors = run_watch(dovecot, ingest)
    try:
        dovecot.append(pipeline_mail(subject="Premier billet"))
        ingest.wait_for(1)

        dovecot.stop()
        dovecot.start()
        dovecot.append(pipeline_mail(subject="Second billet"))

        wait_until(lambda: len(dovecot.folder("Processed")) >= 2, timeout=30)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and errors == []
    published = [v for v in ingest.calls if v.outcome == model.PUBLISHED]
    assert len(published) == 2
    assert {v.outcome for v in ingest.calls} <= {model.PUBLISHED, model.DUPLICATE}
    assert len(site.posts()) == 2
    assert len(wait_for_replies(inbox[0], 2)) == 2
    time.sleep(0.5)  # a doubled reply would arrive now
    assert len(inbox[0].envelopes) == 2
    logged = caplog.text
    assert "IMAP connection to 127.0.0.1" in logged and "is back" in logged
    assert PASSWORD not in logged


def test_a_message_delivered_twice_makes_one_post_and_one_reply(
    dovecot: Dovecot, site: Site, inbox: tuple[Inbox, int]
) -> None:
    # The deterministic form of the case above: the same message (same
    # Message-ID) is in the mailbox twice, as after a MOVE whose answer was
    # lost. The real pipeline publishes it once and answers once.
    raw = pipeline_mail(subject="Un seul billet")
    dovecot.append(raw)
    dovecot.append(raw)
    ingest = Recorded(site.pipeline)

    poll(dovecot, ingest)

    assert [v.outcome for v in ingest.calls] == [model.PUBLISHED, model.DUPLICATE]
    assert len(site.posts()) == 1
    assert len(wait_for_replies(inbox[0], 1)) == 1
    time.sleep(0.5)
    assert len(inbox[0].envelopes) == 1
    assert dovecot.folder("INBOX") == []


def test_watch_retries_a_kept_message_later(dovecot: Dovecot) -> None:
    dovecot.append(message("publish eventually"))
    ingest = Scripted()
    ingest.fail_first.add("publish eventually")
    stop, thread, errors = run_watch(dovecot, ingest, retry=imap.Backoff(0.2, 1.0))
    try:
        ingest.wait_for(2)
        wait_until(lambda: dovecot.folder("Processed") == [("publish eventually", ())])
    finally:
        stop.set()
        thread.join(10)
    assert errors == []


def test_watch_stops_at_once_on_a_wrong_password(dovecot: Dovecot) -> None:
    with pytest.raises(MailError, match="refused the login"):
        imap.watch(dovecot.settings(), Scripted(), password="nope")


# --- SMTP / LMTP ------------------------------------------------------------

BLOG = "blog@example.com"
SENDER = "claire@example.com"

ServerFactory = Callable[..., smtp.MailServer]


@pytest.fixture
def mail_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start a listener (the real spool and worker) on a free port."""
    started: list[smtp.MailServer] = []

    def start(ingest: Any, **kwargs: Any) -> smtp.MailServer:
        settings = MailSettings(
            address=BLOG,
            listen_port=free_port(),
            max_message_bytes=kwargs.pop("max_message_bytes", 20_000),
            lmtp=kwargs.pop("lmtp", False),
        )
        kwargs.setdefault("retry", smtp.RetryDelays(0.2, 1.0))
        server = smtp.MailServer(settings, ingest, tmp_path / "site", **kwargs)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def send(
    server: smtp.MailServer, raw: bytes, to: list[str] | None = None
) -> dict[str, Any]:
    kind = smtplib.LMTP if server.settings.lmtp else smtplib.SMTP
    with kind("127.0.0.1", server.settings.listen_port, timeout=10) as client:
        return dict(client.sendmail(SENDER, to or [BLOG], raw))


def spooled(server: smtp.MailServer) -> list[Path]:
    return sorted(server.spool.dir.glob("*.eml"))


def test_250_comes_only_once_the_message_is_spooled(mail_server: ServerFactory) -> None:
    gate = threading.Event()
    ingest = Scripted(gate)
    server = mail_server(ingest)
    raw = message("publish me")

    send(server, raw)

    # sendmail returned (250): the message is on disk, with its envelope,
    # while the pipeline has not finished with it.
    (eml,) = spooled(server)
    assert eml.read_bytes() == raw
    envelope = json.loads(eml.with_suffix(".json").read_text())
    assert envelope["recipients"] == [BLOG] and envelope["mail_from"] == SENDER
    assert list(server.spool.dir.glob(".tmp-*")) == []
    gate.set()
    (arrival,) = ingest.wait_for(1)
    assert arrival.raw == raw and arrival.via == "smtp"
    assert arrival.recipients == (BLOG,) and arrival.dkim_domains == ()
    wait_until(lambda: spooled(server) == [])  # done: removed


def test_an_unknown_recipient_gets_550(mail_server: ServerFactory) -> None:
    ingest = Scripted()
    server = mail_server(ingest)

    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        send(server, message("publish me"), ["someone@example.com"])
    assert caught.value.recipients["someone@example.com"][0] == 550

    # One served recipient out of two: accepted for that one only.
    refused = send(server, message("publish me"), ["other@example.org", BLOG])
    assert refused["other@example.org"][0] == 550
    assert ingest.wait_for(1)[0].recipients == (BLOG,)


def test_a_plus_address_is_served_and_kept_for_the_pipeline(
    mail_server: ServerFactory,
) -> None:
    ingest = Scripted()
    server = mail_server(ingest)

    send(server, message("publish me"), ["Blog+S3cret@Example.com"])

    assert ingest.wait_for(1)[0].recipients == ("Blog+S3cret@Example.com",)


def test_the_size_limit_is_announced_and_enforced(mail_server: ServerFactory) -> None:
    ingest = Scripted()
    server = mail_server(ingest, max_message_bytes=2000)
    big = message("publish big", "x" * 5000)
    with smtplib.SMTP("127.0.0.1", server.settings.listen_port, timeout=10) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "2000"  # RFC 1870

        # smtplib declares SIZE= on MAIL FROM: refused at once.
        with pytest.raises(smtplib.SMTPSenderRefused) as caught:
            client.sendmail(SENDER, [BLOG], big)
        assert caught.value.smtp_code == 552

        # A client that declares nothing is refused after DATA.
        client.rset()
        assert client.mail(SENDER)[0] == 250
        assert client.rcpt(BLOG)[0] == 250
        code, _ = client.data(big)
        assert code == 552
    assert spooled(server) == [] and ingest.arrivals == []


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_a_spool_that_cannot_be_written_gets_451_never_250(
    mail_server: ServerFactory, lmtp: bool
) -> None:
    ingest = Scripted()
    server = mail_server(ingest, lmtp=lmtp)
    # Stands for a full disk: the spool directory is now a plain file.
    shutil.rmtree(server.spool.dir)
    server.spool.dir.write_text("not a directory")

    with pytest.raises(smtplib.SMTPDataError) as caught:
        send(server, message("publish me"))

    assert caught.value.smtp_code == 451
    assert ingest.arrivals == []


def signed(raw: bytes, private_key: bytes, domain: bytes = b"example.com") -> bytes:
    signature = dkim.sign(
        raw, b"sel", domain, private_key, include_headers=[b"from", b"subject", b"to"]
    )
    return bytes(signature) + raw


def dns_for(record: bytes) -> smtp.DnsFunc:
    """A DNS without network: the test's key for sel._domainkey.example.com."""

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name.rstrip(b".") == b"sel._domainkey.example.com" else None

    return lookup


def test_a_valid_dkim_signature_gives_its_domain(
    mail_server: ServerFactory, dkim_key: tuple[bytes, bytes]
) -> None:
    private_key, record = dkim_key
    ingest = Scripted()
    server = mail_server(ingest, dnsfunc=dns_for(record))

    send(server, signed(message("publish signed"), private_key))

    assert ingest.wait_for(1)[0].dkim_domains == ("example.com",)


def test_a_tampered_body_breaks_the_signature(
    mail_server: ServerFactory, dkim_key: tuple[bytes, bytes]
) -> None:
    private_key, record = dkim_key
    ingest = Scripted()
    server = mail_server(ingest, dnsfunc=dns_for(record))
    raw = signed(message("publish signed", "Le vrai texte.\n"), private_key)

    send(server, raw.replace(b"Le vrai texte.", b"Un faux texte."))

    assert ingest.wait_for(1)[0].dkim_domains == ()


def test_every_signature_is_checked(dkim_key: tuple[bytes, bytes]) -> None:
    private_key, record = dkim_key
    # The topmost signature (d=other.example) has no key; the next one passes.
    raw = signed(signed(message("x"), private_key), private_key, b"other.example")
    assert smtp.dkim_domains(raw, dns_for(record)) == ("example.com",)
    assert smtp.dkim_domains(b"not a message at all", dns_for(record)) == ()


def test_lmtp_answers_once_per_recipient(mail_server: ServerFactory) -> None:
    ingest = Scripted()
    server = mail_server(ingest, lmtp=True)
    alias = "blog+x@example.com"
    with smtplib.LMTP("127.0.0.1", server.settings.listen_port, timeout=10) as client:
        client.ehlo()  # LHLO
        assert client.mail(SENDER)[0] == 250
        assert client.rcpt(BLOG)[0] == 250
        assert client.rcpt(alias)[0] == 250
        first = client.data(message("publish by lmtp"))
        second = client.getreply()  # RFC 2033 §4.2: one reply per recipient
    assert first[0] == 250 and BLOG.encode() in first[1]
    assert second[0] == 250 and alias.encode() in second[1]
    (arrival,) = ingest.wait_for(1)
    assert arrival.via == "lmtp" and arrival.recipients == (BLOG, alias)


def test_mail_left_in_the_spool_is_processed_at_start_up(
    mail_server: ServerFactory, tmp_path: Path
) -> None:
    # What a crash leaves: a message, a temp file, an envelope alone.
    spool = smtp.Spool(tmp_path / "site" / "var" / "mail")
    spool.create()
    name = spool.store(message("publish after crash"), smtp.Envelope((BLOG,)))
    (spool.dir / ".tmp-123.eml").write_bytes(b"half written")
    (spool.dir / "123.json").write_text('{"recipients": []}')
    ingest = Scripted()

    server = mail_server(ingest)

    (arrival,) = ingest.wait_for(1)
    assert arrival.recipients == (BLOG,) and arrival.via == "smtp"
    wait_until(lambda: list(server.spool.dir.iterdir()) == [])
    assert not spool.path(name).exists()


def test_a_failing_pipeline_keeps_the_message_for_a_retry(
    mail_server: ServerFactory,
) -> None:
    ingest = Scripted()
    ingest.fail_first.add("publish later")
    server = mail_server(ingest)

    send(server, message("publish later"))

    ingest.wait_for(1)
    # The first try raised: the message is still in the spool…
    assert len(spooled(server)) == 1
    # …and the retry, a moment later, publishes it.
    ingest.wait_for(2)
    wait_until(lambda: spooled(server) == [])


@pytest.mark.parametrize("subject", ["quarantine", "refuse"])
def test_quarantined_and_refused_mail_leaves_the_spool(
    mail_server: ServerFactory, subject: str
) -> None:
    """A final verdict ends the spool's job (the pipeline keeps its own copy
    of set-aside mail: tests/test_mail_pipeline.py)."""
    ingest = Scripted()
    server = mail_server(ingest)

    send(server, message(subject))

    ingest.wait_for(1)
    wait_until(lambda: spooled(server) == [])
    assert sorted(p.name for p in server.spool.root.iterdir()) == ["spool"]


def test_served_addresses() -> None:
    served = ("blog@example.com",)
    assert smtp.is_served("<BLOG@example.com>", served)
    assert smtp.is_served("blog+secret@example.com", served)
    assert not smtp.is_served("blog@example.org", served)
    assert not smtp.is_served("blogger@example.com", served)
    assert not smtp.is_served("+x@example.com", served)
    assert not smtp.is_served("blog", served)


# --- pipe -------------------------------------------------------------------


def test_import_one_eml_file(tmp_path: Path) -> None:
    path = tmp_path / "post.eml"
    path.write_bytes(message("publish from file"))
    ingest = Scripted()

    (result,) = pipe.import_messages(path, ingest)

    assert result.name == str(path) and result.ok
    assert result.verdict == model.Verdict(
        model.PUBLISHED, path="posts/publish from file.md"
    )
    (arrival,) = ingest.arrivals
    assert arrival.via == "pipe" and arrival.raw == path.read_bytes()


def test_import_a_maildir_where_one_message_fails(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(message("publish one"))
    (maildir / "new" / "2.host").write_bytes(message("boom two"))
    (maildir / "cur" / "3.host:2,S").write_bytes(message("publish three"))
    (maildir / "tmp" / "4.host").write_bytes(b"being delivered")
    (maildir / "new" / ".hidden").write_bytes(b"not a message")
    seen: list[pipe.ImportResult] = []
    ingest = Scripted()

    results = pipe.import_messages(maildir, ingest, progress=seen.append)

    assert seen == results
    assert [Path(r.name).name for r in results] == ["1.host", "2.host", "3.host:2,S"]
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].verdict is None
    assert results[1].error == "RuntimeError: the pipeline broke"
    assert ingest.subjects() == ["publish one", "boom two", "publish three"]
    # Read-only: nothing moved in the Maildir.
    assert (maildir / "new" / "1.host").exists()


def test_import_from_a_stream() -> None:
    ingest = Scripted()

    (result,) = pipe.import_messages(io.BytesIO(message("retry stdin")), ingest)

    assert result.name == "-" and not result.ok
    assert result.verdict and result.verdict.outcome == model.RETRY


def test_import_refuses_an_oversized_message(tmp_path: Path) -> None:
    ingest = Scripted()

    (result,) = pipe.import_messages(
        io.BytesIO(message("big", "x" * 5000)), ingest, max_bytes=1000
    )

    assert result.verdict is None and "max_message_bytes" in (result.error or "")
    assert ingest.arrivals == []


def test_import_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(MailError, match="not a Maildir"):
        pipe.import_messages(tmp_path, Scripted())
    with pytest.raises(MailError, match="does not exist"):
        pipe.import_messages(tmp_path / "nope.eml", Scripted())
