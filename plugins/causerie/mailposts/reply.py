"""Replies to authors: the post's link, or what went wrong and what to do.

Every reply is an automatic one (RFC 3834): ``Auto-Submitted: auto-replied``,
a null envelope sender (so a bounce of the reply goes nowhere and loops
none), In-Reply-To the original. And no reply at all to mail that is itself
automatic (§2: Auto-Submitted other than "no", Precedence bulk/list/junk,
List-Id, an empty Return-Path), nor to our own address.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from causerie.catalogs import N_, tr
from causerie.smtp import SmtpClient, SmtpSettings

from .settings import MailSettings

log = logging.getLogger(__name__)

#: Sends one message; the tests and the pipeline get it from :func:`smtp_mailer`.
Mailer = Callable[[EmailMessage], None]


def automatic(msg: EmailMessage, our_address: str) -> str | None:
    """Why ``msg`` must not be answered (RFC 3834 §2, §3.1.8), or None."""
    auto = str(msg.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    if msg.get("List-Id") is not None:
        return "a mailing-list message (List-Id)"
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "an empty Return-Path (a bounce)"
    senders = [a.lower() for _n, a in getaddresses([str(msg.get("From", ""))])]
    if our_address.lower() in senders:  # exact: not myblog@ for blog@
        return "our own address"
    for name in ("X-Autoreply", "X-Autorespond"):
        # Not RFC 3834, but what many vacation responders send instead.
        if str(msg.get(name, "")).strip():
            return name
    if str(msg.get("X-Auto-Response-Suppress", "")).strip():
        # Exchange's own "do not answer me" (MS-OXCMAIL 2.2.3.2.14).
        return "X-Auto-Response-Suppress"
    return None


#: How to edit or delete a post by answering: in every confirmation, and
#: the whole answer to a reply that is no command ("Merci !").
HOW_TO = N_(
    "To correct it, answer this message with EDIT on the first line, then the "
    "new text. To take it down, answer with DELETE on the first line. To go "
    "back to the previous version, answer with RESTORE.\n"
)


def _reply_to(
    original: EmailMessage, to: str, settings: MailSettings, subject: str
) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = settings.address
    reply["To"] = to
    reply["Subject"] = subject
    reply["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    reply["Message-ID"] = make_msgid(domain=settings.address.rsplit("@", 1)[1])
    original_id = str(original.get("Message-ID", "")).strip()
    if original_id:
        reply["In-Reply-To"] = original_id
        references = str(original.get("References", "")).split()
        reply["References"] = " ".join([*references, original_id])
    reply["Auto-Submitted"] = "auto-replied"
    return reply


def _subject(original: EmailMessage) -> str:
    subject = " ".join(str(original.get("Subject", "")).split())
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def confirmation(
    original: EmailMessage,
    to: str,
    settings: MailSettings,
    lang: str,
    url: str,
    draft: bool,
    *,
    scheduled: dt.datetime | None = None,
    note: str | None = None,
) -> EmailMessage:
    """ "Your post is online: <url>" (or where to preview the draft, or the
    date a post scheduled by a ``date:`` command goes online); ``note``, a
    paragraph before the how-to (a wrong clock)."""
    reply = _reply_to(original, to, settings, _subject(original))
    how_to = tr(lang, HOW_TO)
    if draft:
        text = tr(
            lang,
            "Your draft is saved: {url}\n\nIt will be published once someone of "
            "the blog's team has reviewed it.\n",
        ).format(url=url)
    elif scheduled is not None:
        text = (
            tr(
                lang,
                "Your post is scheduled: it goes online on {when} ({zone}), at {url}"
                "\n\nUntil then, that address shows nothing.\n\n",
            ).format(
                when=scheduled.strftime(tr(lang, "%Y-%m-%d at %H:%M")),
                zone=scheduled.tzname(),
                url=url,
            )
            + how_to
        )
    else:
        text = tr(lang, "Your post is online: {url}\n\n").format(url=url) + how_to
    if note:
        if text.endswith(how_to):
            text = text.removesuffix(how_to) + f"{note}\n\n{how_to}"
        else:
            text += f"\n{note}\n"
    reply.set_content(text)
    return reply


def refusal(
    original: EmailMessage, to: str, settings: MailSettings, lang: str, reason: str
) -> EmailMessage:
    """What went wrong, and what to do (the reason says both)."""
    reply = _reply_to(original, to, settings, _subject(original))
    intro = tr(lang, "Your message was not published:")
    reply.set_content(f"{intro}\n\n{reason}\n")
    return reply


def notice(
    original: EmailMessage, to: str, settings: MailSettings, lang: str, text: str
) -> EmailMessage:
    """A short answer (a post updated or removed)."""
    reply = _reply_to(original, to, settings, _subject(original))
    reply.set_content(text + "\n")
    return reply


def smtp_mailer(smtp: SmtpSettings, password: str | None) -> Mailer | None:
    """Sends through the one SMTP client (causerie.smtp); None when no
    server is set."""
    if not smtp.host:
        return None
    client = SmtpClient(smtp, password)

    def send(message: EmailMessage) -> None:
        # MAIL FROM:<> — RFC 3834 §3.3: an automatic reply has a null
        # envelope sender, so nothing ever answers it back.
        client.send(message, envelope_from="")

    return send
