"""Reading an export as a stream of XML elements, safely (pure but for the file).

An export is a file from elsewhere: it is parsed by lxml with no DTD loaded,
no entity resolved but the five of XML itself, no network, and libxml2's
size limits kept (``huge_tree`` off). A document that declares entities at
all is refused before parsing: no Blogger or WordPress export has a DTD, and
an internal entity is how the "billion laughs" expands a kilobyte into
gigabytes, an external one how XXE reads /etc/passwd.

Elements are handed over one at a time and cleared once handled, so a
200 MB WXR is read in the memory of its largest item.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from .errors import ExportError

#: How much of the file's start is looked at for a DTD.
_PROLOG_BYTES = 256 * 1024
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _prolog(path: Path) -> bytes:
    with path.open("rb") as f:
        head = f.read(_PROLOG_BYTES)
    for bom, codec in (
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "replace").encode("utf-8")
    return head


def check_prolog(path: Path) -> None:
    """Refuse a document that declares a DTD with entities (XXE, billion laughs)."""
    head = _prolog(path)
    if _DOCTYPE.search(head) and _ENTITY.search(head):
        raise ExportError(
            f"{path}: the file declares XML entities (<!ENTITY …>), which no Blogger "
            "or WordPress export does: refused, as a way to read local files (XXE) or "
            "to exhaust memory (billion laughs). Export the blog again from its admin."
        )


def local(tag: Any) -> str:
    """The local name of an element's tag ("{ns}item" → "item")."""
    if not isinstance(tag, str):
        return ""  # a comment or processing instruction
    return tag.rpartition("}")[2]


def ns(tag: Any) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].partition("}")[0]


def text(el: Any, name: str, namespace: str | None = None) -> str:
    """The text of ``el``'s first child called ``name`` (any namespace if None)."""
    for child in el:
        if local(child.tag) == name and (
            namespace is None or ns(child.tag).startswith(namespace)
        ):
            return (child.text or "").strip()
    return ""


def children(el: Any, name: str) -> list[Any]:
    return [c for c in el if local(c.tag) == name]


class Stream:
    """The elements of an export one level below its container, as they end.

    For RSS (``rss/channel/item``) the container is ``channel``; for Atom
    (``feed/entry``) it is ``feed``. ``root`` is the document's root element
    name once the first element is read; ``line`` the line of the latest one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = ""
        self.line = 0
        self.container: Any = None

    def __iter__(self) -> Iterator[Any]:
        check_prolog(self.path)
        context = etree.iterparse(
            str(self.path),
            events=("start", "end"),
            load_dtd=False,
            no_network=True,
            resolve_entities=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
            recover=False,
        )
        depth, target = 0, 2
        for event, el in context:
            if event == "start":
                depth += 1
                if depth == 1:
                    self.root = local(el.tag)
                    target = 3 if self.root == "rss" else 2
                    self.container = el if target == 2 else None
                elif depth == 2 and target == 3:
                    self.container = el
                continue
            if depth == target:
                self.line = el.sourceline or self.line
                yield el
                # Free what was read: the element, and its finished siblings.
                el.clear(keep_tail=False)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
            depth -= 1


def parse_date(value: str) -> dt.datetime | None:
    """An RFC 3339 (Atom), RFC 822 (RSS) or "YYYY-MM-DD HH:MM:SS" (WXR, UTC)
    date as an aware datetime; None if empty, zero or unreadable."""
    value = (value or "").strip()
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        # Python before 3.11 refused "Z" and fractions of 3 digits; 3.11 reads both.
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if not 1990 <= parsed.year <= 2200:
        return None
    return parsed


def syntax_problem(path: Path, exc: Exception, line: int) -> str:
    """What to tell about an export that stops being XML at some point."""
    detail = str(exc).split("\n")[0][:200]
    # An error on the file's last line is the end arriving too soon.
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    truncated = getattr(exc, "lineno", 0) >= lines or "premature end" in detail.lower()
    hint = (
        "the file looks cut short: download the export again"
        if truncated
        else "the file is not well-formed XML there: download the export again"
    )
    return (
        f"{path.name}: {detail} (after line {line}); {hint}. What came before was read"
    )
