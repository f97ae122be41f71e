"""Moving from webmention.io: import its JF2 export into the mention store.

webmention.io gives a site's mentions as JF2
(``https://webmention.io/api/mentions.jf2?domain=example.com&token=…``)::

    {"type": "feed", "children": [
      {"type": "entry", "wm-id": 1234, "wm-source": "https://…",
       "wm-target": "https://…", "wm-property": "in-reply-to",
       "wm-received": "2025-03-05T09:12:44Z", "wm-private": false,
       "author": {"type": "card", "name": "…", "photo": "…", "url": "…"},
       "url": "…", "published": "…", "name": "…",
       "content": {"html": "…", "text": "…"}, "rsvp": "yes"}, …]}

Each entry becomes a verified, approved mention (that history was already
public on the old site), sanitized like anything else from outside. Importing
the same file again updates the same rows (source + target is unique) and
keeps their moderation state: a mention rejected since stays rejected. The
remote photo URL is kept in ``author_photo``; the worker caches avatars, the
import never touches the network.

Usage (the ``publish mentions import FILE`` command)::

    report = import_jf2(store, load_jf2(path), settings["SITEURL"])
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from causerie.webmentions import model
from causerie.webmentions.errors import WebmentionError
from causerie.webmentions.logtext import loggable
from causerie.webmentions.receiver.request_checks import host_problem
from causerie.webmentions.sanitize import clean_html, clean_text, safe_url

__all__ = ["ImportReport", "import_jf2", "load_jf2", "to_fields"]

log = logging.getLogger(__name__)

#: webmention.io's wm-property → our kind.
KINDS = {
    "in-reply-to": "reply",
    "like-of": "like",
    "repost-of": "repost",
    "bookmark-of": "bookmark",
    "mention-of": "mention",
    "rsvp": "rsvp",
}
RSVP_VALUES = ("yes", "no", "maybe", "interested")
#: Same limits as the receiver's (the text is a preview; the HTML is shown).
NAME_LIMIT = 200
TITLE_LIMIT = 500
TEXT_LIMIT = 5000

#: Called as progress(done, total) after each entry.
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did; ``skipped`` holds (entry id or URL, reason)."""

    imported: int = 0
    updated: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


class Skip(Exception):
    """An entry that is not imported; the message is the reason."""


def load_jf2(path: str | Path) -> Mapping[str, Any]:
    """Read a webmention.io JF2 export; a :class:`WebmentionError` names the
    file and says what to do if it cannot be used."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WebmentionError(
            f"{path}: cannot be read ({exc.strerror}); check the path and its permissions"
        ) from None
    except UnicodeDecodeError as exc:
        raise WebmentionError(
            f"{path}: not UTF-8 text (byte {exc.start}); download the JF2 export again"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WebmentionError(
            f"{path}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}); "
            "download it again from https://webmention.io/api/mentions.jf2?domain=…&token=…"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("children"), list):
        raise WebmentionError(
            f'{path}: not a JF2 feed (no "children" list); export the mentions '
            "with webmention.io's mentions.jf2 API, not mentions.json or .html"
        )
    return data


def _date(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    # webmention.io writes wm-received in UTC; a published date without a
    # zone is read as UTC too (the store only keeps aware datetimes).
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def to_fields(entry: Any, site_url: str) -> tuple[str, str, dict[str, Any]]:
    """(source, target, fields for the store) of one JF2 entry (pure).

    Raises :class:`Skip` with the reason for an entry that is not imported.
    """
    if not isinstance(entry, Mapping):
        raise Skip("not a JF2 entry (expected an object)")
    if entry.get("wm-private") is True:
        raise Skip("private mention (wm-private): never shown, not imported")
    source = safe_url(_str(entry.get("wm-source")))
    raw_target = _str(entry.get("wm-target"))
    if not source or not raw_target:
        raise Skip("no wm-source or wm-target http(s) URL")
    if problem := host_problem(urlsplit(source).hostname or ""):
        # The endpoint refuses such a source (issue 13 item 6); the store's
        # source_domain column holds 255 characters.
        raise Skip(f"wm-source {loggable(source, 120)}: {problem}")
    try:
        target = safe_url(_without_fragment(raw_target))
    except ValueError:  # "http://[oops": urlsplit refuses it
        raise Skip(f"wm-target {raw_target!r} is not a valid URL") from None
    prefix = site_url.rstrip("/") + "/"
    if not target or not target.startswith(prefix):
        raise Skip(f"target {raw_target} is not on this site ({prefix})")
    prop = _str(entry.get("wm-property")) or "mention-of"
    if prop not in KINDS:
        raise Skip(f"unknown wm-property {prop!r}")
    author = entry.get("author")
    author = author if isinstance(author, Mapping) else {}
    content = entry.get("content")
    content = content if isinstance(content, Mapping) else {}
    url = safe_url(_str(entry.get("url"))) or source
    raw_text = _str(content.get("text"))
    text = clean_text(raw_text, TEXT_LIMIT)
    content_html = clean_html(_str(content.get("html")), url)
    if not content_html and text:
        # A note with text only: its paragraphs, escaped.
        paragraphs = (clean_text(p, TEXT_LIMIT) for p in raw_text.split("\n\n"))
        content_html = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    title = clean_text(_str(entry.get("name")), TITLE_LIMIT)
    if title and text and text.startswith(title.rstrip("…. ")):
        # JF2 repeats the start of a note's text as its name: not a title.
        title = ""
    rsvp = _str(entry.get("rsvp")).lower()
    received = _date(entry.get("wm-received"))
    fields: dict[str, Any] = {
        "kind": KINDS[prop],
        "url": url,
        "author_name": clean_text(_str(author.get("name")), NAME_LIMIT) or None,
        "author_url": safe_url(_str(author.get("url"))),
        "author_photo": safe_url(_str(author.get("photo"))),
        "published": _date(entry.get("published")) or received,
        "title": title or None,
        "content_html": content_html or None,
        "content_text": text or None,
        "rsvp": rsvp if rsvp in RSVP_VALUES else None,
        "moderation": model.APPROVED,
    }
    if received:
        fields["received_at"] = received
    return source, target, fields


def _label(entry: Any, index: int) -> str:
    if isinstance(entry, Mapping):
        for key in ("wm-id", "url", "wm-source"):
            if entry.get(key):
                return str(entry[key])
    return f"entry #{index + 1}"


def import_jf2(
    store: Any,
    data: Mapping[str, Any],
    site_url: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the mentions of a webmention.io JF2 export into ``store``.

    Entries for another site, private ones and malformed ones are skipped
    with a reason; importing the same data twice changes nothing but the
    rows' update time.
    """
    children = data.get("children")
    if not isinstance(children, list):
        raise WebmentionError(
            'not a JF2 feed (no "children" list): export webmention.io\'s mentions.jf2'
        )
    report = ImportReport()
    known = {(m.source, m.target) for m in store.list_mentions()}
    for index, entry in enumerate(children):
        try:
            source, target, fields = to_fields(entry, site_url)
        except Skip as reason:
            log.info(
                "import: entry #%d (%s) skipped: %s",
                index + 1,
                loggable(_label(entry, index)),
                loggable(reason, 600),
            )
            report.skipped.append((_label(entry, index), str(reason)))
        except Exception as exc:
            # An entry nobody foresaw (issue 13 item 5: one entry stopped the
            # import, and every re-run, at the same place). It is skipped
            # with its position and the error; the others go in.
            why = (
                f"entry #{index + 1} could not be read "
                f"({type(exc).__name__}: {loggable(exc, 200)})"
            )
            log.warning("import: %s skipped: %s", loggable(_label(entry, index)), why)
            report.skipped.append((_label(entry, index), why))
        else:
            store.add_verified(source, target, model.IMPORT, fields)
            if (source, target) in known:
                report.updated += 1
            else:
                report.imported += 1
                known.add((source, target))
        if progress:
            progress(index + 1, len(children))
    return report
