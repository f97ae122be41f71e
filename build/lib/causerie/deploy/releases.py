"""Releases, pure: names, order, which one is before the live one, which go.

A target's root holds ``releases/<id>/`` (complete, immutable), maybe an
``<id>.partial/`` (an upload in progress or interrupted) and the ``current``
symlink to ``releases/<id>``. Ids are UTC instants, so they sort by age; this
module decides, the targets (:mod:`.local`, :mod:`.remote`) do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

PARTIAL = ".partial"
#: 20261123T120000Z, or 20261123T120000Z-2 for a second one in that second.
_ID = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?$")
ID_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class State:
    """What a target's root holds."""

    releases: list[str] = field(default_factory=list)  # complete, oldest first
    live: str | None = None  # the release `current` points at
    partials: list[str] = field(default_factory=list)  # directory names


def is_release(name: str) -> bool:
    return _ID.match(name) is not None


def sort_key(name: str) -> tuple[str, int]:
    match = _ID.match(name)
    if match is None:
        raise ValueError(f"not a release id: {name!r}")
    return match.group(1), int(match.group(2) or 1)


def read_state(names: Iterable[str], link: str | None) -> State:
    """The state from the names in releases/ and the target of `current`."""
    names = list(names)
    releases = sorted((n for n in names if is_release(n)), key=sort_key)
    partials = sorted(
        n for n in names if n.endswith(PARTIAL) and is_release(n[: -len(PARTIAL)])
    )
    live = live_release(link)
    return State(releases, live if live in releases else None, partials)


def live_release(link: str | None) -> str | None:
    """The release id a `current` symlink's target names, or None."""
    if not link:
        return None
    parent, _, name = link.rstrip("/").rpartition("/")
    return name if parent.endswith("releases") and is_release(name) else None


def link_target(release: str) -> str:
    """What `current` points at: relative, so the root may be moved."""
    return f"releases/{release}"


def new_id(now: dt.datetime, existing: Iterable[str]) -> str:
    """A release id after every existing one (even if the clock went back)."""
    taken = [n.removesuffix(PARTIAL) for n in existing]
    taken = [n for n in taken if is_release(n)]
    candidate = now.astimezone(dt.UTC).strftime(ID_FORMAT)
    if not taken:
        return candidate
    last = max(taken, key=sort_key)
    if sort_key(candidate) > sort_key(last):
        return candidate
    base, number = sort_key(last)
    return f"{base}-{number + 1}"


def previous(releases: list[str], live: str | None) -> str | None:
    """The release before ``live`` (what a rollback goes to), or None."""
    ordered = sorted(releases, key=sort_key)
    if live not in ordered:
        return None
    index = ordered.index(live)
    return ordered[index - 1] if index > 0 else None


def to_prune(releases: list[str], live: str | None, keep: int) -> list[str]:
    """Releases beyond the newest ``keep``, never ``live`` or the one before it."""
    ordered = sorted(releases, key=sort_key)
    spared = set(ordered[-keep:]) | {live, previous(ordered, live)}
    return [r for r in ordered if r not in spared]
