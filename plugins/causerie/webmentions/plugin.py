"""The webmentions plugin's registration: which Pelican signals it answers.

Pelican calls :func:`register` once per process for every build that lists
``causerie.webmentions``; each handler checks that its build does list it
(signals are process-wide and never disconnected).
"""

from __future__ import annotations

from causerie.webmentions.site.render import connect_signals


def register() -> None:
    connect_signals()
