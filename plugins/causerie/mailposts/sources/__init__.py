"""The adapters that bring mail in: each hands every message to an
:data:`Ingest` callable (the pipeline) as an :class:`~mailposts.model.Arrival`
and acts on the :class:`~mailposts.model.Verdict` (move it, answer 250…).

- :mod:`.imap` — ``publish mail poll [--watch]``
- :mod:`.smtp` — ``publish mail serve`` (SMTP or LMTP, DKIM checked here)
- :mod:`.pipe` — ``publish mail import FILE | MAILDIR | -``
"""

from __future__ import annotations

from ..model import Arrival, Ingest, Verdict

__all__ = ["Arrival", "Ingest", "Verdict"]
