"""Old addresses → the new ones: the list, redirect pages and nginx maps.

``publish import`` records each old address of an imported post (its
permalink, ``/?p=123``, ``/2008/10/slug.html``) with the content file it now
is, in ``content/redirects.tsv`` (``IMPORTERS["redirects"]``), one
``OLD<TAB>FILE`` per line; a FILE starting with ``@`` is a path of the built
site (the feeds). Each build (:mod:`.plugin`) then writes, from the list
and the articles' URLs:

- a static redirect page at each old path that is a file path (a
  ``<link rel="canonical">`` and a ``<meta http-equiv="refresh">``, for any
  static host);
- ``redirects.map`` at the site's root for nginx (``map $uri``), and
  ``redirects-query.map`` for the old addresses that are a query on the
  home page (WordPress's ``/?p=123``, ``/?page_id=2``; ``map $args``): a
  static file cannot answer those, nginx answers 301.

The pure parts are here; :func:`merge_file` and :func:`write_pages` touch
the disk.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote

from causerie.mailposts.write import atomic_write

#: What a build serves in place of each old blog's feeds.
FEED_TARGET = "@feeds/all.atom.xml"
OLD_FEEDS = {
    "wordpress": ("/feed/", "/feed", "/comments/feed/", "/?feed=rss2", "/?feed=atom"),
    "blogger": (
        "/feeds/posts/default",
        "/feeds/posts/summary",
        "/feeds/comments/default",
        "/rss.xml",
        "/atom.xml",
    ),
    "feed": (),
}
MAP_FILE = "redirects.map"
QUERY_MAP_FILE = "redirects-query.map"
#: What an nginx map key or value may hold unquoted-safe inside "…".
_UNSAFE = re.compile(r'["\\\s;{}$]')


def read_file(path: Path) -> dict[str, str]:
    """The list at ``path`` (old → file), {} if there is none."""
    found: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return found
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        old, _, new = line.partition("\t")
        if old and new:
            found[old.strip()] = new.strip()
    return found


def render_file(entries: Mapping[str, str]) -> str:
    lines = [
        "# Old addresses of imported posts and what they are now (publish import).",
        "# OLD<TAB>content file (or @path of the built site). Each build writes",
        "# redirect pages and nginx maps from it (docs/import.md).",
    ]
    lines += [f"{old}\t{new}" for old, new in sorted(entries.items())]
    return "\n".join(lines) + "\n"


def merge_file(path: Path, entries: Mapping[str, str]) -> bool:
    """Add ``entries`` to the list at ``path`` (other imports' lines stay);
    written only if it changes. True if it was written."""
    current = read_file(path)
    merged = {**current, **entries}
    if merged == current and path.exists():
        return False
    atomic_write(path, render_file(merged).encode("utf-8"))
    return True


def page_path(old: str) -> str | None:
    """Where the redirect page of the old path ``old`` goes in the built
    site, or None if a page cannot answer it (a query, the home page)."""
    if "?" in old or old in ("", "/"):
        return None
    path = PurePosixPath(unquote(old).lstrip("/"))
    if any(part in ("..", ".") for part in path.parts) or not path.parts:
        return None
    if old.endswith("/") or "." not in path.name:
        return (path / "index.html").as_posix()
    return path.as_posix()


def redirect_page(url: str) -> str:
    """A page that sends its reader to ``url`` (canonical + meta refresh)."""
    u = html.escape(url, quote=True)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Cette page a déménagé — This page has moved</title>\n"
        f'<link rel="canonical" href="{u}">\n'
        '<meta name="robots" content="noindex">\n'
        f'<meta http-equiv="refresh" content="0; url={u}">\n'
        "</head>\n<body>\n"
        f'<p><a href="{u}">{u}</a></p>\n'
        "</body>\n</html>\n"
    )


def _quoted(value: str) -> str:
    return '"' + _UNSAFE.sub(lambda m: quote(m.group(), safe=""), value) + '"'


def nginx_maps(resolved: Mapping[str, str]) -> tuple[str, str]:
    """(``map $uri`` lines, ``map $args`` lines) for old → new path.

    $uri is decoded by nginx: keys are decoded paths, with and without
    their trailing slash; $args is the raw query of the home page.
    """
    paths: dict[str, str] = {}
    queries: dict[str, str] = {}
    for old, new in sorted(resolved.items()):
        if old.startswith("/?"):
            queries[old[2:]] = new
            continue
        path = unquote(old.partition("?")[0])
        if path == "/":
            continue  # the home page stays the home page ("/?p=…" aside)
        # nginx refuses a map with a key twice; the exact key wins over
        # the one made by dropping a trailing slash.
        paths[path] = new
        if path.endswith("/") and len(path) > 1:
            paths.setdefault(path.rstrip("/"), new)
    return tuple(  # type: ignore[return-value]
        "".join(
            f"{_quoted(k)} {_quoted(v)};\n"
            for k, v in sorted(found.items())
            # An old address that is the new one would loop forever.
            if k.rstrip("/") != v.partition("?")[0].rstrip("/")
        )
        for found in (paths, queries)
    )


def write_pages(
    output: Path, site_url: str, resolved: Mapping[str, str]
) -> tuple[int, list[str]]:
    """The redirect pages and maps in ``output``; (pages written, old paths
    whose page would replace a file of the site: left alone)."""
    written, clashes = 0, []
    for old, new in resolved.items():
        where = page_path(old)
        if where is None or unquote(old).rstrip("/") == new.rstrip("/"):
            continue  # a query (nginx only), or the same address as before
        target = output / where
        if target.exists() and not target.read_text(
            encoding="utf-8", errors="replace"
        ).count('http-equiv="refresh"'):
            clashes.append(old)  # a page of the new site lives there
            continue
        data = redirect_page(site_url.rstrip("/") + new).encode("utf-8")
        if not target.exists() or target.read_bytes() != data:
            atomic_write(target, data)
        written += 1
    paths, queries = nginx_maps(resolved)
    for name, text in ((MAP_FILE, paths), (QUERY_MAP_FILE, queries)):
        target, data = output / name, text.encode("utf-8")
        # Unchanged, untouched: an incremental build keeps its date (and ETag).
        if not target.exists() or target.read_bytes() != data:
            atomic_write(target, data)
    return written, clashes
