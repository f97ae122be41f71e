"""``render_once``: a piece of a page rendered once per process and build.

A post is listed on the front page or an older list page, on its category's,
its tags' and its author's pages and in its year's archive, and the theme's
``entry_summary`` macro rendered the same HTML for it on each (about a fifth
of a clean build's rendering at 8,000 posts). Wrapped as

    {% call render_once("entry", item, level, compact, page_lang(), SITEURL) %}
      ... the entry's HTML ...
    {% endcall %}

the body is rendered the first time and its HTML reused when the same
arguments come again. The arguments must name everything the body depends
on: objects count by identity, other values by equality.

It reuses only while :meth:`~.writer.CauserieWriter.flush` renders a clean
build's pages (nothing changes the model then); anywhere else — incremental
builds, ``publish watch``'s fast path, which changes posts in place — the
body is simply rendered each time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .state import BUILD

_VALUES = (str, int, float, bool, type(None))


def render_once(*key: Any, caller: Callable[[], Any]) -> Any:
    """Jinja global: ``caller()``'s HTML, rendered once for ``key``."""
    memo = BUILD.fragments
    if memo is None:
        return caller()
    k = tuple(part if isinstance(part, _VALUES) else ("id", id(part)) for part in key)
    found = memo.get(k)
    if found is None:
        found = memo[k] = caller()
    return found


@contextmanager
def reusing() -> Iterator[None]:
    """Inside this block (one clean build's rendering), reuse."""
    previous, BUILD.fragments = BUILD.fragments, {}
    try:
        yield
    finally:
        BUILD.fragments = previous


def install(generator: Any) -> None:
    """``generator_init``: offer ``render_once`` to the theme."""
    generator.env.globals["render_once"] = render_once
