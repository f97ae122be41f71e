"""E-mail to the post's author when a mention arrives and awaits moderation.

The message is built by a pure function (:func:`build_message`) and sent by
:class:`Notifier` through the configured SMTP server. A failed e-mail never
loses the mention: the caller (worker, comment form) logs :class:`NotifyError`
and goes on; the mention stays in the store and on /admin.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from causerie.catalogs import N_, message_language, tr
from causerie.smtp import ENV_PASSWORD, SmtpClient, smtp_password, smtp_settings
from causerie.webmentions import model
from causerie.webmentions.errors import WebmentionError
from causerie.webmentions.model import Mention
from causerie.webmentions.settings import WebmentionSettings
from causerie.webmentions.store.mention_store import Store, Target

log = logging.getLogger(__name__)

EXCERPT = 500

#: Subjects and bodies, English source texts (the French is in the catalogs,
#: causerie.catalogs); ``{title}`` is the post's title.
SUBJECTS = {
    "reply": N_("New reply to “{title}” awaiting moderation"),
    "like": N_("New like of “{title}” awaiting moderation"),
    "repost": N_("New repost of “{title}” awaiting moderation"),
    "bookmark": N_("New bookmark of “{title}” awaiting moderation"),
    "rsvp": N_("New RSVP to “{title}” awaiting moderation"),
    "review": N_("New review of “{title}” awaiting moderation"),
    "mention": N_("New mention of “{title}” awaiting moderation"),
}
#: The kind of mention with its article, as the body's sentence needs it.
KIND_NAMES = {
    "reply": N_("a reply"),
    "like": N_("a like"),
    "repost": N_("a repost"),
    "bookmark": N_("a bookmark"),
    "rsvp": N_("an RSVP"),
    "review": N_("a review"),
    "mention": N_("a mention"),
}
BODY = N_(
    "Hello,\n\n"
    "Your post “{title}” received {kind} that awaits moderation.\n\n"
    "From: {who}\nSource: {source}\nPost: {target}\n\n{excerpt}"
    "To approve or reject it: {admin}\n\n"
    "-- \nAn automatic message from the blog; no need to answer it.\n"
)
FORM_SOURCE = N_("the blog's comment form")
EXCERPT_INTRO = N_("Excerpt:")


class NotifyError(WebmentionError):
    """The notification e-mail could not be sent: check WEBMENTIONS' smtp_*
    settings, $CAUSERIE_SMTP_PASSWORD and that the mail server is up."""


def one_line(value: str) -> str:
    """Whitespace (CR and LF above all) folded to single spaces: a title or a
    name from outside can never start a header of its own."""
    return " ".join(value.split())


def _plain(value: str) -> str:
    """Outside text for a plain-text body: no control characters (terminal
    escapes), line breaks kept."""
    return "".join(c for c in value if c in "\n\t" or c.isprintable())


def language(lang: str | None, default: str | None) -> str:
    """The language of the e-mail: the post's, else the site's, else English."""
    return message_language(lang, default)


def build_message(
    cfg: WebmentionSettings,
    mention: Mention,
    target: Target,
    now: dt.datetime,
    default_lang: str | None = None,
    sender: str | None = None,
) -> EmailMessage:
    """The e-mail telling ``target``'s author about ``mention`` (pure);
    from ``sender`` (SMTP["from_address"]), else the older smtp_from."""
    sender = sender or cfg.smtp_from
    if not target.author_email:
        raise ValueError("the post has no author e-mail")
    lang = language(target.lang, default_lang)
    kind = mention.kind if mention.kind in SUBJECTS else "mention"
    title = one_line(target.title) or target.url
    name = one_line(mention.author_name or "")
    who = " ".join(
        filter(None, [name, mention.author_url and f"<{mention.author_url}>"])
    )
    text = (mention.content_text or mention.title or "").strip()
    if len(text) > EXCERPT:
        text = text[: EXCERPT - 1].rstrip() + "…"
    quoted = "".join(f"> {line}\n" for line in _plain(text).splitlines())
    body = tr(lang, BODY).format(
        title=title,
        kind=tr(lang, KIND_NAMES[kind]),
        who=_plain(who) or "?",
        source=tr(lang, FORM_SOURCE)
        if mention.origin == model.FORM
        else mention.source,
        target=mention.target,
        excerpt=f"{tr(lang, EXCERPT_INTRO)}\n{quoted}\n" if quoted else "",
        admin=cfg.service_url.rstrip("/") + "/admin",
    )
    msg = EmailMessage()  # policy.default: RFC 5322, refuses CR/LF in headers
    msg["From"] = sender
    msg["To"] = target.author_email
    msg["Subject"] = tr(lang, SUBJECTS[kind]).format(title=title)
    msg["Date"] = format_datetime(now.astimezone(dt.UTC))
    msg["Message-ID"] = make_msgid("mention", sender.rpartition("@")[2] or None)
    # RFC 3834 §5: auto-responders (holiday replies) must not answer this;
    # Exchange ignores it and reads its own header instead.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(body)
    msg["Content-Language"] = lang  # after set_content(), which drops Content-*
    return msg


class Notifier:
    """Calls itself with a new mention; e-mails the author of its target post."""

    def __init__(
        self,
        cfg: WebmentionSettings,
        store: Store,
        settings: dict[str, Any],
        smtp: SmtpClient | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.default_lang = settings.get("DEFAULT_LANG")
        #: The one SMTP client (causerie.smtp): the site's SMTP block, or
        #: this block's older smtp_* keys.
        self.smtp = smtp or SmtpClient(
            smtp_settings(settings, cfg, "WEBMENTIONS"), smtp_password()
        )

    def __call__(self, mention: Mention) -> None:
        target = self.store.target(mention.target)
        if target is None or not target.author_email:
            log.info(
                "mention %s: no e-mail sent, %s has no author e-mail",
                mention.id,
                mention.target,
            )
            return
        try:
            msg = build_message(
                self.cfg,
                mention,
                target,
                self.store.clock(),
                self.default_lang,
                self.smtp.cfg.from_address,
            )
        except ValueError as exc:  # e.g. a malformed address in authors.toml
            raise self._error(
                mention, target, f"cannot write the e-mail: {exc}"
            ) from exc
        try:
            self.send(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise self._error(mention, target, _reason(exc)) from exc
        log.info("mention %s: %s notified", mention.id, target.author_email)

    def send(self, msg: EmailMessage) -> None:
        self.smtp.send(msg)

    def _error(self, mention: Mention, target: Target, reason: str) -> NotifyError:
        server = self.smtp.server
        message = (
            f"could not e-mail {target.author_email} about mention {mention.id} "
            f"through {server}: {reason}; check the SMTP settings "
            f"and ${ENV_PASSWORD}"
        )
        log.error("%s", message)
        return NotifyError(message)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"the server answered {exc.smtp_code} {detail}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"the server refused the recipient(s) {', '.join(exc.recipients)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the mail server running?)"
    if isinstance(exc, TimeoutError):
        return "no answer within 10 s"
    return str(exc) or type(exc).__name__
