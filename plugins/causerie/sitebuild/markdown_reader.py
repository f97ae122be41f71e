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
reuses its object between a body and its summary: the HTML is the same. The
one exception, the footnotes' reset counter, is put back after each reset
(:func:`_counters`).

Given a :class:`~.content_cache.ContentCache` (incremental builds), a file
whose text was converted by an earlier build is not converted again; given a
:class:`~.prefetch.Prefetcher` (``SITEBUILD["jobs"]`` > 1), a file a worker
process converted is not converted again either. Workers and this reader
convert with the same :class:`Converter`, so their HTML is the same.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from markdown import Markdown
from markdown.extensions.footnotes import FootnoteExtension
from pelican.readers import MarkdownReader, pelican_open

from .content_cache import ContentCache, Entry, digest
from .reading import word_count


class Prefetcher(Protocol):
    """What the reader asks of :class:`~.prefetch.Prefetcher` (the workers
    converting files ahead of it), named here so that this module need not
    import that one (which imports this one's Converter)."""

    def take(self, path: str, key: str) -> Entry | None: ...


class Converter:
    """The two Markdown objects of one reader, or of one worker process.

    Everything a file's text gives (an :class:`Entry`) comes from here,
    whether the reader converts the file or a worker does it ahead of it.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        # MARKDOWN completed in place as Pelican's MarkdownReader.__init__
        # does (extensions of extension_configs, then "meta"): a worker is
        # forked before any reader exists and must use the same configuration.
        MarkdownReader(settings)
        self.config: dict[str, Any] = settings["MARKDOWN"]
        self.formatted = frozenset(settings["FORMATTED_FIELDS"])
        self._body_md: Markdown | None = None
        self._fields_md: Markdown | None = None
        self._meta_preprocessor: Any = None
        self._body_counters: list[tuple[FootnoteExtension, int]] = []
        self._fields_counters: list[tuple[FootnoteExtension, int]] = []

    def body(self, text: str) -> Entry:
        """The body's HTML, raw ``Meta`` lines and word count of ``text``."""
        if self._body_md is None:
            self._body_md = Markdown(**self.config)
            # A new object converts the body as it is made; Pelican's reader
            # resets it once before converting the summary.
            self._body_counters = _counters(self._body_md, 0)
        md = self._body_md
        md.reset()
        _rewind(self._body_counters)
        content = md.convert(text)
        meta = getattr(md, "Meta", None)
        # A copy: the next reset() clears the object's own dict.
        return Entry(
            content,
            {k: list(v) for k, v in meta.items()} if meta else {},
            words=word_count(content),
        )

    def fields_md(self) -> Markdown:
        """The fields' object, with its ``meta`` preprocessor registered:
        Pelican's ``_parse_metadata`` insists on taking it out itself (a
        ValueError if it is not there), so that a summary is never read as
        metadata."""
        if self._fields_md is None:
            self._fields_md = Markdown(**self.config)
            self._meta_preprocessor = self._fields_md.preprocessors["meta"]
            self._fields_counters = _counters(self._fields_md, 1)
        if "meta" not in self._fields_md.preprocessors:
            # At the priority markdown/extensions/meta.py gives it.
            self._fields_md.preprocessors.register(self._meta_preprocessor, "meta", 27)
        return self._fields_md

    def entry(self, text: str) -> Entry:
        """:meth:`body`, plus the HTML of the formatted fields as Pelican's
        ``_parse_metadata`` will ask for them (a lower-cased name in
        FORMATTED_FIELDS, its values joined by newlines, converted without
        ``meta``). A field this misses is converted when it is asked for."""
        entry = self.body(text)
        md: Markdown | None = None
        for name, value in entry.meta.items():
            if name.lower() not in self.formatted:
                continue
            if md is None:
                md = self.fields_md()
                md.preprocessors.deregister("meta")
            field = "\n".join(value)
            entry.fields[field] = self.field(field)
        return entry

    def field(self, text: str) -> str:
        """The HTML of one formatted field, with the fields' object as it is
        (``_parse_metadata`` or :meth:`entry` took ``meta`` out)."""
        md = self.fields_md() if self._fields_md is None else self._fields_md
        md.reset()
        _rewind(self._fields_counters)
        return md.convert(text)


def _counters(md: Markdown, resets: int) -> list[tuple[FootnoteExtension, int]]:
    """The state of ``md`` that ``reset()`` advances instead of clearing,
    with the value it has in Pelican's reader (a new object per file) after
    ``resets`` resets: the footnotes extension counts its resets in
    ``unique_prefix``, which numbers its ids when UNIQUE_IDS is on. Left to
    count, it would number a file's footnotes by how many files the object
    converted before: by the order of reading, or by a worker's share."""
    return [
        (ext, ext.unique_prefix + resets)
        for ext in md.registeredExtensions
        if isinstance(ext, FootnoteExtension)
    ]


def _rewind(counters: list[tuple[FootnoteExtension, int]]) -> None:
    for ext, value in counters:
        ext.unique_prefix = value


class ReusingMarkdownReader(MarkdownReader):
    """``MarkdownReader`` with one Markdown object for bodies, one for fields."""

    def __init__(
        self,
        *args: Any,
        cache: ContentCache | None = None,
        prefetcher: Prefetcher | None = None,
        words: dict[str, tuple[str, int]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._converter: Converter | None = None
        self._cache = cache
        self._prefetcher = prefetcher
        self._words = words
        self._entry: Entry | None = None

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        self._source_path = source_path
        with pelican_open(source_path) as text:
            keyed = self._cache is not None or self._prefetcher is not None
            key = digest(text) if keyed else ""
            entry = self._cache.get(key) if self._cache is not None else None
            if entry is None:
                if self._prefetcher is not None:
                    entry = self._prefetcher.take(source_path, key)
                if entry is None:
                    entry = self._converter_for().body(text)
                if self._cache is not None:
                    self._cache.put(key, entry)
            if self._cache is not None:
                self._cache.note(source_path, key)
        if self._words is not None and entry.words is not None:
            # For the reading time (sitebuild._enrich), which checks that
            # this HTML is still the post's content before using the count.
            self._words[source_path] = (entry.content, entry.words)
        # Metadata is processed anew every time (new objects, this build's
        # settings); only the Markdown of the formatted fields is reused.
        self._entry = entry
        try:
            metadata = self._parse_metadata(entry.meta) if entry.meta else {}
        finally:
            self._entry = None
        return entry.content, metadata

    def _converter_for(self) -> Converter:
        if self._converter is None:
            self._converter = Converter(self.settings)
        return self._converter

    def _parse_metadata(self, meta: dict[str, list[str]]) -> dict[str, Any]:
        # Pelican's _parse_metadata converts the formatted fields with
        # self._md, after taking out its "meta" preprocessor.
        converter = self._converter_for()
        converter.fields_md()
        fields = self._entry.fields if self._entry is not None else {}
        self._md = _FieldsMemo(converter, fields)
        result: dict[str, Any] = super()._parse_metadata(meta)
        return result


class _FieldsMemo:
    """The fields' Markdown object as ``_parse_metadata`` uses it (reset,
    convert, preprocessors), answering from a file's cached entry."""

    def __init__(self, converter: Converter, memo: dict[str, str]) -> None:
        self.converter = converter
        self.memo = memo
        self.preprocessors = converter.fields_md().preprocessors

    def reset(self) -> None:
        pass  # convert() resets when it really converts

    def convert(self, text: str) -> str:
        html = self.memo.get(text)
        if html is None:
            html = self.memo[text] = self.converter.field(text)
        return html


def use_reusing_reader(
    readers: Any,
    cache: ContentCache | None = None,
    prefetcher: Prefetcher | None = None,
    words: dict[str, tuple[str, int]] | None = None,
) -> None:
    """``readers_init`` receiver: read Markdown files with our reader, unless
    the site's READERS chose another reader for them."""
    reader = partial(
        ReusingMarkdownReader, cache=cache, prefetcher=prefetcher, words=words
    )
    for ext in MarkdownReader.file_extensions:
        if readers.reader_classes.get(ext) is MarkdownReader:
            readers.reader_classes[ext] = reader
