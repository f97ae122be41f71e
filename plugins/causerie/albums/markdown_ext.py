"""The Python-Markdown extension that turns gallery and downloads blocks
into their HTML (the adapter between :mod:`.blocks`, :mod:`.images` and
:mod:`.plan`).

The albums plugin adds it to ``MARKDOWN`` when the build starts
(:func:`causerie.albums.plugin.initialized`), with plain values only, so the
build's worker processes configure it the same way. A preprocessor runs
before the fenced-code one and puts each block's HTML in the HTML stash,
so nothing of it is read as Markdown again.

A photo or a document that is refused (missing, damaged, too large, of a
type we do not publish) is left out of its block, and a
``<div class="albums-problem">`` saying why takes its place: the plugin
logs it as a warning naming the post and the file (which ``publish build
--strict`` makes fatal) and removes it. Logging here would be lost when the
Markdown is converted in one of the build's worker processes.
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from . import blocks, documents, plan
from .errors import AlbumError
from .images import Entry, processed
from .settings import AlbumsSettings

log = logging.getLogger("causerie.albums")


class Albums:
    """What the blocks need to know of the site; one per Markdown object."""

    def __init__(
        self, content: str, cache: str, base_url: str, settings: AlbumsSettings
    ) -> None:
        self.content = Path(content)
        self.cache = Path(cache)
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.problems: list[str] = []

    def refuse(self, message: str) -> None:
        self.problems.append(message)

    def url(self, entry: Entry, file: str) -> str:
        return f"{self.base_url}/{self.settings.output_dir}/{entry.key}/{file}"

    def source(self, path: str) -> Path:
        return self.content / path

    def photo(self, item: blocks.Photo) -> plan.ShownPhoto | None:
        where = f"content/{item.file}"
        try:
            entry = processed(self.source(item.file), where, "image", self.cache,
                              self.settings)  # fmt: skip
        except AlbumError as exc:
            self.refuse(str(exc))
            return None
        variants = tuple(
            plan.Variant(self.url(entry, v["file"]), v["width"], v["height"], v["type"])
            for v in entry.variants
        )
        return plan.ShownPhoto(item.alt, item.caption, variants)

    def document(self, item: blocks.Document) -> plan.ShownDocument | None:
        where = f"content/{item.file}"
        source = self.source(item.file)
        try:
            with source.open("rb") as handle:
                head = handle.read(1024)
            size = source.stat().st_size
        except OSError as exc:
            self.refuse(f"{where}: cannot be read ({exc.strerror}): check the "
                        "path in the downloads block")  # fmt: skip
            return None
        kind = documents.kind_of(item.file, head)
        if isinstance(kind, str):
            self.refuse(f"{where}: refused: {kind}")
            return None
        thumbnail: plan.Variant | None = None
        if kind.label == "PDF":
            try:
                entry = processed(source, where, "pdf", self.cache, self.settings)
                v = entry.variants[0]
                thumbnail = plan.Variant(self.url(entry, v["file"]), v["width"],
                                         v["height"], v["type"])  # fmt: skip
            except AlbumError as exc:
                if "cannot be read" in str(exc) or "no page" in str(exc):
                    # Damaged or cut short: said (and fatal with --strict),
                    # but the author's file is still offered, as it came.
                    self.refuse(f"{exc}; it is offered with a generic icon: "
                                "check that it opens, or send it again")  # fmt: skip
                else:
                    # Valid but too heavy to render within the limits: the
                    # generic icon, never a failed build.
                    log.info("albums: %s (the generic icon is shown)", exc)
        name = documents.display_name(item.file)
        return plan.ShownDocument(
            url=f"{self.base_url}/{item.file}",
            name=item.label or name,
            file_name=name,
            type_label=kind.label,
            media_type=kind.media_type,
            size=size,
            thumbnail=thumbnail,
        )


class BlockPreprocessor(Preprocessor):
    def __init__(self, md: Markdown, albums: Albums) -> None:
        super().__init__(md)
        self.albums = albums

    def run(self, lines: list[str]) -> list[str]:
        found = blocks.find_blocks(lines)
        if not found:
            return lines
        lang = str((getattr(self.md, "Meta", {}) or {}).get("lang", ["en"])[0])[:2]
        out: list[str] = []
        at = 0
        shown = 0  # photos before this block on the page (lazy loading)
        for block in found:
            out.extend(lines[at : block.start])
            at = block.end + 1
            for trouble in block.troubles:
                self.albums.refuse(
                    f"{block.kind} block, line {trouble.line}: {trouble.message}"
                )
            if block.kind == "gallery":
                photos = [
                    p
                    for item in block.items
                    if isinstance(item, blocks.Photo)
                    and (p := self.albums.photo(item)) is not None
                ]
                html = (
                    ""
                    if not photos
                    else plan.gallery_html(
                        photos,
                        first_index=shown,
                        eager=self.albums.settings.eager_photos,
                    )
                )
                shown += len(photos)
            else:
                docs = [
                    d
                    for item in block.items
                    if isinstance(item, blocks.Document)
                    and (d := self.albums.document(item)) is not None
                ]
                html = plan.downloads_html(docs, lang) if docs else ""
            html += "".join(
                f'<div class="albums-problem">{escape(p)}</div>'
                for p in self.albums.problems
            )
            self.albums.problems.clear()
            if html:
                out.extend(["", self.md.htmlStash.store(html), ""])
        out.extend(lines[at:])
        return out


class AlbumsExtension(Extension):
    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "content_path": ["content", "the site's content/ directory"],
            "cache_dir": ["cache/albums", "where processed images are kept"],
            "base_url": ["", "SITEURL"],
            "settings": [{}, "the ALBUMS dict"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        from causerie.settings import read_section

        settings = read_section({"ALBUMS": self.getConfig("settings")}, "ALBUMS",
                                AlbumsSettings)  # fmt: skip
        albums = Albums(
            self.getConfig("content_path"),
            self.getConfig("cache_dir"),
            self.getConfig("base_url"),
            settings,
        )
        # Before fenced_code (25) and before meta is read? Meta runs at 27,
        # so the post's Lang: is known here.
        md.preprocessors.register(BlockPreprocessor(md, albums), "causerie_albums", 26)


def makeExtension(**kwargs: Any) -> AlbumsExtension:
    return AlbumsExtension(**kwargs)
