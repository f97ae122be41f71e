"""``publish serve``: a local preview server that rebuilds on changes.

For previewing only: production sites are served by a real web server (see
docs/deployment.md). The server serves the output directory as it is on disk,
so a rebuild shows up on the next reload.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable, Iterable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from watchfiles import watch

from .build import SitebuildError

log = logging.getLogger(__name__)


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without logging every request to the terminal."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def list_directory(self, path: str | os.PathLike[str]) -> io.BytesIO | None:
        # A directory without index.html is a page not built (yet): say so
        # rather than show a file listing.
        self.send_error(404, "Not built (yet): reload once the build is done")
        return None

    def send_head(self) -> Any:
        # A deleted post's tombstone is served as 410 Gone, as the nginx
        # example does with the same gone.map (W3C Webmention §3.1.5).
        path = unquote(urlsplit(self.path).path)
        if path in gone_paths(Path(str(self.directory))):
            page = Path(self.translate_path(self.path))
            if page.is_dir():
                page = page / "index.html"
            body = page.read_bytes() if page.is_file() else b"Gone\n"
            self.send_response(410)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        return super().send_head()

    def end_headers(self) -> None:
        # A preview must always show the latest build, never a cached page.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def gone_paths(directory: Path) -> set[str]:
    """The addresses listed in the build's gone.map (lines ``"/path/" 1;``,
    written by the webmentions plugin for deleted posts)."""
    try:
        text = (directory / "gone.map").read_text(encoding="utf-8")
    except OSError:
        return set()
    return {
        line.strip()[1:-4].replace('\\"', '"').replace("\\\\", "\\")
        for line in text.splitlines()
        if line.strip().startswith('"') and line.strip().endswith('" 1;')
    }


def preview_overrides(url: str, drafts: bool) -> dict[str, Any]:
    """Settings for a preview at ``url``: links point at it; drafts optional."""
    overrides: dict[str, Any] = {"SITEURL": url}
    if drafts:
        # Drafts and scheduled posts get their own URL space, outside the
        # published tree, so a preview link never looks like a real one.
        for kind, base in (("DRAFT", "drafts"), ("DRAFT_PAGE", "drafts/pages")):
            overrides[f"{kind}_URL"] = f"{base}/{{slug}}/"
            overrides[f"{kind}_SAVE_AS"] = f"{base}/{{slug}}/index.html"
            overrides[f"{kind}_LANG_URL"] = f"{base}/{{slug}}/{{lang}}/"
            overrides[f"{kind}_LANG_SAVE_AS"] = f"{base}/{{slug}}/{{lang}}/index.html"
    return overrides


def start_server(
    directory: Path, host: str, port: int, serving: bool = True
) -> ThreadingHTTPServer:
    """Serve ``directory`` at http://host:port/ from a background thread.

    With ``serving=False`` the port is only taken: :func:`serve_in_background`
    starts answering (until then, close it with ``server_close()``).
    """
    handler = partial(_QuietHandler, directory=str(directory))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise SitebuildError(
            f"cannot listen on {host}:{port} ({exc.strerror}); is another server "
            "running there? Stop it or pass --port"
        ) from None
    if serving:
        serve_in_background(server)
    return server


def serve_in_background(server: ThreadingHTTPServer) -> None:
    """Answer requests from a background thread."""
    threading.Thread(target=server.serve_forever, daemon=True).start()


def modified_since(paths: Iterable[Path], since: float) -> set[str]:
    """Files under ``paths`` modified after the timestamp ``since``."""
    found = set()
    for root in paths:
        files = [root] if root.is_file() else root.rglob("*") if root.is_dir() else []
        for path in files:
            try:
                if path.is_file() and path.stat().st_mtime > since:
                    found.add(str(path))
            except OSError:
                continue  # deleted while we looked
    return found


def _relevant(path: str) -> bool:
    # Editor droppings (swap files, backups) must not trigger a rebuild.
    name = Path(path).name
    return not name.startswith((".", "#")) and not name.endswith("~")


class StoreChanges:
    """Whether the mention store changed since the last look, as ``publish
    watch`` asks it (:meth:`Store.change_marker`): a mention approved,
    rejected, updated or erased, by ``publish mentions`` from another shell,
    by /admin or by the receiver (issue 13 item 11)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._marker: Any = None
        self._failing = False
        self()  # the marker the first build saw (it ran just before)

    def __call__(self) -> bool:
        try:
            marker = self.store.change_marker()
        except Exception as exc:  # a store that is down: ask again later
            if not self._failing:
                log.warning("sitebuild: cannot read the mention store: %s", exc)
            self._failing = True
            return False
        self._failing = False
        changed = self._marker is not None and marker != self._marker
        self._marker = marker
        return changed

    def close(self) -> None:
        self.store.engine.dispose()


def watch_and_rebuild(
    paths: Iterable[Path],
    rebuild: Callable[[set[str]], None],
    since: float,
    stop: threading.Event | None = None,
    store_changed: Callable[[], bool] | None = None,
) -> None:
    """Call ``rebuild(changed_paths)`` after each burst of changes under ``paths``,
    and ``rebuild(set())`` when ``store_changed()`` says the mentions changed.

    ``since`` is when the last build started: a change made after it but
    before the watcher was ready is caught once the watcher runs. Runs until
    ``stop`` is set or Ctrl-C. Editors write several files in a row; watchfiles'
    debounce groups them into one rebuild.
    """
    watched = [p for p in paths if p.exists()]
    ready = False
    for changes in watch(
        *watched,
        stop_event=stop,
        debounce=400,
        raise_interrupt=False,
        # Yield once a second even without changes (a quarter of a second to
        # ask the store), so we learn the watcher is running and can look for
        # changes made before it started.
        yield_on_timeout=True,
        rust_timeout=1000 if store_changed is None else 250,
    ):
        changed = {path for _kind, path in changes}
        if not ready:
            ready = True
            changed |= modified_since(watched, since)
        changed = {p for p in changed if _relevant(p)}
        # Asked on every round, files changed or not: the marker must move on.
        store = store_changed() if store_changed is not None else False
        if changed or store:
            rebuild(changed)
