"""Which documents a downloads block offers, and what to call them (pure).

The office formats are those the mail side accepts as attachments
(docs/mail.md): PDF, OpenDocument, Office Open XML, the older Office
binaries, CSV and plain text. A file's type is its extension, checked
against its first bytes for the ones that have magic numbers, so that a
renamed executable is not offered as a "PDF".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Kind:
    media_type: str
    label: str
    magic: tuple[bytes, ...]  # one of these starts the file; () when none


_ZIP = (b"PK\x03\x04",)
_OLE2 = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
KINDS: dict[str, Kind] = {
    "pdf": Kind("application/pdf", "PDF", (b"%PDF-",)),
    "odt": Kind("application/vnd.oasis.opendocument.text", "OpenDocument text", _ZIP),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet", _ZIP),
    "odp": Kind("application/vnd.oasis.opendocument.presentation", "OpenDocument presentation", _ZIP),
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word", _ZIP),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel", _ZIP),
    "pptx": Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint", _ZIP),
    "doc": Kind("application/msword", "Word", _OLE2),
    "xls": Kind("application/vnd.ms-excel", "Excel", _OLE2),
    "ppt": Kind("application/vnd.ms-powerpoint", "PowerPoint", _OLE2),
    "csv": Kind("text/csv", "CSV", ()),
    "txt": Kind("text/plain", "Text", ()),
}  # fmt: skip


def kind_of(path: str, head: bytes) -> Kind | str:
    """The :class:`Kind` of the file at ``path`` whose first bytes are
    ``head``, or why it is not offered (a sentence with the fix)."""
    ext = PurePosixPath(path).suffix.lower().lstrip(".")
    kind = KINDS.get(ext)
    if kind is None:
        return (
            f"{ext or 'a file without extension'} files are not offered as downloads "
            f"(offered: {', '.join(sorted(KINDS))})"
        )
    # A PDF may have bytes before its header (ISO 32000-1 §7.5.2 allows
    # readers to look for it within the first 1024 bytes).
    start = head.lstrip(b"\t\n\r ") if ext == "pdf" else head
    if kind.magic and not start.startswith(kind.magic):
        return f"it is named .{ext} but its content is not a {kind.label} file"
    if not kind.magic and b"\x00" in head:
        return f"it is named .{ext} but holds binary data"
    return kind


_UNSAFE = re.compile(r"[^\w.\- ()]+")


def display_name(path: str) -> str:
    """A file's name for people: its last part, without controls or
    characters a download dialog or a shell would read ("../", quotes)."""
    name = unicodedata.normalize("NFC", PurePosixPath(path).name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("-", name).strip(" .-") or "document"
    return name[:120]
