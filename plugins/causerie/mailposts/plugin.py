"""The mailposts plugin's registration: which Pelican signals it answers."""

from __future__ import annotations

from pelican import signals

from .html_sanitizer import sanitize


def register() -> None:
    # Before the summary, feeds and templates read a mail post's HTML.
    signals.content_object_init.connect(sanitize)
