"""Notification e-mails, sent to a real SMTP listener (aiosmtpd) on loopback."""

from __future__ import annotations

import datetime as dt
import email
import logging
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pelican.log import LimitFilter

from causerie.smtp import ENV_PASSWORD as ENV_SMTP_PASSWORD
from causerie.webmentions import model
from causerie.webmentions.settings import WebmentionSettings
from causerie.webmentions.store.mention_store import Store, Target
from causerie.webmentions.verify.notify import Notifier, NotifyError, build_message

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SITE = "https://blog.example"
POST_FR = f"{SITE}/posts/2026/aube/"
POST_EN = f"{SITE}/posts/2026/dawn/"
ORPHAN = f"{SITE}/posts/2026/sans-auteur/"
SERVICE = "https://mentions.blog.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content, policy=policy.default)
            for e in self.envelopes
        ]


class Logins:
    """An authenticator accepting one login, recording every attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, str]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        pair = (auth_data.login.decode(), auth_data.password.decode())
        self.attempts.append(pair)
        return AuthResult(success=pair == ("blog", "s3cret"), handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def store(store_url: str) -> Store:
    store = Store.open(store_url, lambda: T0)
    store.replace_targets(
        SITE,
        [
            Target(POST_FR, "L’aube des lampes", "claire@maison-lumen.example", "fr"),
            Target(POST_EN, "Dawn of the lamps", "claire@maison-lumen.example", "en"),
            Target(ORPHAN, "Sans auteur", None, "fr"),
        ],
    )
    return store


def settings(port: int, **overrides: Any) -> WebmentionSettings:
    return WebmentionSettings(
        service_url=SERVICE,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="blog@maison-lumen.example",
        **overrides,
    )


def mention(store: Store, target: str, **data: Any) -> model.Mention:
    values = {
        "kind": "reply",
        "author_name": "Alice Martin",
        "author_url": "https://alice.example/",
        "content_text": "Très beau billet ! " * 40,
        **data,
    }
    mention_id = store.add_verified(
        data.pop("source", "https://alice.example/2026/reply"),
        target,
        model.WEBMENTION,
        values,
    )
    found = store.get(mention_id)
    assert found
    return found


def test_the_author_gets_one_french_email(
    smtp: tuple[Collector, int], store: Store
) -> None:
    handler, port = smtp
    m = mention(store, POST_FR)
    Notifier(settings(port), store, {"DEFAULT_LANG": "en"})(m)

    (envelope,) = handler.envelopes
    assert envelope.rcpt_tos == ["claire@maison-lumen.example"]
    assert envelope.mail_from == "blog@maison-lumen.example"
    (msg,) = handler.messages()
    assert (
        msg["Subject"]
        == "Nouveau commentaire sur «\u00a0L’aube des lampes\u00a0» à modérer"
    )
    assert msg["To"] == "claire@maison-lumen.example"
    assert msg["Auto-Submitted"] == "auto-generated"  # RFC 3834
    assert msg["Message-ID"].endswith("@maison-lumen.example>")
    assert msg["Date"].datetime == T0
    body = msg.get_content()
    assert f"{SERVICE}/admin" in body
    assert "Alice Martin <https://alice.example/>" in body
    assert "https://alice.example/2026/reply" in body
    # The excerpt is quoted, and cut at 500 characters.
    excerpt = "".join(line[2:] for line in body.splitlines() if line.startswith("> "))
    assert excerpt.startswith("Très beau billet !") and len(excerpt) <= 500


def test_english_post_and_kind_specific_subject(
    smtp: tuple[Collector, int], store: Store
) -> None:
    handler, port = smtp
    Notifier(settings(port), store, {})(
        mention(store, POST_EN, kind="like", content_text=None)
    )
    (msg,) = handler.messages()
    assert msg["Subject"] == "New like of “Dawn of the lamps” awaiting moderation"
    assert "Excerpt" not in msg.get_content()  # a like has nothing to quote


def test_a_comment_from_the_form_says_so(
    smtp: tuple[Collector, int], store: Store
) -> None:
    handler, port = smtp
    mention_id = store.add_verified(
        "urn:uuid:0f8e2b4c-0000-4000-8000-000000000001",
        POST_FR,
        model.FORM,
        {"kind": "reply", "author_name": "Bob", "content_text": "Merci"},
    )
    found = store.get(mention_id)
    assert found
    Notifier(settings(port), store, {})(found)
    body = handler.messages()[0].get_content()
    assert "le formulaire de commentaire du blog" in body and "urn:uuid" not in body


def test_no_author_email_sends_nothing(
    smtp: tuple[Collector, int], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    handler, port = smtp
    caplog.set_level(logging.INFO, logger="causerie.webmentions.verify.notify")
    # Pelican's logger class drops a message already logged once in the
    # process (LimitFilter), and the other backend's run logged this one.
    LimitFilter._raised_messages.clear()
    Notifier(settings(port), store, {})(mention(store, ORPHAN))
    assert handler.envelopes == []
    assert "has no author e-mail" in caplog.text


def test_header_injection_in_title_and_name_adds_no_header(
    smtp: tuple[Collector, int], store: Store
) -> None:
    handler, port = smtp
    store.replace_targets(
        SITE,
        [
            Target(
                POST_FR,
                "Aube\r\nBcc: victim@evil.example\r\nX-Injected: 1",
                "claire@maison-lumen.example",
                "fr",
            )
        ],
    )
    evil = mention(store, POST_FR, author_name="Eve\r\nBcc: other@evil.example")
    Notifier(settings(port), store, {})(evil)

    (envelope,) = handler.envelopes
    assert envelope.rcpt_tos == ["claire@maison-lumen.example"]
    (msg,) = handler.messages()
    assert sorted(msg.keys()) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "Auto-Submitted",
            "X-Auto-Response-Suppress",
            "Content-Language",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
        ]
    )
    # The would-be headers are text of the subject, on one line.
    assert (
        msg["Subject"]
        == "Nouveau commentaire sur «\u00a0Aube Bcc: victim@evil.example X-Injected: 1\u00a0» à modérer"
    )


def test_email_message_itself_refuses_line_breaks_in_headers() -> None:
    # The second line of defence under one_line(): policy.default refuses.
    msg = EmailMessage()
    with pytest.raises(ValueError):
        msg["Subject"] = "Aube\r\nBcc: victim@evil.example"


def test_a_broken_author_address_is_a_notify_error(
    smtp: tuple[Collector, int], store: Store
) -> None:
    handler, port = smtp
    store.replace_targets(
        SITE, [Target(POST_FR, "Aube", "claire@example\r\nBcc: x@evil.example", "fr")]
    )
    with pytest.raises(NotifyError, match="cannot write the e-mail"):
        Notifier(settings(port), store, {})(mention(store, POST_FR))
    assert handler.envelopes == []


def test_smtp_server_down_is_a_notify_error_with_the_reason(store: Store) -> None:
    port = free_port()  # nobody listens there
    with pytest.raises(NotifyError, match=r"127\.0\.0\.1:\d+: connection refused"):
        Notifier(settings(port), store, {})(mention(store, POST_FR))


def test_login_with_the_password_from_the_environment(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, logins, port = Collector(), Logins(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=logins,
        auth_require_tls=False,
    )
    controller.start()
    try:
        monkeypatch.setenv(ENV_SMTP_PASSWORD, "wrong")
        with pytest.raises(NotifyError, match="535"):
            Notifier(settings(port, smtp_user="blog"), store, {})(
                mention(store, POST_FR)
            )
        monkeypatch.setenv(ENV_SMTP_PASSWORD, "s3cret")
        Notifier(settings(port, smtp_user="blog"), store, {})(mention(store, POST_FR))
    finally:
        controller.stop()
    # smtplib tries PLAIN, then LOGIN, with the same wrong password.
    assert set(logins.attempts[:-1]) == {("blog", "wrong")}
    assert logins.attempts[-1] == ("blog", "s3cret")
    assert len(handler.envelopes) == 1


def test_build_message_is_pure_and_falls_back_to_the_site_language() -> None:
    m = model.Mention(
        id=1,
        source="https://alice.example/r",
        target=POST_FR,
        origin=model.WEBMENTION,
        verification=model.VERIFIED,
        moderation=model.PENDING,
        kind="repost",
    )
    target = Target(POST_FR, "Aube", "claire@maison-lumen.example", None)
    msg = build_message(settings(25), m, target, T0, default_lang="fr-CA")
    assert msg["Subject"] == "Nouveau partage de «\u00a0Aube\u00a0» à modérer"
    assert "un partage qui attend" in msg.get_content()
