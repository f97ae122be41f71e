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

Given a :class:`~.content_cache.ContentCache` (incremental builds), a file
whose text was converted by an earlier build is not converted again.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from markdown import Markdown
from pelican.readers import MarkdownReader, pelican_open

from .content_cache import ContentCache, Entry, digest


class ReusingMarkdownReader(MarkdownReader):
    """``MarkdownReader`` with one Markdown object for bodies, one for fields."""

    def __init__(
        self, *args: Any, cache: ContentCache | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._body_md: Markdown | None = None
        self._fields_md: Markdown | None = None
        self._cache = cache
        self._entry: Entry | None = None

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        self._source_path = source_path
        with pelican_open(source_path) as text:
            key = digest(text) if self._cache is not None else ""
            entry = self._cache.get(key) if self._cache is not None else None
            if entry is None:
                if self._body_md is None:
                    self._body_md = Markdown(**self.settings["MARKDOWN"])
                md = self._body_md
                md.reset()
                content = md.convert(text)
                meta = getattr(md, "Meta", None)
                # A copy: the next reset() clears the object's own dict.
                entry = Entry(
                    content, {k: list(v) for k, v in meta.items()} if meta else {}
                )
                if self._cache is not None:
                    self._cache.put(key, entry)
        # Metadata is processed anew every time (new objects, this build's
        # settings); only the Markdown of the formatted fields is reused.
        self._entry = entry
        try:
            metadata = self._parse_metadata(entry.meta) if entry.meta else {}
        finally:
            self._entry = None
        return entry.content, metadata

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
        if self._entry is not None:
            self._md = _FieldsMemo(self._fields_md, self._entry.fields)
        result: dict[str, Any] = super()._parse_metadata(meta)
        return result


class _FieldsMemo:
    """The fields' Markdown object as ``_parse_metadata`` uses it (reset,
    convert, preprocessors), answering from a file's cached entry."""

    def __init__(self, md: Markdown, memo: dict[str, str]) -> None:
        self.md = md
        self.memo = memo
        self.preprocessors = md.preprocessors

    def reset(self) -> None:
        pass  # convert() resets when it really converts

    def convert(self, text: str) -> str:
        html = self.memo.get(text)
        if html is None:
            self.md.reset()
            html = self.memo[text] = self.md.convert(text)
        return html


def use_reusing_reader(readers: Any, cache: ContentCache | None = None) -> None:
    """``readers_init`` receiver: read Markdown files with our reader, unless
    the site's READERS chose another reader for them."""
    reader = partial(ReusingMarkdownReader, cache=cache) if cache else None
    for ext in MarkdownReader.file_extensions:
        if readers.reader_classes.get(ext) is MarkdownReader:
            readers.reader_classes[ext] = reader or ReusingMarkdownReader
