"""Posting by e-mail: an executive's message becomes a post.

Three adapters bring mail in (:mod:`.sources`: IMAP, SMTP/LMTP, a pipe);
one core turns it into a post:

- :mod:`.parse`, :mod:`.media` — pure: a message → a :class:`~.model.Post`
  (title, commands, body, images, documents) or a :class:`~.model.Refusal`
- :mod:`.auth` — who may publish (registry, DKIM, secret, replays)
- :mod:`.write` — a Post → files in content/, atomically
- :mod:`.reply` — confirmations and refusals (RFC 3834)
- :mod:`.pipeline` — all of it for one message
- :mod:`.html_sanitizer` — a mail post's HTML sanitized at build time (:mod:`.plugin` connects it)
"""

from __future__ import annotations

from .settings import MailSettings, config

__all__ = ["MailSettings", "config", "register"]


def register() -> None:
    """Pelican's entry point (PLUGINS = ["causerie.mailposts"]); the
    handlers are in :mod:`.plugin`."""
    from . import plugin

    plugin.register()
