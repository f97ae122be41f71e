"""Each content object's URLs computed once per build, once they are settled.

Pelican computes ``url`` and ``save_as`` again at every use, formatting a
copy of the object's metadata each time (``Content.url_format``): a post is
linked from its own page, its neighbours, related posts and every list that
shows it, and a clean build of 8,000 posts asked some 130,000 times. After
``all_generators_finalized`` no plugin changes what a URL is made of (slug,
date, category, language, status), so from then until the build ends each
answer is kept. A watcher's warm builds keep theirs across builds instead
(:mod:`.warm`).
"""

from __future__ import annotations

from typing import Any

from pelican.contents import Content

from . import warm
from .state import BUILD

_original = Content.get_url_setting


def _get_url_setting(self: Any, key: str) -> str:
    memo = BUILD.urls
    if memo is None:
        return _original(self, key)
    # Objects outlive the build, so their ids are unique within it.
    k = warm.url_key(self, key)
    value = memo.get(k)
    if value is None:
        value = memo[k] = _original(self, key)
    return value


def settle(_generators: Any) -> None:
    """``all_generators_finalized``: keep URLs until the build ends."""
    if warm.current() is not None or Content.get_url_setting is not _original:
        return  # a watcher's build (its own memo), or someone else's patch
    BUILD.urls = {}
    Content.get_url_setting = _get_url_setting


def forget(_pelican: Any = None) -> None:
    """``finalized`` (and a failed build): compute URLs as Pelican does."""
    BUILD.urls = None
    if Content.get_url_setting is _get_url_setting:
        Content.get_url_setting = _original
