"""The gallery and downloads blocks of a post's text (pure).

Both inflows write the same syntax: a fenced block whose info string is
``gallery`` or ``downloads``, one item a line, fields split by ``|``
(``\\|`` is a literal bar)::

    ```gallery
    images/aube/atelier.jpg | Une lampe Aube sur l'établi | L'atelier de Lyon
    images/aube/pied.jpg | Le pied de l'Aube, démonté
    ```

    ```downloads
    images/aube/fiche-aube.pdf | Fiche technique de l'Aube
    ```

A photo line is ``file | alt text | caption`` (the caption may be left
out, the alt text may not); a document line is ``file | link text`` (the
text defaults to the file's name). A file is a path under content/, with or
without a leading ``{static}/`` or ``/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("gallery", "downloads")
#: An opening fence: three or more backticks or tildes and the block's kind.
OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<kind>gallery|downloads)[ \t]*$")
_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Photo:
    file: str
    alt: str
    caption: str
    line: int  # 1-based, in the text given to find_blocks


@dataclass(frozen=True)
class Document:
    file: str
    label: str
    line: int


@dataclass(frozen=True)
class Trouble:
    """A line of a block that says nothing usable, and the fix."""

    line: int
    message: str


@dataclass(frozen=True)
class Block:
    kind: str  # "gallery" | "downloads"
    start: int  # index of the opening fence line (0-based)
    end: int  # index of the closing fence line (0-based, or the last line)
    items: tuple[Photo | Document, ...]
    troubles: tuple[Trouble, ...]


def clean_path(file: str) -> str:
    """A block's file as a path relative to content/ ("" if it leaves it)."""
    path = file.strip()
    for prefix in ("{static}", "{attach}"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
    path = path.lstrip("/")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or "\\" in path or ":" in parts[0]:
        return ""
    return "/".join(parts)


def fields(line: str) -> list[str]:
    return [f.strip().replace("\\|", "|") for f in _SPLIT.split(line)]


def escape_field(text: str) -> str:
    """``text`` as one field of a block line: one line, its bars escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def parse_item(kind: str, line: str, number: int) -> Photo | Document | Trouble:
    parts = fields(line)
    path = clean_path(parts[0])
    if not path:
        return Trouble(
            number,
            f"{parts[0]!r} is not a file under content/: write a path such as "
            "images/album/photo.jpg",
        )
    if kind == "gallery":
        alt = parts[1] if len(parts) > 1 else ""
        caption = " | ".join(parts[2:]) if len(parts) > 2 else ""
        if not alt:
            return Trouble(
                number,
                f"{path}: the photo has no alt text: write "
                f"'{path} | what the photo shows | caption'",
            )
        return Photo(path, alt, caption, number)
    label = " | ".join(parts[1:]) if len(parts) > 1 else ""
    return Document(path, label, number)


def find_blocks(lines: list[str]) -> list[Block]:
    """Every gallery and downloads block among ``lines``, in order."""
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        found = OPEN.match(lines[i].strip())
        if not found:
            i += 1
            continue
        fence, kind = found.group("fence"), found.group("kind")
        items: list[Photo | Document] = []
        troubles: list[Trouble] = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence))
            and not lines[j].strip().strip(fence[0])
        ):
            text = lines[j].strip()
            if text and not text.startswith("#"):
                item = parse_item(kind, text, j + 1)
                if isinstance(item, Trouble):
                    troubles.append(item)
                else:
                    items.append(item)
            j += 1
        if j >= len(lines):
            troubles.append(Trouble(i + 1, f"the {kind} block is never closed: "
                                    f"end it with a line of {fence}"))  # fmt: skip
        blocks.append(
            Block(kind, i, min(j, len(lines) - 1), tuple(items), tuple(troubles))
        )
        i = j + 1
    return blocks
