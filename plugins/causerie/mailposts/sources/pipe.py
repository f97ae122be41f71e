"""``publish mail import [FILE.eml | MAILDIR | -]``: messages handed over by
the company's mail server (a pipe transport, procmail) or by hand.

Read-only: a Maildir is not changed (nothing moves from new/ to cur/, no
flag is set), so importing the same messages again is harmless — the
pipeline recognises a message it has seen (Message-ID) and answers
``duplicate``. Which exit code a run deserves is the CLI's decision; this
module reports one :class:`ImportResult` per message, and one message that
fails never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .. import model
from ..errors import MailError
from ..model import Ingest

log = logging.getLogger(__name__)

#: The name reported for a message read from a stream (stdin).
STDIN = "-"


@dataclass(frozen=True)
class ImportResult:
    """What became of one message: its verdict, or the error that stopped it."""

    #: The file's path, or ``"-"`` for standard input.
    name: str
    #: None when the message could not be read or the pipeline raised.
    verdict: model.Verdict | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Was the message dealt with for good (not to be tried again)?"""
        return self.verdict is not None and self.verdict.outcome != model.RETRY


def is_maildir(path: Path) -> bool:
    """Does ``path`` look like a Maildir (it has cur/ or new/)?"""
    return (path / "cur").is_dir() or (path / "new").is_dir()


def maildir_messages(path: Path) -> list[Path]:
    """The messages of a Maildir: new/ then cur/, each in name order.

    tmp/ is left alone: a file there is still being delivered (the Maildir
    convention: a message is complete only once it is renamed into new/).
    Dot files are not messages (editors' and tools' leftovers).
    """
    found: list[Path] = []
    for sub in ("new", "cur"):
        folder = path / sub
        if folder.is_dir():
            found += sorted(
                p
                for p in folder.iterdir()
                if p.is_file() and not p.name.startswith(".")
            )
    return found


def import_messages(
    source: Path | BinaryIO,
    ingest: Ingest,
    *,
    max_bytes: int | None = None,
    progress: Callable[[ImportResult], None] | None = None,
) -> list[ImportResult]:
    """Hand every message of ``source`` to ``ingest`` (``via="pipe"``).

    ``source`` is a message file (.eml), a Maildir directory, or a binary
    stream holding one message (the CLI passes ``sys.stdin.buffer`` for
    ``-``). A message larger than ``max_bytes`` is reported, not ingested.
    ``progress`` is called after each message (the CLI shows progress).

    Raises :class:`MailError` only when ``source`` itself is unusable (a
    missing path, a directory that is not a Maildir).
    """
    results: list[ImportResult] = []
    for name, read in _sources(source):
        result = _import_one(name, read, ingest, max_bytes)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _sources(
    source: Path | BinaryIO,
) -> Iterator[tuple[str, Callable[[int], bytes]]]:
    """(name, read(limit)) for each message of ``source``."""
    if not isinstance(source, Path):
        yield STDIN, source.read
        return
    if source.is_dir():
        if not is_maildir(source):
            raise MailError(
                f"{source} is a directory but not a Maildir (no cur/ or new/): "
                "give a Maildir, one .eml file, or - for standard input"
            )
        for path in maildir_messages(source):
            yield str(path), _file_reader(path)
        return
    if not source.exists():
        raise MailError(
            f"{source} does not exist: give a .eml file, a Maildir, or - for standard input"
        )
    yield str(source), _file_reader(source)


def _file_reader(path: Path) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        with path.open("rb") as f:
            return f.read(limit)

    return read


def _import_one(
    name: str, read: Callable[[int], bytes], ingest: Ingest, max_bytes: int | None
) -> ImportResult:
    try:
        # Read one byte more than allowed: enough to know it is too large,
        # without holding a huge message in memory.
        raw = read(-1 if max_bytes is None else max_bytes + 1)
    except OSError as e:
        log.error("mailposts: cannot read %s: %s", name, e)
        return ImportResult(name, None, f"cannot read it: {e}")
    if max_bytes is not None and len(raw) > max_bytes:
        log.warning("mailposts: %s is larger than %d bytes: skipped", name, max_bytes)
        return ImportResult(
            name,
            None,
            f"larger than max_message_bytes ({max_bytes} bytes): raise the limit "
            "in MAILPOSTS to import it",
        )
    try:
        verdict = ingest(model.Arrival(raw, via="pipe"))
    except Exception as e:
        # A fault of ours (the Ingest contract): report this message, go on
        # with the others.
        log.exception("mailposts: importing %s failed", name)
        return ImportResult(name, None, f"{type(e).__name__}: {e}")
    log.info("mailposts: %s: %s", name, verdict.outcome)
    return ImportResult(name, verdict)
