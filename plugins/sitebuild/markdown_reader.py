"""A Markdown reader that builds its Markdown objects once per build.

Pelican 4.12's ``MarkdownReader.read`` makes a new ``markdown.Markdown`` for
every file (loading and configuring every extension: about 0.5 ms each, a
second per 2,000 posts), then converts the formatted fields (``Summary:``)
with the same object after deregistering its ``meta`` preprocessor, which is
why it cannot simply keep it. Here two objects live as long as the reader
(one build): one for bodies, with ``meta``, and one for the formatted fields,
without it. Python-Markdown's ``Markdown.reset()`` clears every per-document
state (HTML stash, references, footnotes, abbreviations, ``Meta``, the table
of contents; ``toc`` keeps its used ids per run), which is how Pelican itself
reuses its object between a body and its summary: the HTML is the same.
"""

from __future__ import annotations

from typing import Any

from markdown import Markdown
from pelican.readers import MarkdownReader, pelican_open


class ReusingMarkdownReader(MarkdownReader):
    """``MarkdownReader`` with one Markdown object for bodies, one for fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._body_md: Markdown | None = None
        self._fields_md: Markdown | None = None

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        self._source_path = source_path
        if self._body_md is None:
            self._body_md = Markdown(**self.settings["MARKDOWN"])
        md = self._body_md
        md.reset()
        with pelican_open(source_path) as text:
            content = md.convert(text)
        meta = getattr(md, "Meta", None)
        metadata = self._parse_metadata(meta) if meta is not None else {}
        return content, metadata

    def _parse_metadata(self, meta: dict[str, list[str]]) -> dict[str, Any]:
        # Pelican's _parse_metadata converts the formatted fields with
        # self._md after deregistering its "meta" preprocessor, strictly (a
        # ValueError if it is not there), so that a summary is never read as
        # metadata: give it the fields' object with "meta" put back (at the
        # priority markdown/extensions/meta.py gives it), to be taken out.
        if self._fields_md is None:
            self._fields_md = Markdown(**self.settings["MARKDOWN"])
            self._meta_preprocessor = self._fields_md.preprocessors["meta"]
        if "meta" not in self._fields_md.preprocessors:
            self._fields_md.preprocessors.register(self._meta_preprocessor, "meta", 27)
        self._md = self._fields_md
        result: dict[str, Any] = super()._parse_metadata(meta)
        return result


def use_reusing_reader(readers: Any) -> None:
    """``readers_init`` receiver: read Markdown files with our reader, unless
    the site's READERS chose another reader for them."""
    for ext in MarkdownReader.file_extensions:
        if readers.reader_classes.get(ext) is MarkdownReader:
            readers.reader_classes[ext] = ReusingMarkdownReader
