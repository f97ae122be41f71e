"""What a long-running process keeps between builds (``publish watch``).

A build in a fresh process reads every source file, makes a Pelican content
object of each and computes its URLs, reading time and fingerprint, even
when one file changed: seconds at 8,000 posts, however little is rendered.
A process that stays up (:func:`warm_builds`) keeps:

- the content object read from each file, with the *pristine* state it had
  when read (its attributes right after Pelican made it). A file whose
  ``stat`` (mtime, size, inode) is unchanged is not read again: its object
  is put back into that pristine state — every attribute Pelican or a
  plugin set during the last build is dropped, containers are copied — and
  handed to the generator as if just read, with the build's context; the
  ``article_generator_context`` signal is sent again with a copy of its
  metadata, as Pelican sends it for a file it reads. Anything else (a
  changed, new or unreadable file) goes through Pelican's reader as usual;
- the URLs of those objects (Pelican computes ``url`` and ``save_as`` from
  the settings at every access), by status and language;
- what the fingerprints need of an unchanged object: the digest of its
  pristine attributes (:class:`~.fingerprint.Digester` then hashes only
  the attributes the build set or replaced).

Objects whose fields hold ``{filename}`` links are never reused: Pelican
rewrites those links in place, once, with the URLs of the day.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pelican.contents import Content

from causerie.pelican_compat import has_intrasite_links

from .state import BUILD


def _fresh(value: Any) -> Any:
    # Containers are copied so that a build mutating one in place (a list of
    # translations, the metadata dict) leaves the pristine state alone.
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


@dataclass
class _Kept:
    stamp: tuple[int, int, int]
    obj: Content
    pristine: dict[str, Any]
    #: The values given to the object by the latest reset, by attribute:
    #: an attribute still holding the same object was not set by the build.
    reset: dict[str, Any] = field(default_factory=dict)
    #: Digests of the pristine attributes (fingerprint), by attribute.
    digests: dict[str, bytes] = field(default_factory=dict)
    #: The object's attributes when a digest of its whole state was last
    #: made, and that digest, by kind (fingerprint.Digester._state).
    states: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    #: How it was read (the reader and its arguments), to read it again.
    read: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None = None


class WarmState:
    """Content objects, URLs and digests kept by one process for one site."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], _Kept] = {}
        self._by_id: dict[int, _Kept] = {}
        self._urls: dict[tuple[int, str, bool, str], str] = {}
        #: Files read from disk by the current build, and reused.
        self.read = 0
        self.reused = 0
        #: The generators of the last build that succeeded (None: no such
        #: build, or the last one failed: the fast path must not be taken).
        self.generators: list[Any] | None = None
        #: pelican-sitemap's pages of the last build and its clock.
        self.sitemap: tuple[list[tuple[str, Any]], Any] | None = None
        #: Source files the current build asked for (absolute paths).
        self.seen: set[str] = set()

    def start(self) -> None:
        self.read = self.reused = 0
        self.generators = None
        self.seen = set()

    # --- reading ----------------------------------------------------------------

    def read_file(self, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``Readers.read_file``, reusing the object of an unchanged file."""
        base_path, path = (
            _arg(args, kwargs, 0, "base_path"),
            _arg(args, kwargs, 1, "path"),
        )
        content_class = _arg(args, kwargs, 2, "content_class", None)
        full = os.path.abspath(os.path.join(base_path, path))
        self.seen.add(full)
        try:
            st = os.stat(full)
        except OSError:
            return original(*args, **kwargs)  # Pelican reports it
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        key = (full, getattr(content_class, "__name__", ""))
        kept = self._kept.get(key)
        if kept is not None and kept.stamp == stamp:
            self.reused += 1
            return self._reuse(kept, kwargs, args)
        if kept is not None:
            self._forget(key)
        obj = original(*args, **kwargs)
        self.read += 1
        if (
            isinstance(obj, Content)
            and type(obj).__name__ != "SkipStub"
            and not has_intrasite_links(obj)
        ):
            kept = _Kept(stamp, obj, {k: _fresh(v) for k, v in vars(obj).items()})
            kept.reset = dict(vars(obj))
            kept.read = (original, args, kwargs)
            self._kept[key] = kept
            self._by_id[id(obj)] = kept
        return obj

    def _reuse(self, kept: _Kept, kwargs: dict[str, Any], args: tuple[Any, ...]) -> Any:
        context = _arg(args, kwargs, 4, "context", None)
        preread_signal = _arg(args, kwargs, 5, "preread_signal", None)
        preread_sender = _arg(args, kwargs, 6, "preread_sender", None)
        context_signal = _arg(args, kwargs, 7, "context_signal", None)
        context_sender = _arg(args, kwargs, 8, "context_sender", None)
        if preread_signal:
            preread_signal.send(preread_sender)
        if context_signal:
            metadata = dict(kept.pristine.get("metadata") or {})
            context_signal.send(context_sender, metadata=metadata)
        obj = kept.obj
        state = {k: _fresh(v) for k, v in kept.pristine.items()}
        if context is not None:
            state["_context"] = context
        obj.__dict__.clear()
        obj.__dict__.update(state)
        kept.reset = dict(state)
        return obj

    def _forget(self, key: tuple[str, str]) -> None:
        kept = self._kept.pop(key)
        self._by_id.pop(id(kept.obj), None)
        self._urls = {k: v for k, v in self._urls.items() if k[0] != id(kept.obj)}

    def prune(self, seen: set[str]) -> None:
        """Drop the objects of files that are gone."""
        for key in [k for k in self._kept if k[0] not in seen]:
            self._forget(key)

    def objects(self) -> list[Content]:
        """The content objects kept for the next build."""
        return [kept.obj for kept in self._kept.values()]

    def by_path(self, path: str) -> list[_Kept]:
        """The objects read from ``path`` (absolute)."""
        full = os.path.abspath(path)
        return [kept for key, kept in self._kept.items() if key[0] == full]

    def replace(self, kept: _Kept, new: Content, stamp: tuple[int, int, int]) -> None:
        """``kept``'s file was read again as ``new``, which differs only in
        its body: ``kept.obj`` takes the new body, in place (every list of
        the last build still holds it), and becomes its own pristine state."""
        obj = kept.obj
        obj._content = new._content
        kept.pristine["_content"] = new._content
        kept.reset["_content"] = new._content
        kept.digests.pop("_content", None)
        kept.states.clear()
        kept.stamp = stamp
        # Pelican memoizes the rendered body and summary by object.
        for method in ("get_content", "get_summary"):
            cache = getattr(
                type(obj).__dict__.get(method) or getattr(Content, method),
                "cache",
                None,
            )
            if isinstance(cache, dict):
                for key in [k for k in cache if k and k[0] is obj]:
                    del cache[key]

    # --- what the fingerprints and URLs need --------------------------------------

    def kept(self, obj: Any) -> _Kept | None:
        kept = self._by_id.get(id(obj))
        return kept if kept is not None and kept.obj is obj else None

    def url_setting(
        self, original: Callable[[Any, str], str], obj: Any, key: str
    ) -> str:
        if self.kept(obj) is None:
            return original(obj, key)
        memo = url_key(obj, key)
        value = self._urls.get(memo)
        if value is None:
            value = self._urls[memo] = original(obj, key)
        return value


def url_key(obj: Any, key: str) -> tuple[int, str, bool, str]:
    """What a memo of ``obj.get_url_setting(key)`` is keyed by: the object
    (alive for as long as the memo), and the language and status Pelican
    reads besides its metadata (translations, drafts)."""
    return (id(obj), key, bool(getattr(obj, "in_default_lang", True)), str(obj.status))


def _arg(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    index: int,
    name: str,
    default: Any = ...,
) -> Any:
    if name in kwargs:
        return kwargs[name]
    if index < len(args):
        return args[index]
    if default is ...:
        raise TypeError(f"read_file() missing {name}")
    return default


def current() -> WarmState | None:
    """The warm state of the build running in this process, if any."""
    return BUILD.warm


@contextmanager
def warm_builds(state: WarmState) -> Iterator[WarmState]:
    """Builds inside this block reuse ``state`` (one site, one process)."""
    original = Content.get_url_setting

    def get_url_setting(self: Any, key: str) -> str:
        return state.url_setting(original, self, key)

    previous, BUILD.warm = BUILD.warm, state
    Content.get_url_setting = get_url_setting
    try:
        yield state
    finally:
        Content.get_url_setting = original
        BUILD.warm = previous


def install_reader(readers: Any) -> None:
    """``readers_init``: route this build's reads through the warm state."""
    state = BUILD.warm
    if state is None:
        return
    original = readers.read_file

    def read_file(*args: Any, **kwargs: Any) -> Any:
        return state.read_file(original, *args, **kwargs)

    readers.read_file = read_file
