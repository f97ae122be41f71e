"""Held messages: the quarantine as the operator sees it (`publish mail
held`, `release`, `drop`).

The pipeline keeps each quarantined message, whatever adapter brought it,
as ``var/mail/quarantined/<digest>.eml`` (the bytes as received) and
``<digest>.json`` beside it (how it came: ``via`` and the envelope
recipients, which the bytes do not carry and which a release needs: an
SMTP message's DKIM is verified again, a ``blog+SECRET@`` recipient is the
secret). Its reason and time are in the ledger. A message's ID is the start
of its digest (``3f2a9c01d4e5``); any unique prefix of it will do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from .errors import MailError
from .ledger import Ledger
from .model import QUARANTINED

#: The length of the IDs `publish mail held` shows.
ID_LENGTH = 12


@dataclass(frozen=True)
class Held:
    """One quarantined message."""

    digest: str
    file: Path
    held_at: str  # ISO 8601; "" when the ledger has no row (a crash)
    sender: str
    subject: str
    reason: str
    via: str
    recipients: tuple[str, ...]
    message_id: str

    @property
    def id(self) -> str:
        return self.digest[:ID_LENGTH]

    @property
    def envelope(self) -> Path:
        return self.file.with_suffix(".json")

    def remove(self) -> None:
        from .write import fsync_dir

        self.envelope.unlink(missing_ok=True)
        self.file.unlink(missing_ok=True)  # the .eml last: it marks "held"
        fsync_dir(self.file.parent)


def folder(var_dir: Path) -> Path:
    return var_dir / "mail" / QUARANTINED


def write_envelope(
    var_dir: Path, digest: str, via: str, recipients: tuple[str, ...]
) -> None:
    """Beside a quarantined copy: how it came (see the module's docstring)."""
    from .write import atomic_write

    data = {"via": via, "recipients": list(recipients)}
    atomic_write(folder(var_dir) / f"{digest}.json", json.dumps(data).encode("utf-8"))


def _one(file: Path, ledger: Ledger) -> Held:
    digest = file.stem
    try:
        with file.open("rb") as f:
            headers: Any = BytesHeaderParser(policy=policy.default).parse(f)
        sender = " ".join(str(headers.get("From", "")).split())
        subject = " ".join(str(headers.get("Subject", "")).split())
        message_id = str(headers.get("Message-ID", "")).strip()
    except Exception:  # a header the parser cannot take: still listed
        sender = subject = message_id = ""
    try:
        meta = json.loads(file.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}  # kept before envelopes were: taken as a pipe's
    entry = ledger.entry(digest)
    seen, at = entry if entry else (None, "")
    return Held(
        digest=digest,
        file=file,
        held_at=at,
        sender=sender or "(no From)",
        subject=subject or "(no subject)",
        reason=(seen.reason if seen and seen.reason else "(not recorded)"),
        via=str(meta.get("via") or "pipe"),
        recipients=tuple(meta.get("recipients") or ()),
        message_id=(seen.message_id if seen else message_id),
    )


def held(var_dir: Path, ledger: Ledger) -> list[Held]:
    """Every held message, oldest first."""
    files = sorted(folder(var_dir).glob("*.eml"))
    found = [_one(f, ledger) for f in files if not f.name.startswith(".")]
    return sorted(found, key=lambda h: (h.held_at, h.digest))


def find(var_dir: Path, ledger: Ledger, ident: str) -> Held:
    """The held message whose ID starts with ``ident``. Raises MailError."""
    wanted = ident.strip().lower().removesuffix(".eml")
    if len(wanted) < 4:
        raise MailError(f"{ident!r}: give at least 4 characters of the ID")
    matches = [
        f for f in sorted(folder(var_dir).glob("*.eml")) if f.stem.startswith(wanted)
    ]
    if not matches:
        raise MailError(f"no held message {ident!r}: `publish mail held` lists them")
    if len(matches) > 1:
        raise MailError(
            f"{ident!r} is the start of {len(matches)} IDs: give more of it"
        )
    return _one(matches[0], ledger)
