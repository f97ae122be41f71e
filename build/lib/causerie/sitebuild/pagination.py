"""Stable pagination: adding a post never changes an older list page.

Pelican numbers list pages from the newest post: page 2 holds posts 11–20,
so one new post moves a post from every page to the next and rewrites them
all (965 files at 8,000 posts, docs/PERFORMANCE.md). Here pages are cut
from the *oldest* post, ``per_page`` at a time, and keep their number and
their posts for good:

- chunk 1 holds the ``per_page`` oldest posts, chunk 2 the next ones, and so
  on; the newest chunk may be partial;
- the front page (page 1, at the list's own URL) shows the newest chunk,
  together with the one before it while the newest is not full, so that it
  always shows between ``per_page`` and ``2 × per_page − 1`` posts (or all of
  them on a small list);
- every other chunk ``j`` has a page of its own, numbered ``j + 1`` (so
  ``/page/2/`` holds the oldest posts), linked to its older and newer
  neighbours.

A new post changes the front page, and once per ``per_page`` posts one
more page appears and its older neighbour's "newer" link moves to it: at
most three list pages per list, whatever the size of the site. The cut is
pure (:func:`cut`); :class:`StablePage` is what templates see, with the
attributes of Pelican's ``Page`` that themes use.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pelican.paginator import Page


@dataclass(frozen=True)
class Slice:
    """One list page: its number and the posts it shows, as a ``[start:stop]``
    of the newest-first list."""

    number: int
    start: int
    stop: int


def cut(count: int, per_page: int) -> list[Slice]:
    """The pages of a newest-first list of ``count`` posts, front page first,
    then from the newest numbered page to the oldest."""
    if per_page <= 0 or count <= per_page:
        return [Slice(1, 0, count)]
    chunks = -(-count // per_page)  # ceil
    partial = count % per_page
    # Chunks 1..front-1 have pages of their own; the front page shows the
    # rest, newest first.
    front = chunks if partial == 0 else chunks - 1
    slices = [Slice(1, 0, count - (front - 1) * per_page)]
    for chunk in range(front - 1, 0, -1):
        # Chunk j holds the oldest-first posts [(j-1)·per_page, j·per_page).
        stop = count - (chunk - 1) * per_page
        slices.append(Slice(chunk + 1, stop - per_page, stop))
    return slices


class StablePaginator:
    """The pages of one list (the index, a category, a tag, an author)."""

    def __init__(
        self,
        name: str,
        url: str,
        object_list: Sequence[Any],
        settings: dict[str, Any],
        per_page: int,
    ) -> None:
        self.name = name
        self.url = url
        self.object_list = object_list
        self.settings = settings
        self.per_page = per_page
        self.slices = cut(len(object_list), per_page)
        self._by_number = {s.number: s for s in self.slices}

    # No count, num_pages or page_range, as Pelican's paginator has: a page
    # showing them would change with every new post (and its fingerprint
    # does not cover them).

    def fingerprint_parts(self) -> tuple[Any, ...]:
        """What a page may read of its paginator (:mod:`.fingerprint`)."""
        return (self.name, self.url, self.per_page)

    @functools.cache  # noqa: B019 - one paginator per list and build
    def page(self, number: int) -> StablePage:
        s = self._by_number[number]
        return StablePage(self, s)

    def pages(self) -> list[StablePage]:
        """Front page first, then newest to oldest."""
        return [self.page(s.number) for s in self.slices]

    def newer(self, page: StablePage) -> StablePage | None:
        """The page of the posts just after ``page``'s (None on the front)."""
        if page.number == 1:
            return None
        newer = page.number + 1
        return self.page(newer if newer in self._by_number else 1)

    def older(self, page: StablePage) -> StablePage | None:
        """The page of the posts just before ``page``'s (None on the oldest)."""
        older = self._oldest_above(page.number)
        return None if older is None else self.page(older)

    def _oldest_above(self, number: int) -> int | None:
        numbered = [n for n in self._by_number if n != 1]
        if number == 1:
            return max(numbered, default=None)
        return number - 1 if number - 1 in self._by_number and number > 2 else None


class StablePage(Page):
    """A list page, as Pelican's ``Page`` (``object_list``, ``number``,
    ``url``, ``save_as``…) with ``is_front``; its URL comes from
    PAGINATION_PATTERNS, as Pelican's do."""

    def __init__(self, paginator: StablePaginator, s: Slice) -> None:
        super().__init__(
            paginator.name,
            paginator.url,
            paginator.object_list[s.start : s.stop],
            s.number,
            paginator,
            paginator.settings,
        )
        self.slice = s
        self.is_front = s.number == 1

    def fingerprint_parts(self) -> tuple[Any, ...]:
        """What a template reads of a page: its place, its URL, its posts
        (not the paginator's whole list)."""
        return (
            self.number,
            self.is_front,
            self.url,
            self.save_as,
            list(self.object_list),
        )

    def __repr__(self) -> str:
        return f"<StablePage {self.number}: posts {self.slice.start}–{self.slice.stop}>"

    def has_next(self) -> bool:
        """An older page exists (Pelican's "next" is older)."""
        return self.paginator.older(self) is not None

    def has_previous(self) -> bool:
        return self.number != 1

    def next_page_number(self) -> int:
        older = self.paginator.older(self)
        return older.number if older is not None else self.number

    def previous_page_number(self) -> int:
        newer = self.paginator.newer(self)
        return newer.number if newer is not None else self.number

    def start_index(self) -> int:
        raise TypeError(
            "stable pagination has no start_index(): positions counted from "
            "the newest post change with every new post"
        )

    def end_index(self) -> int:
        raise TypeError(
            "stable pagination has no end_index(): positions counted from "
            "the newest post change with every new post"
        )
