"""Related posts: the best few by shared tags and category (pure).

Score = number of shared tags + 1 for the same category. Posts sharing nothing
are never "related". Ties go to the post written closest in time, then to the
title, so the choice is stable from one build to the next.

Why the closest and not the newest: with the newest, every new post became a
related post of every older post it tied with (all the posts of its tags and
category), so one new post changed hundreds of post pages, and an
incremental build had to render them all (docs/PERFORMANCE.md). The closest
in time is also what a reader of an old post can use: the posts of the same
period, on the same subject.

:func:`related` states the rule; :class:`RelatedIndex` gives the same answer
for every post of a pool without scoring every pair (the build's way: scoring
and sorting the whole pool for each post is quadratic, 5 s at 2,000 posts).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections import Counter
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
    when = post.date.timestamp()
    ranked: Sequence[tuple[int, Candidate[K]]] = sorted(
        ((score(post, other), other) for other in pool if other.key != post.key),
        key=lambda pair: (
            -pair[0],
            abs(pair[1].date.timestamp() - when),
            pair[1].title,
        ),
    )
    return [other.key for points, other in ranked[:limit] if points > 0]


class RelatedIndex(Generic[K]):
    """``related(post, pool, limit)`` for many posts of one ``pool``, fast.

    Only posts that share a tag or the category can score: the tag lists
    give the first, and of those that share only the category (score 1) no
    more than ``limit`` can make it, the closest in time first, so each
    category is kept sorted by date and searched from the post's date
    outwards. Ties keep ``related``'s order, pool order included (``sorted``
    is stable).
    """

    def __init__(self, pool: Iterable[Candidate[K]]) -> None:
        self._pool = list(pool)
        self._when = [c.date.timestamp() for c in self._pool]
        self._position = {c.key: i for i, c in enumerate(self._pool)}
        self._by_tag: dict[str, list[int]] = {}
        by_category: dict[str, list[int]] = {}
        for i, c in enumerate(self._pool):
            for tag in c.tags:
                self._by_tag.setdefault(tag, []).append(i)
            if c.category is not None:
                by_category.setdefault(c.category, []).append(i)
        #: Each category's members by date, and their dates (for bisect).
        self._by_category: dict[str, tuple[list[int], list[float]]] = {}
        for category, members in by_category.items():
            members.sort(key=self._when.__getitem__)
            self._by_category[category] = (members, [self._when[i] for i in members])

    def related(self, post: Candidate[K], limit: int = 3) -> list[K]:
        """Keys of the ``limit`` posts of the pool most related to ``post``."""
        if limit <= 0:
            return []
        pool = self._pool
        when = post.date.timestamp()
        # Counter.update counts an iterable in C: the posts of each of the
        # post's tags, a few hundred at 8,000 posts.
        scores: Counter[int] = Counter()
        for tag in post.tags:
            scores.update(self._by_tag.get(tag, ()))
        category = post.category
        if category is not None and category in self._by_category:
            for i in scores:
                if pool[i].category == category:
                    scores[i] += 1
            for i in self._closest(category, when, limit, scores, post.key):
                scores[i] = 1
        scores.pop(self._position.get(post.key, -1), None)
        # Best score first: only the ties of the levels that fill the limit
        # need the date and title order (most posts score 1 or 2).
        when_of = self._when
        chosen: list[int] = []
        for level in sorted(set(scores.values()), reverse=True):
            group = [i for i, points in scores.items() if points == level]
            group = heapq.nsmallest(
                limit - len(chosen),
                group,
                key=lambda i: (abs(when_of[i] - when), pool[i].title, i),
            )
            chosen.extend(group)
            if len(chosen) >= limit:
                break
        return [pool[i].key for i in chosen]

    def _closest(
        self, category: str, when: float, limit: int, scored: Counter[int], key: K
    ) -> list[int]:
        """Members of ``category`` not in ``scored`` (nor the post), the
        ``limit`` closest to ``when`` and every one tied with the last: the
        others are further in time and cannot be chosen over them."""
        members, dates = self._by_category[category]
        right = bisect.bisect_left(dates, when)
        left = right - 1
        found: list[int] = []
        bound = None
        while left >= 0 or right < len(members):
            # The nearer side next (either when both are as near).
            go_left = right >= len(members) or (
                left >= 0 and when - dates[left] <= dates[right] - when
            )
            index = left if go_left else right
            distance = abs(dates[index] - when)
            if bound is not None and distance > bound:
                break
            if go_left:
                left -= 1
            else:
                right += 1
            i = members[index]
            if i in scored or self._pool[i].key == key:
                continue
            found.append(i)
            if len(found) >= limit and bound is None:
                bound = distance
        return found
