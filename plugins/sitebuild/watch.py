"""``publish watch``: keep the output up to date, change after change.

One process builds the site incrementally, then waits: a change under
content/ or theme/, to the settings file, or in the mention store (a
comment approved, rejected or erased, by ``publish mentions`` or /admin)
starts the next build at once. Every build of the process is *warm*
(:mod:`.warm`): files that did not change are not read again, and only the
pages whose fingerprint changed are rendered (:mod:`.writer`), so one new
post or one approved comment costs a fraction of a second even on a large
site (docs/PERFORMANCE.md).

A change to the settings file starts afresh (new settings, nothing kept);
a change to the theme or the plugins changes every page's fingerprint, so
everything is rendered again, as it must be.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchfiles import watch

from . import fastpath
from .build import BuildReport, build_site, output_lock, page_plan
from .warm import WarmState

#: How often the mention store is asked whether anything changed.
STORE_POLL_SECONDS = 0.5


@dataclass
class Change:
    """Why a build runs: the files that changed, or the store."""

    paths: set[str]
    store: bool = False
    settings: bool = False

    def describe(self) -> str:
        names = sorted(Path(p).name for p in self.paths)
        parts = []
        if names:
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            parts.append(", ".join(names[:5]) + more)
        if self.store:
            parts.append("comments")
        return "; ".join(parts) or "start"


class Watcher:
    """Builds ``settings()`` into its output whenever its inputs change."""

    def __init__(
        self,
        settings: Callable[[], dict[str, Any]],
        settings_file: Path,
        on_build: Callable[[Change, BuildReport | None, BaseException | None], None],
        store_marker: Callable[[dict[str, Any]], Callable[[], Any] | None]
        | None = None,
    ) -> None:
        self._load = settings
        self.settings_file = settings_file
        self.on_build = on_build
        self.store_marker = store_marker
        self.settings = settings()
        self.state = WarmState()
        self._marker: Any = None
        self._ask: Callable[[], Any] | None = None

    def build(self, change: Change) -> BuildReport | None:
        if change.settings:
            self.settings = self._load()
            self.state = WarmState()  # objects made with the old settings
            self._ask = None
        try:
            report = self._fast(change) or build_site(
                self.settings, warm_state=self.state
            )
        except Exception as exc:  # the output is left as it was (staging)
            self.on_build(change, None, exc)
            return None
        self.on_build(change, report, None)
        return report

    def _fast(self, change: Change) -> BuildReport | None:
        """The fast path (:mod:`.fastpath`) when only post files changed."""
        content = Path(self.settings["PATH"]).resolve()
        if change.store or change.settings or not change.paths:
            return None
        if not all(content in Path(p).resolve().parents for p in change.paths):
            return None
        output = Path(self.settings["OUTPUT_PATH"])
        with output_lock(output):
            return fastpath.try_edit(
                change.paths, self.state, page_plan(self.settings), self.settings
            )

    def inputs(self) -> list[Path]:
        return [
            Path(self.settings["PATH"]),
            Path(self.settings["THEME"]),
            self.settings_file,
        ]

    def store_changed(self) -> bool:
        """True when the mention store changed since the last look."""
        if self.store_marker is None:
            return False
        try:
            if self._ask is None:
                self._ask = self.store_marker(self.settings)
                if self._ask is None:
                    self.store_marker = None  # no store on this site
                    return False
            marker = self._ask()
        except Exception:  # a store that is down: look again later
            self._ask = None
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
            store = self.store_changed()
            if paths or store:
                yield Change(
                    paths,
                    store=store,
                    settings=any(
                        str(Path(p).resolve()) == settings_file for p in paths
                    ),
                )


def _relevant(path: str) -> bool:
    # Editor droppings (swap files, backups) must not trigger a build.
    name = Path(path).name
    return not name.startswith((".", "#")) and not name.endswith("~")


def store_marker(settings: dict[str, Any]) -> Callable[[], Any] | None:
    """For a site with the webmentions plugin: a function giving a value
    that changes when a mention is added, moderated or erased (a comment
    shown on the site may have changed). The store stays open."""
    plugins = [str(p).rsplit(".", 1)[-1] for p in settings.get("PLUGINS", [])]
    if "webmentions" not in plugins:
        return None
    import webmentions

    store = webmentions.open_store(settings)
    return store.change_marker


def seconds_since(start: float) -> float:
    return time.perf_counter() - start
