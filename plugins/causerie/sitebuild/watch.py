"""``publish watch``: keep the output up to date, change after change.

One process builds the site incrementally, then waits: a change under
content/ or theme/, to the settings file, or in the mention store (a
comment approved, rejected or erased, by ``publish mentions`` or /admin)
starts the next build at once. Every build of the process is *warm*
(:mod:`.warm`): files that did not change are not read again, and only the
pages whose fingerprint changed are rendered (:mod:`causerie.webmentions.store.writer_process`), so one new
post or one approved comment costs a fraction of a second even on a large
site (docs/PERFORMANCE.md).

A change to the settings file starts afresh (new settings, nothing kept);
a change to the theme or the plugins changes every page's fingerprint, so
everything is rendered again, as it must be.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchfiles import watch

from causerie import signals as causerie_signals
from causerie.pelican_compat import plugin_enabled

from . import fastpath
from .build import BuildReport, build_site, output_lock, page_plan
from .serve import modified_since
from .warm import WarmState

log = logging.getLogger(__name__)

#: How often the mention store is asked whether anything changed.
STORE_POLL_SECONDS = 0.2


@dataclass
class Change:
    """Why a build runs: the files that changed, or the store."""

    paths: set[str]
    store: bool = False
    settings: bool = False
    #: A scheduled post's date has come.
    due: bool = False

    def describe(self) -> str:
        names = sorted(Path(p).name for p in self.paths)
        parts = []
        if names:
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            parts.append(", ".join(names[:5]) + more)
        if self.store:
            parts.append("comments")
        if self.due:
            parts.append("a scheduled post is due")
        return "; ".join(parts) or "start"


class Watcher:
    """Builds ``settings()`` into its output whenever its inputs change."""

    def __init__(
        self,
        settings: Callable[[], dict[str, Any]],
        settings_file: Path,
        on_build: Callable[[Change, BuildReport | None, BaseException | None], None],
        open_mentions: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self._load = settings
        self.settings_file = settings_file
        self.on_build = on_build
        self.open_mentions = open_mentions
        self.settings = settings()
        self.state = WarmState()
        #: The mention store (None: not opened yet, or no store), its marker
        #: when last asked, and when the last build started.
        self._store: Any = None
        self._marker: Any = None
        self._built_marker: Any = None
        #: When the last build started (for changes made meanwhile).
        self._since = time.time()
        #: When the next scheduled post is due (None: none is waiting).
        self._next_due: Any = None

    def build(self, change: Change) -> BuildReport | None:
        if change.settings:
            self.settings = self._load()
            self.state = WarmState()  # objects made with the old settings
            self._close_store()
        marker = self._marker
        self._since = time.time()
        try:
            report = self._fast(change) or build_site(
                self.settings, warm_state=self.state
            )
        except Exception as exc:  # the output is left as it was (staging)
            self.on_build(change, None, exc)
            return None
        self._built_marker = marker
        self.on_build(change, report, None)
        # The pages are live; what follows them (the search index) runs in
        # the background, so it never holds up the next change.
        causerie_signals.output_updated.send(
            Path(self.settings["OUTPUT_PATH"]),
            settings=self.settings,
            background=True,
            changed=report.files_changed != 0 or report.files_removed != 0,
        )
        if not report.fast:
            # A build "as of" a fixed instant (SITEBUILD now) never sees a
            # date come: nothing to wait for.
            fixed = (self.settings.get("SITEBUILD") or {}).get("now")
            self._next_due = None if fixed else _next_due(self.state.generators or [])
            _settle()
        return report

    def _fast(self, change: Change) -> BuildReport | None:
        """The fast paths (:mod:`.fastpath`); None when a build is needed,
        or when a fast path failed (the build then puts everything right)."""
        try:
            return self._try_fast(change)
        except Exception:
            log.warning("sitebuild: the fast path failed; building", exc_info=True)
            self.state.generators = None
            return None

    def _try_fast(self, change: Change) -> BuildReport | None:
        if change.settings or (change.store and change.paths):
            return None
        output = Path(self.settings["OUTPUT_PATH"])
        plan = page_plan(self.settings)
        if change.store:
            targets = self._changed_targets()
            if targets is None:
                return None
            with output_lock(output):
                return fastpath.try_comments(targets, self.state, plan, self.settings)
        content = Path(self.settings["PATH"]).resolve()
        if not change.paths or not all(
            content in Path(p).resolve().parents for p in change.paths
        ):
            return None
        known = [p for p in change.paths if self.state.by_path(p)]
        with output_lock(output):
            if len(known) == len(change.paths):
                return fastpath.try_edit(change.paths, self.state, plan, self.settings)
            if not known:
                return fastpath.try_new(change.paths, self.state, plan, self.settings)
        return None

    def _changed_targets(self) -> set[str] | None:
        if self._store is None or self._built_marker is None:
            return None
        try:
            targets: set[str] | None = self._store.changed_targets(self._built_marker)
        except Exception:  # the store is down: a build will say so
            return None
        return targets

    def inputs(self) -> list[Path]:
        return [
            Path(self.settings["PATH"]),
            Path(self.settings["THEME"]),
            self.settings_file,
        ]

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.engine.dispose()
        self._store = None

    def store_changed(self) -> bool:
        """True when the mention store changed since the last look."""
        if self.open_mentions is None:
            return False
        try:
            if self._store is None:
                self._store = self.open_mentions(self.settings)
                if self._store is None:
                    self.open_mentions = None  # no store on this site
                    return False
            marker = self._store.change_marker()
        except Exception:  # a store that is down: look again later
            self._close_store()
            return False
        changed = self._marker is not None and marker != self._marker
        self._marker = marker
        return changed

    def run(self, stop: threading.Event | None = None) -> None:
        """Build now, then after each change until ``stop`` (or Ctrl-C)."""
        stop = stop or threading.Event()
        self.store_changed()  # the marker the first build sees
        self.build(Change(set()))
        while not stop.is_set():
            for change in self.changes(stop):
                self.build(change)
                if change.settings:
                    break  # watch what the new settings name (THEME, PATH)
            else:
                return  # stopped

    def changes(self, stop: threading.Event) -> Iterable[Change]:
        settings_file = str(self.settings_file.resolve())
        first = True
        for batch in watch(
            *[p for p in self.inputs() if p.exists()],
            stop_event=stop,
            # Yield as soon as a burst of writes is over (step, 30 ms of
            # quiet), at most 300 ms after its start; and every poll period
            # without changes, to ask the store.
            step=30,
            debounce=300,
            rust_timeout=int(STORE_POLL_SECONDS * 1000),
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            paths = {path for _kind, path in batch if _relevant(path)}
            if first:
                # The watcher runs now: a file changed while the last build
                # ran, or before this watcher was up (after a settings
                # change, the new theme), is caught here.
                first = False
                paths |= {
                    p
                    for p in modified_since(self.inputs(), self._since)
                    if _relevant(p)
                }
            store = self.store_changed()
            due = self._next_due is not None and _now() >= self._next_due
            if due:
                self._next_due = None  # the build that follows sets the next
            if paths or store or due:
                yield Change(
                    paths,
                    store=store,
                    due=due,
                    settings=any(
                        str(Path(p).resolve()) == settings_file for p in paths
                    ),
                )


def _now() -> Any:
    return dt.datetime.now(dt.UTC)


def _next_due(generators: list[Any]) -> Any:
    """The date of the first scheduled post (held back by sitebuild until
    then), so that a watcher builds when it comes."""
    dates = [
        post.date
        for generator in generators
        for post in [
            *getattr(generator, "drafts", []),
            *getattr(generator, "drafts_translations", []),
        ]
        if getattr(post, "scheduled", False) and post.date.tzinfo is not None
    ]
    return min(dates, default=None)


def _settle() -> None:
    """After a build: collect its garbage now, then keep the cyclic garbage
    collector off what is left (the site model: about a million objects at
    8,000 posts). A full collection over them costs a few hundred
    milliseconds, and would otherwise fall at random in the middle of the
    next change's fast path."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _relevant(path: str) -> bool:
    # Editor droppings (swap files, backups) must not trigger a build.
    name = Path(path).name
    return not name.startswith((".", "#")) and not name.endswith("~")


def open_mentions(settings: dict[str, Any]) -> Any:
    """The mention store of a site with the webmentions plugin (else None):
    its ``change_marker()`` changes when a mention is added, moderated or
    erased, and ``changed_targets()`` says which posts that concerns."""
    if not plugin_enabled(settings, "causerie.webmentions"):
        return None
    from causerie import webmentions

    return webmentions.open_store(settings)


def seconds_since(start: float) -> float:
    return time.perf_counter() - start
