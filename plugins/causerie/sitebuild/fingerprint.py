"""Fingerprints of what a page is rendered from, to skip unchanged pages.

An incremental build renders a page only when its fingerprint differs from
the one the previous build recorded for that file (:mod:`causerie.webmentions.store.writer_process`). The
fingerprint must change whenever the page's bytes could: it covers

- the *site*: Pelican's, Jinja's and Markdown's versions, every file of the
  theme, every source file of the plugins, and the files given as
  ``extra_inputs`` (the authors registry, which a template filter reads);
- the *template's inputs*: the names a template (with the templates it
  extends, imports or includes) reads from its context, found by Jinja's own
  parser (:func:`template_names`), and the value of each of them in the
  page's context: a setting, the post, the page's list of posts...;
- a *post* (a Pelican content object) by its whole state: every attribute,
  its HTML, its metadata and what the plugins attached (reading time,
  comments, related posts); a post it links to (a related post, a
  translation) by that post's own state.

Values are hashed structurally (:class:`Digester`), never by ``repr`` of an
object whose ``repr`` is its address: such a value gets a token of its own
for the process, so the page is rendered again (safe, only slower).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import Any

import jinja2
import markdown
import pelican
from jinja2 import meta
from pelican.contents import Content
from pelican.urlwrappers import URLWrapper

from causerie.pelican_compat import has_intrasite_links

from . import warm

#: Attributes of a content object that are not its state: the build's
#: shared context and settings (hashed on their own, as the template reads
#: them), and Pelican's memo of the rendered content.
SKIPPED_ATTRS = frozenset({"_context", "settings", "_content_memo"})

_H = Callable[[bytes], None]
_MISSING = object()


def _blake(data: bytes = b"") -> Any:
    return hashlib.blake2b(data, digest_size=20)


class Digester:
    """Structural digests of template values, memoized for one build.

    A content object's *own* digest covers its attributes, with the content
    objects it points to (related posts, translations) reduced to their
    address; its *full* digest adds the own digests of those, so that a
    page showing a related post's title changes when that title does.
    """

    def __init__(self) -> None:
        # id → (object, digest): the object is kept so that its id is not
        # reused by another object during the build.
        self._own: dict[int, tuple[Any, bytes]] = {}
        self._shown: dict[int, tuple[Any, bytes]] = {}
        self._full: dict[int, tuple[Any, bytes]] = {}
        self._opaque = os.urandom(16)
        #: When a set: the ids of the content objects digested (each
        #: object's full digest, and the posts it links to) go there, so that
        #: a page knows which posts it shows (publish watch's fast path).
        self.touched: set[int] | None = None
        self._listed = False
        self._links: dict[int, tuple[int, ...]] = {}

    # --- content objects ------------------------------------------------------

    def forget(self, ids: set[int]) -> None:
        """Objects ``ids`` changed in place: drop what was computed of them,
        and the full digests of the objects that link to them."""
        for memo in (self._own, self._shown, self._full):
            for ident in ids:
                memo.pop(ident, None)
        for ident, links in list(self._links.items()):
            if ident in ids or not ids.isdisjoint(links):
                self._full.pop(ident, None)
                self._links.pop(ident, None)

    def own(self, obj: Content) -> bytes:
        """Everything of ``obj`` (other content objects by address)."""
        return self._state(obj, self._own, frozenset())

    def shown(self, obj: Content) -> bytes:
        """``obj`` as a page that links to it can show it: all of it but its
        body, when it has a summary of its own (a related post or a
        translation shows a title, a date, a summary; without a ``Summary:``
        Pelican cuts the summary from the body, so the body counts)."""
        metadata = getattr(obj, "metadata", None) or {}
        skip = frozenset({"_content"}) if "summary" in metadata else frozenset()
        return self._state(obj, self._shown, skip)

    def _state(
        self,
        obj: Content,
        memo: dict[int, tuple[Any, bytes]],
        skip: frozenset[str],
    ) -> bytes:
        hit = memo.get(id(obj))
        if hit is not None:
            return hit[1]
        attrs = vars(obj)
        state = warm.current()
        kept = state.kept(obj) if state is not None else None
        kind = "\x00state:" + ",".join(sorted(skip))
        compared: dict[str, Any] = {}
        if kept is not None:
            # A warm process: the same attributes as when this digest was
            # last computed (one dict comparison) give the same digest. Not
            # the build's context and settings (new dicts every build).
            compared = {k: v for k, v in attrs.items() if k not in SKIPPED_ATTRS}
            before = kept.states.get(kind)
            if before is not None and before[0] == compared:
                memo[id(obj)] = (obj, before[1])
                return before[1]
        h = _blake(b"content:" + type(obj).__qualname__.encode())
        for key in sorted(attrs):
            if key in SKIPPED_ATTRS or key in skip:
                continue
            h.update(b"\x00" + key.encode() + b"=")
            h.update(self._attr(kept, key, attrs[key]))
        if has_intrasite_links(obj, body="_content" not in skip):
            # {filename}/{static} links become URLs of other content at
            # render time (Pelican's _update_content): hash the result.
            h.update(b"\x00rendered=")
            if "_content" not in skip:
                self._feed(h.update, obj.content, depth=0, refs=True)
            self._feed(h.update, obj.summary, depth=0, refs=True)
        digest: bytes = h.digest()
        memo[id(obj)] = (obj, digest)
        if kept is not None:
            kept.states[kind] = (compared, digest)
        return digest

    def _attr(self, kept: Any, key: str, value: Any) -> bytes:
        """One attribute's digest; in a warm process, the digest of an
        attribute the build did not touch is kept from earlier builds."""
        if kept is not None and kept.reset.get(key, _MISSING) is value:
            pristine = kept.pristine[key]
            if not isinstance(value, dict | list) or value == pristine:
                found: bytes | None = kept.digests.get(key)
                if found is None:
                    found = kept.digests[key] = self._attr(None, key, value)
                return found
        sub = _blake()
        self._feed(sub.update, value, depth=0, refs=True)
        return bytes(sub.digest())

    def full(self, obj: Content) -> bytes:
        hit = self._full.get(id(obj))
        if hit is not None:
            if self.touched is not None:
                self.touched.update(self._links[id(obj)])
            return hit[1]
        h = _blake(self.own(obj))
        ids = [id(obj)]
        for linked in self._linked(vars(obj).values(), depth=0):
            if linked is not obj:
                h.update(self.shown(linked))
                ids.append(id(linked))
        digest: bytes = h.digest()
        self._full[id(obj)] = (obj, digest)
        self._links[id(obj)] = tuple(ids)
        if self.touched is not None:
            self.touched.update(ids)
        return digest

    def _linked(self, values: Iterable[Any], depth: int) -> Iterable[Content]:
        for value in values:
            if isinstance(value, Content):
                yield value
            elif depth < 2 and isinstance(value, list | tuple):
                yield from self._linked(value, depth + 1)

    # --- any value ------------------------------------------------------------

    def value(self, value: Any, listed: bool = False) -> bytes:
        """The digest of a template value: a content object by its full
        digest; with ``listed``, the content objects *inside* the value (the
        posts of a list page, of a tag...) by what a list shows of them
        (:meth:`shown`): for a template that never shows a listed post's body
        (:func:`reads_listed_bodies`)."""
        if isinstance(value, Content):
            return self.full(value)
        h = _blake()
        self._listed = listed
        try:
            self._feed(h.update, value, depth=0, refs=False)
        finally:
            self._listed = False
        return bytes(h.digest())

    def _feed(self, h: _H, v: Any, depth: int, refs: bool) -> None:
        if v is None or isinstance(v, bool | int | float | Enum):
            h(b"p" + repr(v).encode() + b";")
        elif isinstance(v, str):
            data = v.encode("utf-8", "surrogatepass")
            h(b"s%d:" % len(data) + data)
        elif isinstance(v, bytes):
            h(b"b%d:" % len(v) + v)
        elif isinstance(v, dt.datetime | dt.date | dt.time | dt.timedelta):
            h(b"d" + repr(v).encode() + b";")
        elif isinstance(v, Content):
            if refs:
                h(b"ref:" + str(getattr(v, "save_as", "")).encode() + b";")
                h(str(getattr(v, "source_path", "")).encode() + b";")
            elif self._listed:
                h(b"l" + self.shown(v))
                if self.touched is not None:
                    self.touched.add(id(v))
            else:
                h(b"c" + self.full(v))
        elif isinstance(v, URLWrapper):
            # A category, tag or author: what a template can show of it. Its
            # settings are the build's (hashed as the settings).
            h(b"u" + type(v).__qualname__.encode() + b":")
            for part in (v.name, v.slug):
                self._feed(h, part, depth, refs)
            self._feed(h, getattr(v, "__dict__", {}).get("metadata"), depth, refs)
        elif hasattr(v, "fingerprint_parts") and not isinstance(v, type):
            # An object that says what a template can read of it (a list
            # page: its posts, not the whole list it was cut from).
            h(b"fp" + type(v).__qualname__.encode())
            self._feed(h, v.fingerprint_parts(), depth + 1, refs)
        elif depth > 6:
            h(b"deep;" + self._opaque)
        elif isinstance(v, dict):
            h(b"{%d" % len(v))
            for key in sorted(v, key=repr):
                self._feed(h, key, depth + 1, refs)
                self._feed(h, v[key], depth + 1, refs)
            h(b"}")
        elif isinstance(v, list | tuple):
            h(b"[%d" % len(v))
            for item in v:
                self._feed(h, item, depth + 1, refs)
            h(b"]")
        elif isinstance(v, set | frozenset):
            parts = []
            for item in v:
                sub = _blake()
                self._feed(sub.update, item, depth + 1, refs)
                parts.append(sub.digest())
            h(b"<%d" % len(v) + b"".join(sorted(parts)) + b">")
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            h(b"dc" + type(v).__qualname__.encode())
            for f in dataclasses.fields(v):
                h(f.name.encode() + b"=")
                self._feed(h, getattr(v, f.name), depth + 1, refs)
        elif callable(v) and hasattr(v, "__qualname__"):
            # A function or class: its code is hashed with the plugins'.
            h(b"f" + f"{getattr(v, '__module__', '')}.{v.__qualname__}".encode())
        elif hasattr(v, "__dict__") and not isinstance(v, type):
            h(b"o" + type(v).__qualname__.encode())
            attrs = vars(v)
            for key in sorted(attrs):
                if key in SKIPPED_ATTRS:
                    continue
                h(key.encode() + b"=")
                self._feed(h, attrs[key], depth + 1, refs)
        else:
            text = repr(v)
            if " at 0x" in text or " object at " in text:
                # Its repr is its address: nothing stable to compare.
                h(b"opaque" + self._opaque)
            else:
                h(b"r" + type(v).__qualname__.encode() + text.encode() + b";")


def template_names(env: jinja2.Environment, name: str) -> frozenset[str]:
    """The context names ``name`` reads, with every template it extends,
    imports or includes (a template chosen at render time by an expression
    cannot be followed: its names are then unknown, and this returns None
    in the set so callers can fall back to the whole context)."""
    seen: set[str] = set()
    names: set[str] = set()

    def visit(template: str) -> None:
        if template in seen:
            return
        seen.add(template)
        assert env.loader is not None
        source = env.loader.get_source(env, template)[0]
        ast = env.parse(source)
        names.update(meta.find_undeclared_variables(ast))
        for ref in meta.find_referenced_templates(ast):
            if ref is None:
                names.add("\x00dynamic")
            else:
                visit(ref)

    visit(name)
    return frozenset(names)


#: Names whose ``.content`` is the page's own post, not a listed one.
_OWN_POST = frozenset({"article", "page"})


def reads_listed_bodies(env: jinja2.Environment, name: str) -> bool:
    """Whether ``name`` (with what it extends, imports or includes) may show
    the body of a post other than the page's own (``article``, ``page``):
    any ``x.content`` or ``get_content`` on something else, or the string
    "content" anywhere (``map(attribute="content")``). Conservative: when in
    doubt, True."""
    from jinja2 import nodes

    seen: set[str] = set()

    def visit(template: str) -> bool:
        if template in seen:
            return False
        seen.add(template)
        assert env.loader is not None
        ast = env.parse(env.loader.get_source(env, template)[0])
        bodies = ("content", "get_content", "_content")
        for node in ast.find_all((nodes.Getattr, nodes.Const)):
            if isinstance(node, nodes.Const) and node.value in bodies:
                return True
            if (
                isinstance(node, nodes.Getattr)
                and node.attr in bodies
                and not (
                    isinstance(node.node, nodes.Name) and node.node.name in _OWN_POST
                )
            ):
                return True
        for ref in meta.find_referenced_templates(ast):
            if ref is None or visit(ref):
                return True
        return False

    return visit(name)


def tree_digest(roots: Iterable[Path], suffixes: tuple[str, ...] = ()) -> bytes:
    """A digest of every file under ``roots`` (names and bytes); with
    ``suffixes``, only the files that end so."""
    h = _blake()
    for root in roots:
        if root.is_file():
            h.update(str(root).encode() + b"\x00" + root.read_bytes())
            continue
        if not root.is_dir():
            h.update(b"missing:" + str(root).encode())
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if suffixes and not name.endswith(suffixes):
                    continue
                path = Path(dirpath) / name
                h.update(str(path.relative_to(root)).encode() + b"\x00")
                h.update(path.read_bytes())
    return bytes(h.digest())


def versions_digest() -> bytes:
    """The libraries whose output the pages are."""
    parts = (pelican.__version__, jinja2.__version__, markdown.__version__)
    return bytes(_blake(repr(parts).encode()).digest())
