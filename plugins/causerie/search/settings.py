"""``SEARCH`` settings: whether and what the static search index holds."""

from __future__ import annotations

from dataclasses import dataclass

from causerie.errors import SettingsError


@dataclass(frozen=True)
class SearchSettings:
    """The ``SEARCH`` dict of pelicanconf.py, with its defaults."""

    #: Build the search index (Pagefind) and the search pages.
    enabled: bool = True
    #: A missing or failing indexer stops the build (False: a warning, and
    #: the site is published with the index of the previous build, if any).
    required: bool = True
    #: Index readers' approved comments with their post.
    comments: bool = True
    #: How much a word in a comment counts against one in the post's own
    #: text (1.0); Pagefind's data-pagefind-weight, between 0 and 10.
    comments_weight: float = 0.5
    #: Pages left out of the index: glob patterns on the page's path in the
    #: output ("posts/2019/*", "mentions-legales/*", "*/en/*").
    exclude: tuple[str, ...] = ()
    #: Where the search page is, in DEFAULT_LANG; a page in another language
    #: is at this path plus "<lang>/" ("search/en/").
    url: str = "search/"
    #: The Pagefind executable; default: the one `pip install 'pagefind[bin]'`
    #: installed (or $PAGEFIND_BINARY_PATH).
    binary: str | None = None
    #: Seconds the indexer may run before the build gives up on it.
    timeout: float = 300.0
    #: Where the indexer works (a copy of the pages to index, the new
    #: index): None for /dev/shm when the machine has it (in memory, faster),
    #: else beside the output; "output" for beside the output (a machine
    #: short of memory: it takes about the size of the posts' HTML); or a
    #: directory.
    scratch: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.comments_weight <= 10:
            raise SettingsError(
                f"comments_weight must be between 0 and 10 (Pagefind's range), "
                f"got {self.comments_weight}"
            )
        if not self.url.endswith("/") or self.url.startswith("/") or "://" in self.url:
            raise SettingsError(
                f"url {self.url!r} must be a path relative to the site ending "
                "with '/', like 'search/'"
            )
        if self.scratch not in (None, "output") and not str(self.scratch).startswith(
            ("/", "~")
        ):
            raise SettingsError(
                f"scratch {self.scratch!r} must be an absolute directory "
                "(like '/var/tmp'), or 'output' for beside the output"
            )
        if self.timeout <= 0:
            raise SettingsError("timeout must be a number of seconds above 0")
        for pattern in self.exclude:
            if not pattern or pattern.startswith("/"):
                raise SettingsError(
                    f"exclude: {pattern!r} must be a glob on a path in the output "
                    "without a leading '/', like 'posts/2019/*'"
                )
