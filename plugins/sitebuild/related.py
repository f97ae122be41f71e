"""Related posts: the best few by shared tags and category (pure).

Score = number of shared tags + 1 for the same category. Posts sharing nothing
are never "related". Ties go to the most recent post, then to the title, so the
choice is stable from one build to the next.

:func:`related` states the rule; :class:`RelatedIndex` gives the same answer
for every post of a pool without scoring every pair (the build's way: scoring
and sorting the whole pool for each post is quadratic, 5 s at 2,000 posts).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Candidate(Generic[K]):
    """What the ranking needs to know of a post."""

    key: K
    title: str
    date: dt.datetime
    category: str | None
    tags: frozenset[str]


def score(a: Candidate[K], b: Candidate[K]) -> int:
    same_category = a.category is not None and a.category == b.category
    return len(a.tags & b.tags) + (1 if same_category else 0)


def related(
    post: Candidate[K], pool: Iterable[Candidate[K]], limit: int = 3
) -> list[K]:
    """Keys of the ``limit`` posts of ``pool`` most related to ``post``."""
    ranked: Sequence[tuple[int, Candidate[K]]] = sorted(
        ((score(post, other), other) for other in pool if other.key != post.key),
        key=lambda pair: (-pair[0], -pair[1].date.timestamp(), pair[1].title),
    )
    return [other.key for points, other in ranked[:limit] if points > 0]


class RelatedIndex(Generic[K]):
    """``related(post, pool, limit)`` for many posts of one ``pool``, fast.

    Only posts that share a tag or the category can score: the tag lists
    give the first, and of those that share only the category (score 1) no
    more than ``limit`` can make it, the most recent first, so each category
    is kept sorted. Ties keep ``related``'s order, pool order included
    (``sorted`` is stable).
    """

    def __init__(self, pool: Iterable[Candidate[K]]) -> None:
        self._pool = list(pool)
        # (-timestamp, title, position): related()'s sort key, then its
        # stability; timestamp() computed once, not at every comparison.
        self._rank = [
            (-c.date.timestamp(), c.title, i) for i, c in enumerate(self._pool)
        ]
        self._by_tag: dict[str, list[int]] = {}
        self._by_category: dict[str, list[int]] = {}
        for i, c in enumerate(self._pool):
            for tag in c.tags:
                self._by_tag.setdefault(tag, []).append(i)
            if c.category is not None:
                self._by_category.setdefault(c.category, []).append(i)
        for members in self._by_category.values():
            members.sort(key=self._rank.__getitem__)

    def related(self, post: Candidate[K], limit: int = 3) -> list[K]:
        """Keys of the ``limit`` posts of the pool most related to ``post``."""
        if limit <= 0:
            return []
        pool = self._pool
        scores: dict[int, int] = {}
        for tag in post.tags:
            for i in self._by_tag.get(tag, ()):
                scores[i] = scores.get(i, 0) + 1
        category = post.category
        if category is not None and category in self._by_category:
            for i in scores:
                if pool[i].category == category:
                    scores[i] += 1
            taken = 0
            for i in self._by_category[category]:
                if taken >= limit:
                    break
                if i in scores or pool[i].key == post.key:
                    continue
                scores[i] = 1
                taken += 1
        best = heapq.nsmallest(
            limit,
            (
                (-points, *self._rank[i])
                for i, points in scores.items()
                if pool[i].key != post.key
            ),
        )
        return [pool[entry[-1]].key for entry in best]
