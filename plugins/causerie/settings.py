"""One validated settings dict per capability.

Each capability declares its settings as a frozen dataclass whose field defaults
are the documented defaults. :func:`read_section` merges the user's dict from
pelicanconf.py over them and checks names and types once, so a typo fails the
build with a message that names the setting, instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from causerie.errors import SettingsError

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is Any:
        return True
    if origin in (list, tuple):
        (item,) = typing.get_args(tp)[:1] or (Any,)
        return isinstance(value, list | tuple) and all(_matches(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


_FIELDS: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}


def _fields(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    """``cls``'s field types and names, worked out once per process:
    ``typing.get_type_hints`` compiles each annotation string anew, and some
    capabilities read their section once per post (8,000 times a build:
    2 s of a warm build at 8,000 posts, measured in docs/PERFORMANCE.md)."""
    found = _FIELDS.get(cls)
    if found is None:
        names = frozenset(f.name for f in dataclasses.fields(cls))
        found = _FIELDS[cls] = (typing.get_type_hints(cls), names)
    return found


def read_section(settings: Mapping[str, Any], name: str, cls: type[T]) -> T:
    """Return ``settings[name]`` merged over ``cls``'s defaults, validated.

    Lists are turned into tuples so the result is hashable and immutable.
    Raises :class:`SettingsError` naming the key, the expected type and the value.
    """
    raw = settings.get(name) or {}
    if not isinstance(raw, Mapping):
        raise SettingsError(
            f"{name} must be a dict in pelicanconf.py, not {type(raw).__name__}: "
            f"write {name} = {{...}}"
        )
    hints, known = _fields(cls)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(
            f"{name}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the known keys are {', '.join(sorted(known))}. Check the spelling "
            "in pelicanconf.py (see docs/configuration.md)."
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not _matches(value, hints[key]):
            raise SettingsError(
                f"{name}[{key!r}] must be {_type_name(hints[key])}, "
                f"got {value!r}; fix it in pelicanconf.py"
            )
        values[key] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**values)
    except SettingsError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def site_dir(settings: Mapping[str, Any]) -> str:
    """The site's directory, where var/ is (the mention store, the mail
    ledger, releases' lock…): CAUSERIE_SITE_DIR, set by ``publish`` to the
    settings file's directory, else the parent of PATH (content/)."""
    return str(settings.get("CAUSERIE_SITE_DIR") or os.path.dirname(settings["PATH"]))


def load_settings(
    settings_file: Path, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Read a Pelican settings file with ``overrides`` applied on top.

    Overriding SITEURL also moves FEED_DOMAIN, so feeds keep absolute URLs
    that point at the same place as the pages.
    """
    if not settings_file.is_file():
        raise SettingsError(
            f"{settings_file}: settings file not found; run the command from the "
            "site's directory or pass --settings PATH"
        )
    overrides = dict(overrides or {})
    # Where the site lives: relative paths of the capabilities (the mention
    # store under var/, ...) are read from here, as Pelican does for PATH.
    overrides.setdefault("CAUSERIE_SITE_DIR", str(settings_file.resolve().parent))
    if "SITEURL" in overrides:
        overrides.setdefault("FEED_DOMAIN", overrides["SITEURL"])
    from pelican.settings import read_settings  # Pelican only when a site is read

    try:
        settings: dict[str, Any] = read_settings(str(settings_file), override=overrides)
    except Exception as exc:  # a settings file is Python: anything can go wrong
        raise SettingsError(f"{settings_file}: cannot be loaded: {exc}") from exc
    return settings
