"""Posting by e-mail: the data that flows from a message to files (pure).

A message becomes a :class:`Post` (or a :class:`Refusal` saying why not, in
words for its sender); a Post becomes a Markdown file plus its media under
content/, exactly like a post an employee writes by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

#: What a media file is.
IMAGE, THUMBNAIL, DOCUMENT = "image", "thumbnail", "document"


@dataclass(frozen=True)
class MediaFile:
    """An image (re-encoded, metadata stripped), its thumbnail, or a document."""

    #: Where it is written, relative to content/: chosen by us, never the
    #: attachment's own file name ("images/mail/2026/mon-billet/1.jpg").
    path: str
    data: bytes
    kind: str  # IMAGE | THUMBNAIL | DOCUMENT
    media_type: str  # "image/jpeg", "application/pdf"…
    #: The attachment's name as the sender gave it: link text, never a path.
    label: str | None = None


@dataclass(frozen=True)
class Post:
    """A post made from an e-mail, ready to be written."""

    title: str
    slug: str
    date: dt.datetime  # aware, in the site's time zone
    lang: str
    status: str  # "published" | "draft"
    author: str  # the author's name, as in authors.toml
    body: str  # Markdown; media referenced as {static}/<path>
    message_id: str  # "<…@…>", as in the Message-ID header
    category: str | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    media: tuple[MediaFile, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """Why a message from an authenticated author makes no post: said to the
    sender, with what to do ("the photo IMG_2.heic is larger than 20 MB: send
    it on its own, or smaller")."""

    reason: str
    #: Damaged in transit (raw MIME left after decoding, an attachment that
    #: arrived empty): the message is held, with its reason, for the operator
    #: (`publish mail release` once the cause is fixed), as well as answered.
    hold: bool = False


#: What became of a message (:attr:`Verdict.outcome`).
PUBLISHED = "published"  # a post is live (or will be with the next build)
DRAFTED = "drafted"  # written as a draft (the author may only draft)
UPDATED = "updated"  # an answer "MODIFIER" / "EDIT" replaced a post's text
DELETED = "deleted"  # an answer "DELETE" / "SUPPRIMER" removed a post
#: An answer "RESTAURER" / "RESTORE" put back the post's previous version.
RESTORED = "restored"
#: An answer to a confirmation with no command ("Merci !"): nothing
#: changed, a reply says how to edit or delete.
ANSWERED = "answered"
DUPLICATE = "duplicate"  # seen before (same Message-ID or same bytes): ignored
QUARANTINED = "quarantined"  # not allowed to publish: kept aside, no reply
REFUSED = "refused"  # an author's message that makes no post: a reply says why
RETRY = "retry"  # a fault of ours (disk full…): keep the message, try later
#: A quarantined message the operator discarded (`publish mail drop`): its
#: copy is gone, the ledger keeps the record (a redelivery is a duplicate).
DROPPED = "dropped"
DONE = frozenset({PUBLISHED, DRAFTED, UPDATED, DELETED, RESTORED, ANSWERED, DUPLICATE})


@dataclass(frozen=True)
class Verdict:
    """The outcome of one message, and why."""

    outcome: str
    reason: str | None = None
    path: str | None = None  # the post's file, relative to content/
    url: str | None = None  # where it is (or will be) online


@dataclass(frozen=True)
class Arrival:
    """A message as an adapter received it."""

    raw: bytes
    via: str  # "imap", "smtp", "lmtp" or "pipe"
    #: Domains whose DKIM signature on ``raw`` we verified ourselves (SMTP
    #: and LMTP modes); None: trust the Authentication-Results header of the
    #: company's mail server instead (IMAP and pipe modes).
    dkim_domains: tuple[str, ...] | None = None
    #: Envelope recipients (SMTP/LMTP), which may carry blog+SECRET@.
    recipients: tuple[str, ...] = ()
    #: Why a DKIM signature could not be checked now (a key lookup timed
    #: out or failed): the message is retried later, not judged.
    dkim_temporary: str | None = None
    #: `publish mail release --trust`: the operator vouches for the sender
    #: (no DKIM nor secret check; the registry and the sanitizer still apply).
    trusted: bool = False


#: What every mail adapter (:mod:`.sources`) needs: a message in, its verdict
#: out. It never raises for a bad message; an exception means a fault of ours
#: (the adapter then keeps the message for a later try).
Ingest = Callable[[Arrival], Verdict]
