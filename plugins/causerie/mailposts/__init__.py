"""Posting by e-mail: an executive's message becomes a post.

Three adapters bring mail in (:mod:`.sources`: IMAP, SMTP/LMTP, a pipe);
one core turns it into a post:

- :mod:`.parse`, :mod:`.media` — pure: a message → a :class:`~.model.Post`
  (title, commands, body, images, documents) or a :class:`~.model.Refusal`
- :mod:`.auth` — who may publish (registry, DKIM, secret, replays)
- :mod:`.write` — a Post → files in content/, atomically
- :mod:`.reply` — confirmations and refusals (RFC 3834)
- :mod:`.pipeline` — all of it for one message
- :mod:`.build` — the Pelican plugin: a mail post's HTML is sanitized
"""

from __future__ import annotations

from typing import Any

from causerie.settings import read_section

from .settings import MailSettings

__all__ = ["MailSettings", "config", "register"]


def config(settings: dict[str, Any]) -> MailSettings:
    """The validated ``MAILPOSTS`` dict of Pelican ``settings``."""
    return read_section(settings, "MAILPOSTS", MailSettings)


def register() -> None:
    from pelican import signals

    from .build import sanitize

    signals.content_object_init.connect(sanitize)
