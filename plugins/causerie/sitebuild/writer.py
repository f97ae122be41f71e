"""Causerie's Pelican writer: stable pagination, and no work for unchanged pages.

Pelican's ``Writer`` renders and writes every page of every build. This one
(given to Pelican by the ``get_writer`` signal):

- paginates lists with :mod:`.pagination` (pages cut from the oldest post,
  so a new post leaves older list pages as they were);
- during an incremental build (:class:`PagePlan` active), computes each
  page's fingerprint (:mod:`.fingerprint`) before rendering it, and when the
  previous build of the same output recorded the same fingerprint and the
  file is still there, neither renders nor writes it: the file is *kept*.
  Feeds are treated the same way.

A kept page still sends Pelican's ``content_written`` signal with its
context, as a written one does, so the sitemap lists it.

Inside :func:`parallel_rendering` (every build), pages
and feeds are not rendered when Pelican asks: each becomes a task, checked
and announced (Pelican's overwrite rule, the signals) at once, and
:meth:`CauserieWriter.flush` runs them all on every core (:mod:`.fanout`)
when the page generator is done.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.utils import get_relative_path, path_to_url, sanitised_join
from pelican.writers import FileOverwriteFailedError, Writer

from . import content_cache, fanout, render_once
from .feed_classes import CoauthoredRssFeed, ThreadedAtomFeed, extras
from .fingerprint import (
    Digester,
    _blake,
    reads_listed_bodies,
    template_names,
    tree_digest,
    versions_digest,
)
from .pagination import StablePaginator
from .state import BUILD

log = logging.getLogger(__name__)

#: Bump when what a fingerprint covers changes.
FORMAT = 1
#: Where the fingerprints of the last incremental build live, under var/.
PRINTS_FILE = Path("var") / "build-cache" / "pages.pickle"

#: Keys of Pelican's context a template may read that the site digest
#: already covers (every setting), or that only locate the page.
_LOCATION_KEYS = frozenset({"output_file", "localsiteurl", "page_name", "url"})


class PagePlan:
    """Fingerprints of one output's pages: the last build's and this one's."""

    def __init__(self, output: Path, store: Path | None = None) -> None:
        self.output = output
        self.store = store
        self.previous: dict[str, bytes] = {}
        self.current: dict[str, bytes] = {}
        #: Files of the output this build did not render (unchanged).
        self.kept: set[str] = set()
        self.rendered = 0
        #: Every file of the output after the last build (None: unknown).
        self.produced: set[str] | None = None
        #: Inputs of the files plugins write themselves (unchanged()), and
        #: their fingerprints, from the last time they were asked about.
        self._parts: dict[str, tuple[bytes, tuple[Any, ...], bytes]] = {}
        #: publish watch: how to render each page again (its writer call)
        #: and which pages show each content object (by id), so that an edit
        #: renders those pages without a build (:mod:`.fastpath`).
        self.track = False
        self.recipes: dict[str, tuple[Any, ...]] = {}
        self.deps: dict[int, set[str]] = {}
        #: publish watch: the writer call of each paginated list (its first
        #: page's name), to cut it again when a post joins it.
        self.lists: dict[str, tuple[Any, ...]] = {}
        self.site = b""
        self.digester = Digester()
        #: Names each template reads, valid for the site digest _names_site
        #: (parsing the templates costs more than a few pages).
        self._names: dict[str, frozenset[str]] = {}
        self._names_site = b""
        if store is not None:
            self._load()

    # --- persistence ----------------------------------------------------------

    def _load(self) -> None:
        assert self.store is not None
        try:
            with self.store.open("rb") as fh:
                stored = pickle.load(fh)
        except FileNotFoundError:
            return
        except Exception as exc:  # truncated or foreign: render everything
            log.warning("sitebuild: %s unreadable (%s); rendering all", self.store, exc)
            return
        if (
            isinstance(stored, dict)
            and stored.get("format") == FORMAT
            and stored.get("output") == str(self.output.resolve())
            and isinstance(stored.get("pages"), dict)
        ):
            self.previous = stored["pages"]
            if isinstance(stored.get("names"), dict):
                self._names = stored["names"]
                self._names_site = stored.get("names_site", b"")

    def finish(self) -> None:
        """The build is in the output: its fingerprints are the next one's
        "previous" (kept on disk for the next process)."""
        self.previous, self.current = self.current, {}
        self.save()

    def checkpoint(self) -> None:
        """Before this build's files replace the output's: forget, on disk,
        the fingerprints of the files about to change. A crash between the
        move and :meth:`finish` then leaves them to be rendered again, never
        skipped on the strength of a fingerprint of other bytes."""
        changing = self.current.keys() - self.kept
        if changing:
            self.save({k: v for k, v in self.previous.items() if k not in changing})

    def save(self, pages: dict[str, bytes] | None = None) -> None:
        """Write the last build's fingerprints (or ``pages``), atomically."""
        if self.store is None:
            return
        content_cache.write_pickle(
            self.store,
            {
                "format": FORMAT,
                "output": str(self.output.resolve()),
                "pages": self.previous if pages is None else pages,
                "names": self._names,
                "names_site": self._names_site,
            },
        )

    # --- one build ------------------------------------------------------------

    def start(self, settings: dict[str, Any]) -> None:
        """Begin a build: what every page depends on (the site digest)."""
        self.current = {}
        self.kept = set()
        self.rendered = 0
        self.digester = Digester()
        self.recipes, self.deps, self.lists = {}, {}, {}
        h = _blake(b"site:%d" % FORMAT)
        h.update(versions_digest())
        h.update(tree_digest([Path(settings["THEME"])]))
        h.update(tree_digest([Path(__file__).resolve().parent.parent], (".py",)))
        registry = (settings.get("AUTHORING") or {}).get("registry")
        if registry:
            # Read by the author_card filter at render time, not through
            # the context.
            h.update(tree_digest([Path(settings["PATH"]) / registry]))
        # Every setting: the templates read many, filters read others.
        h.update(self.digester.value(_stable_settings(settings)))
        self.site = h.digest()
        if self._names_site != self.site:
            self._names, self._names_site = {}, self.site

    def listed_bodies(self, env: Any, template: Any) -> bool:
        key = "\x00bodies:" + template.name
        found = self._names.get(key)
        if found is None:
            found = self._names[key] = (
                frozenset({"yes"})
                if reads_listed_bodies(env, template.name)
                else frozenset()
            )
        return bool(found)

    def names(self, env: Any, template: Any) -> frozenset[str]:
        name = template.name
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = template_names(env, name)
        return found

    def page_print(
        self,
        template: Any,
        env: Any,
        localcontext: dict[str, Any],
        name: str | None = None,
    ) -> bytes:
        """The fingerprint of one page: the site, the template, and the value
        of each name the template reads from the context."""
        with self.tracking(name):
            return self._page_print(template, env, localcontext)

    @contextmanager
    def tracking(self, name: str | None) -> Iterator[None]:
        """Record the content objects digested meanwhile as shown on ``name``."""
        if not self.track or name is None:
            yield
            return
        touched: set[int] = set()
        self.digester.touched = touched
        try:
            yield
        finally:
            self.digester.touched = None
        for ident in touched:
            self.deps.setdefault(ident, set()).add(name)

    def _page_print(
        self, template: Any, env: Any, localcontext: dict[str, Any]
    ) -> bytes:
        h = _blake(self.site)
        h.update(b"tpl:" + str(template.name).encode())
        names = self.names(env, template)
        if "\x00dynamic" in names:
            names = frozenset(localcontext)
        listed = not self.listed_bodies(env, template)
        for key in sorted(names):
            if key not in localcontext or key.isupper():
                continue  # settings are in the site digest
            h.update(b"\x00" + key.encode() + b"=")
            h.update(self.digester.value(localcontext[key], listed=listed))
        for key in sorted(_LOCATION_KEYS):
            h.update(key.encode() + b"=" + str(localcontext.get(key)).encode())
        return bytes(h.digest())

    def unchanged(self, relpath: str, *parts: Any) -> bool:
        """For a file a plugin writes itself from ``parts`` (values the
        digester understands): True if the output already holds it as it
        would be written, so the plugin skips it."""
        memo = self._parts.get(relpath)
        if memo is not None and memo[0] == self.site and memo[1] == parts:
            # The same inputs as last time (compared, not hashed again: the
            # site's comment feed holds every post's thread).
            fingerprint = memo[2]
        else:
            fingerprint = _blake(self.site + self.digester.value(parts)).digest()
            self._parts[relpath] = (self.site, parts, fingerprint)
        return self.reuse(relpath, fingerprint)

    def reuse(self, relpath: str, fingerprint: bytes) -> bool:
        """Record ``relpath``'s fingerprint; True if the file in the output
        is already what this build would write (so: do not write it)."""
        self.current[relpath] = fingerprint
        if (
            self.previous.get(relpath) == fingerprint
            and (self.output / relpath).is_file()
        ):
            self.kept.add(relpath)
            return True
        return False


def _stable_settings(settings: dict[str, Any]) -> dict[str, Any]:
    # The instant of an --as-of build decides which posts are published, and
    # that is in the posts' digests; as a setting it would make every page of
    # a rebuild at another instant look changed.
    sitebuild = dict(settings.get("SITEBUILD") or {})
    sitebuild.pop("now", None)
    sitebuild.pop("incremental", None)
    # Pelican's Markdown reader adds the extensions to MARKDOWN in place,
    # during the first build of a process: hash the normalized form, or the
    # second build of a process (publish watch) would see a change.
    markdown = content_cache.fingerprint(settings)
    return {**settings, "SITEBUILD": sitebuild, "MARKDOWN": markdown}


@contextmanager
def active_plan(plan: PagePlan | None) -> Iterator[PagePlan | None]:
    """Make ``plan`` the one the writer (and plugins) use for one build."""
    previous, BUILD.plan = BUILD.plan, plan
    try:
        yield plan
    finally:
        BUILD.plan = previous


def current_plan() -> PagePlan | None:
    """The plan of the incremental build in progress (None: render all)."""
    return BUILD.plan


@contextmanager
def parallel_rendering(jobs: int) -> Iterator[None]:
    """Writers made inside this block render their pages in ``jobs``
    processes, at :meth:`CauserieWriter.flush`."""
    previous, BUILD.jobs = BUILD.jobs, jobs
    try:
        yield
    finally:
        BUILD.jobs = previous


class CauserieWriter(Writer):
    """Pelican's writer with stable pagination and skipping of unchanged pages."""

    def __init__(self, output_path: str, settings: dict[str, Any] | None = None):
        super().__init__(output_path, settings=settings)
        self.plan = current_plan()
        #: Send no content_written signal (pages rendered again outside a
        #: build, by the fast path).
        self.quiet = False
        #: Pages and feeds to write at flush(), by output path (None: write
        #: each when asked). What a watcher's fast path needs of a page (its
        #: recipe, the objects it shows) is recorded when it is collected.
        self.batch: dict[str, fanout.Task] | None = {} if BUILD.jobs > 1 else None
        self.jobs = BUILD.jobs
        if self.batch is not None:
            # Plugins write beside the pages (gone.map) before they exist.
            os.makedirs(output_path, exist_ok=True)

    def _create_new_feed(self, feed_type: str, feed_title: Any, context: Any) -> Any:
        """Pelican's feed, as our class: every author, and the post's
        conversation (RFC 4685 replies link); see feed_classes."""
        feed = super()._create_new_feed(feed_type, feed_title, context)
        feed.__class__ = CoauthoredRssFeed if feed_type == "rss" else ThreadedAtomFeed
        return feed

    def _add_item_to_the_feed(self, feed: Any, item: Any) -> None:
        super()._add_item_to_the_feed(feed, item)
        feed.items[-1].update(extras(item))

    def later(self, key: str, task: fanout.Task) -> None:
        """Run ``task`` at :meth:`flush` (now if this writer does not batch);
        ``key`` names what it writes."""
        if self.batch is None:
            task()
        else:
            self.batch[key] = task

    def flush(self) -> None:
        """Write every page and feed collected so far, on every core; from
        then on, write each as soon as it is asked for."""
        if self.batch is None:
            return
        tasks, self.batch = list(self.batch.values()), None
        with render_once.reusing():
            fanout.run(tasks, self.jobs)

    def _claim(self, path: str, override: bool) -> bool:
        """Pelican's overwrite rule (Writer._open_w), applied before a page
        is rendered or collected: False if ``path`` keeps an earlier,
        overriding write (Pelican rendered it into /dev/null)."""
        if path in self._overridden_files:
            if override:
                raise FileOverwriteFailedError(
                    f'Failed to overwrite "{path}" a second time '
                    "(was previously overwritten)"
                )
            log.info('Skipping "%s", not overwriting', path)
            return False
        if path in self._written_files:
            if not override:
                raise FileOverwriteFailedError(
                    f'Failed to overwrite "{path}" as Pelican has already '
                    "written to it previously (set `override=True` if intended)"
                )
            log.info('Overwriting "%s"', path)
        if override:
            self._overridden_files.add(path)
        self._written_files.add(path)
        return True

    def _keep(self, name: str) -> None:
        # As if written: a second write to the same file is still an error
        # (Pelican's overwrite rule), and the sitemap sees it.
        self._written_files.add(sanitised_join(self.output_path, name))

    def write_file(
        self,
        name: str,
        template: Any,
        context: dict[str, Any],
        relative_urls: bool = False,
        paginated: dict[str, Any] | None = None,
        template_name: str | None = None,
        override_output: bool = False,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not name:
            return
        if paginated is None:
            paginated = {k: v for k, v in kwargs.items() if k == "articles"}
        if "articles" not in paginated or (
            template_name not in self.settings["PAGINATED_TEMPLATES"]
        ):
            self._one(name, template, context, relative_urls, override_output, kwargs)
            return
        if self.plan is not None and self.plan.track:
            self.plan.lists[name] = (
                template,
                context,
                relative_urls,
                template_name,
                override_output,
                url,
                kwargs,
            )
        # Always paginated, if on one page (no DEFAULT_PAGINATION): the theme
        # reads articles_page, never the whole list, so a page's fingerprint
        # covers only the posts it shows.
        per_page = (
            self.settings["PAGINATED_TEMPLATES"][template_name]
            or self.settings["DEFAULT_PAGINATION"]
            or 0
        )
        paginator = StablePaginator(
            name, url or "", paginated["articles"], self.settings, per_page
        )
        for page in paginator.pages():
            page_kwargs = {
                **kwargs,
                "articles_paginator": paginator,
                "articles_page": page,
                "articles_previous_page": paginator.newer(page),
                "articles_next_page": paginator.older(page),
            }
            self._one(
                page.save_as,
                template,
                context,
                relative_urls,
                override_output,
                page_kwargs,
            )

    def _one(
        self,
        name: str,
        template: Any,
        context: dict[str, Any],
        relative_urls: bool,
        override: bool,
        kwargs: dict[str, Any],
    ) -> None:
        localcontext = self._localcontext(context, name, kwargs, relative_urls)
        path = sanitised_join(self.output_path, name)
        if self.plan is not None:
            if self.plan.track:
                self.plan.recipes[name] = (
                    "page",
                    (name, template, context, relative_urls, override, kwargs),
                )
            env = template.environment
            fingerprint = self.plan.page_print(template, env, localcontext, name)
            if self.plan.reuse(name, fingerprint):
                self._keep(name)
                if not self.quiet:
                    signals.content_written.send(path, context=localcontext)
                return
            self.plan.rendered += 1
        if self._claim(path, override):
            if self.batch is None:
                self._render(
                    path, template, context, name, kwargs, relative_urls, localcontext
                )
            else:
                # A later overriding write of the same path replaces it. The
                # page's context is made again then: 20,000 copies of
                # Pelican's would hold 180 MB meanwhile.
                self.batch[path] = partial(
                    self._render, path, template, context, name, kwargs, relative_urls
                )
        if not self.quiet:
            signals.content_written.send(path, context=localcontext)

    def _render(
        self,
        path: str,
        template: Any,
        context: dict[str, Any],
        name: str,
        kwargs: dict[str, Any],
        relative_urls: bool,
        localcontext: dict[str, Any] | None = None,
    ) -> None:
        """Render and write a page whose claim _one() made."""
        if localcontext is None:
            localcontext = self._localcontext(context, name, kwargs, relative_urls)
        # As Pelican's Writer.write_file: the page's own site URL is the shared
        # context's while it renders (a post's content reads it for its links).
        if localcontext["localsiteurl"]:
            context["localsiteurl"] = localcontext["localsiteurl"]
        output = template.render(localcontext)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(output)
        log.info('Writing "%s"', path)

    @staticmethod
    def _localcontext(
        context: dict[str, Any], name: str, kwargs: dict[str, Any], relative_urls: bool
    ) -> dict[str, Any]:
        # As Pelican's Writer.write_file builds it.
        localcontext = context.copy()
        localcontext["localsiteurl"] = localcontext.get("localsiteurl", None)
        if relative_urls:
            relative_url = path_to_url(get_relative_path(name))
            localcontext["SITEURL"] = relative_url
            localcontext["localsiteurl"] = relative_url
        localcontext["output_file"] = name
        localcontext.update(kwargs)
        return localcontext

    def write_feed(
        self,
        elements: list[Any],
        context: dict[str, Any],
        path: str | None = None,
        url: str | None = None,
        feed_type: str = "atom",
        override_output: bool = False,
        feed_title: str | None = None,
    ) -> Any:
        call = (elements, context, path, url, feed_type, override_output, feed_title)
        if self.plan is None or not path:
            return self._feed(call)
        items = elements[: self.settings["FEED_MAX_ITEMS"]]
        digester = self.plan.digester
        if self.plan.track:
            self.plan.recipes[path] = (
                "feed",
                (elements, context, path, url, feed_type, override_output, feed_title),
            )
        h = _blake(self.plan.site)
        h.update(repr((path, url, feed_type, feed_title)).encode())
        h.update(digester.value(context.get("SITEURL")))
        with self.plan.tracking(path):
            for item in items:
                h.update(digester.full(item))
        if self.plan.reuse(path, h.digest()):
            self._keep(path)
            signals.feed_written.send(
                sanitised_join(self.output_path, path), context=context, feed=None
            )
            return None
        self.plan.rendered += 1
        return self._feed(call)

    def _feed(self, call: tuple[Any, ...]) -> Any:
        """Pelican's write_feed, now or (batching) at flush()."""
        _elements, context, path, _url, _type, override, _title = call
        if self.batch is None or not path:
            return super().write_feed(*call)
        complete = sanitised_join(self.output_path, path)
        if self._claim(complete, override):
            self.batch[complete] = partial(self._claimed_feed, complete, call)
        signals.feed_written.send(complete, context=context, feed=None)
        return None

    def _claimed_feed(self, complete: str, call: tuple[Any, ...]) -> None:
        # Pelican's own write_feed, its overwrite check and its signal already
        # done by _feed(): forget the claim it would refuse, mute the signal.
        self._written_files.discard(complete)
        self._overridden_files.discard(complete)
        with signals.feed_written.muted():
            super().write_feed(*call)


def get_writer(_pelican: Any) -> type[CauserieWriter]:
    """``get_writer`` receiver."""
    return CauserieWriter
