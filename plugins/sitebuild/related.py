"""Related posts: the best few by shared tags and category (pure).

Score = number of shared tags + 1 for the same category. Posts sharing nothing
are never "related". Ties go to the most recent post, then to the title, so the
choice is stable from one build to the next.
"""

from __future__ import annotations

import datetime as dt
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
