"""One SMTP client for replies and notifications (issue 14): the SMTP block
and one password serve both, through a real SMTP listener on loopback; the
older per-capability keys and password still work, with a warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from test_notify import Collector, free_port

from causerie import smtp
from causerie.errors import SettingsError
from causerie.mailposts.reply import smtp_mailer
from causerie.mailposts.settings import MailSettings
from causerie.webmentions.settings import WebmentionSettings


def message(to: str = "claire@maison-lumen.example") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "blog@maison-lumen.example"
    msg["To"] = to
    msg["Subject"] = "Publié"
    msg.set_content("Votre billet est en ligne.\n")
    return msg


@pytest.fixture
def smtp_listener() -> Iterator[tuple[Collector, int]]:
    """aiosmtpd on loopback, as in test_notify."""
    from aiosmtpd.controller import Controller

    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def fresh_warnings() -> None:
    smtp._warned.clear()


def test_the_smtp_block_wins_over_the_older_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    legacy = MailSettings(address="blog@x.example", smtp_host="old.example")
    settings: dict[str, Any] = {
        "SMTP": {"host": "new.example", "port": 587, "starttls": True}
    }
    with caplog.at_level(logging.WARNING, logger="causerie.smtp"):
        cfg = smtp.smtp_settings(settings, legacy, "MAILPOSTS")
    assert (cfg.host, cfg.port, cfg.starttls) == ("new.example", 587, True)
    assert "MAILPOSTS['smtp_host'] and its smtp_* keys are ignored" in caplog.text


def test_older_keys_are_read_with_a_warning_naming_the_new_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    legacy = WebmentionSettings(
        smtp_host="mail.example", smtp_port=2525, smtp_user="u", smtp_from="b@x.example"
    )
    with caplog.at_level(logging.WARNING, logger="causerie.smtp"):
        cfg = smtp.smtp_settings({}, legacy, "WEBMENTIONS")
        smtp.smtp_settings({}, legacy, "WEBMENTIONS")
    assert (cfg.host, cfg.port, cfg.user, cfg.from_address) == (
        "mail.example", 2525, "u", "b@x.example",
    )  # fmt: skip
    assert caplog.text.count("deprecated: write one SMTP") == 1  # once a process


def test_no_host_anywhere_means_nothing_is_sent() -> None:
    assert (
        smtp.smtp_settings({}, MailSettings(address="a@x.example"), "MAILPOSTS").host
        is None
    )
    assert smtp_mailer(smtp.SmtpSettings(), None) is None


def test_a_misspelt_key_or_a_bad_port_fails_with_its_name() -> None:
    with pytest.raises(SettingsError, match=r"unknown key.*'hots'"):
        smtp.smtp_settings({"SMTP": {"hots": "x"}})
    with pytest.raises(SettingsError, match="port"):
        smtp.smtp_settings({"SMTP": {"host": "x", "port": 0}})


def test_one_password_variable_the_older_one_still_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert (
        smtp.smtp_password({smtp.ENV_PASSWORD: "new", smtp.LEGACY_ENV_PASSWORD: "old"})
        == "new"
    )
    with caplog.at_level(logging.WARNING, logger="causerie.smtp"):
        assert smtp.smtp_password({smtp.LEGACY_ENV_PASSWORD: "old"}) == "old"
    assert "CAUSERIE_MAIL_SMTP_PASSWORD is deprecated" in caplog.text
    assert smtp.smtp_password({}) is None


def test_replies_and_notifications_go_through_the_same_server(
    smtp_listener: Any,
) -> None:
    handler, port = smtp_listener
    cfg = smtp.SmtpSettings(host="127.0.0.1", port=port, timeout=5)
    mailer = smtp_mailer(cfg, None)
    assert mailer is not None
    mailer(message())
    smtp.SmtpClient(cfg, None).send(message("lea@maison-lumen.example"))
    envelopes = [(e.mail_from, tuple(e.rcpt_tos)) for e in handler.envelopes]
    # The mail reply has the null reverse-path of RFC 3834 §3.3; the
    # notification its From.
    assert envelopes == [
        ("<>", ("claire@maison-lumen.example",)),
        ("blog@maison-lumen.example", ("lea@maison-lumen.example",)),
    ]


def test_a_user_without_a_password_is_an_error_that_names_the_variable() -> None:
    client = smtp.SmtpClient(smtp.SmtpSettings(host="127.0.0.1", user="blog"), None)
    with pytest.raises(Exception, match="CAUSERIE_SMTP_PASSWORD is not set"):
        client.send(message())
