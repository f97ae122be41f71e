"""The pure part of search: which pages are indexed, where the search pages
go, the indexer's command line, and how a new index replaces the old one.

No I/O here: paths and listings in, decisions out (tested with plain values
in tests/test_search.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

#: Where the index lives in the output (Pagefind's own default name, so
#: that its documentation and tools apply as they are).
BUNDLE_DIR = "pagefind"

#: The one file of the bundle that names all the others (Pagefind 1.x): the
#: rest have content hashes in their names, so new and old files can live
#: side by side, and replacing this one switches readers to the new index.
ENTRY_FILE = "pagefind-entry.json"


def is_excluded(save_as: str, patterns: Iterable[str]) -> bool:
    """True when the page written at ``save_as`` (a path in the output, such
    as "posts/2026/aube/index.html") matches one of the ``exclude`` globs.

    A pattern matches the file's path or its directory's ("posts/2019/*"
    matches "posts/2019/x/index.html"; "a-propos/" matches "a-propos/index.html").
    """
    # fnmatch's "*" crosses "/": "posts/2019/*" is the whole year.
    path = PurePosixPath(save_as.lstrip("/"))
    candidates = [path.as_posix()]
    if path.name == "index.html":
        candidates.append(path.parent.as_posix() + "/")
    return any(fnmatchcase(c, p) for p in patterns for c in candidates)


@dataclass(frozen=True)
class SearchPage:
    """One search page: its language, URL and file in the output."""

    lang: str
    url: str
    save_as: str

    @property
    def slug(self) -> str:
        """What base.html compares with nav_current (no page has it)."""
        return "search"


def search_pages(
    url: str, default_lang: str, languages: Iterable[str]
) -> list[SearchPage]:
    """The search page of each language: DEFAULT_LANG at ``url``, the others
    at ``url`` + "<lang>/", as the site places a page's translations."""
    langs = [default_lang, *(lang for lang in languages if lang != default_lang)]
    pages = []
    for lang in dict.fromkeys(langs):
        page_url = url if lang == default_lang else f"{url}{lang}/"
        pages.append(SearchPage(lang, page_url, page_url + "index.html"))
    return pages


def command(binary: str, site: Path, bundle_out: Path) -> list[str]:
    """The indexer's command line: index the HTML of ``site``, write the
    bundle into ``bundle_out`` (a fresh directory, moved in afterwards)."""
    return [
        binary,
        "--site",
        str(site),
        "--output-path",
        str(bundle_out),
        # Only the pages the theme marks (data-pagefind-body) are indexed;
        # the bundle of a previous build is not HTML, but skip it anyway.
        "--glob",
        "**/*.html",
        "--quiet",
    ]


@dataclass(frozen=True)
class BundlePlan:
    """How to move a freshly built bundle over the live one.

    ``copy``: files to write (hashed names: new ones only, plus the unhashed
    files whose bytes changed), in an order that never shows a reader an
    entry file naming a file not there yet; ``remove``: the old files to
    delete once the new entry file is in place.
    """

    copy: tuple[str, ...]
    remove: tuple[str, ...]


def plan_bundle(new: Mapping[str, str], live: Mapping[str, str]) -> BundlePlan:
    """``new`` and ``live``: relative path -> digest of every file of the
    new bundle and of the live one."""
    changed = [p for p, digest in new.items() if live.get(p) != digest]
    # The entry file last: until it is replaced, readers load the old index,
    # whose files are all still there.
    changed.sort(key=lambda p: (p == ENTRY_FILE, p))
    return BundlePlan(tuple(changed), tuple(sorted(set(live) - set(new))))
