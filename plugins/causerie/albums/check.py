"""``publish check`` for gallery and downloads blocks (pure).

The linter of :mod:`causerie.authoring` knows nothing of albums; the
command line hands it :func:`check_blocks`, which reads a post's lines and
says, line by line, what a build would refuse: a photo without alt text
(WCAG 2.2 §1.1.1), a file that is not there or leaves content/, a type
that is never published.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from . import blocks
from .documents import KINDS

#: What a gallery accepts by name (the worker checks the bytes).
PHOTO_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "webp", "gif", "heic", "heif", "avif", "tif", "tiff"}
)


def check_blocks(
    lines: list[str], exists: Callable[[str], bool]
) -> list[tuple[int, str, str]]:
    """(line, problem, fix) for each mistake in the blocks among ``lines``;
    ``exists`` says whether a path under content/ is a file."""
    out: list[tuple[int, str, str]] = []
    for block in blocks.find_blocks(lines):
        for trouble in block.troubles:
            message, _, fix = trouble.message.partition(": write ")
            out.append(
                (trouble.line, message, f"write {fix}" if fix else "fix the block")
            )
        for item in block.items:
            ext = PurePosixPath(item.file).suffix.lower().lstrip(".")
            if not exists(item.file):
                out.append(
                    (
                        item.line,
                        f"missing file {item.file}",
                        "put it under content/ and write its path from there",
                    )
                )
            elif isinstance(item, blocks.Photo) and ext not in PHOTO_EXTENSIONS:
                out.append(
                    (
                        item.line,
                        f"{item.file}: .{ext} is not published in a gallery",
                        "export it as JPEG or PNG (an SVG can hold scripts)",
                    )
                )
            elif isinstance(item, blocks.Document) and ext not in KINDS:
                out.append(
                    (
                        item.line,
                        f"{item.file}: .{ext} files are not offered as downloads",
                        f"offer one of: {', '.join(sorted(KINDS))}",
                    )
                )
    return out
