"""Moving from webmention.io: its JF2 export into the store, then onto the pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SITEURL
from test_render import (
    build_with_mentions,
    comment_names,
    every_output_text,
    page,
    soup,
)

from causerie.webmentions import model
from causerie.webmentions.errors import WebmentionError
from causerie.webmentions.store.jf2_import import ImportReport, import_jf2, load_jf2
from causerie.webmentions.store.mention_store import Store

SAMPLE = ROOT / "tests" / "data" / "import" / "webmention-io.jf2.json"
FR = f"{SITEURL}/posts/2025/pourquoi-un-blog/"
EN = f"{SITEURL}/posts/2025/pourquoi-un-blog/en/"
CLIENTS = f"{SITEURL}/posts/2025/nos-clients-parlent-plus-fort/"
WEBMENTION_POST = f"{SITEURL}/posts/2025/repondre-par-webmention/"


def run_import(store: Store) -> ImportReport:
    return import_jf2(store, load_jf2(SAMPLE), SITEURL)


def test_import_maps_kinds_and_skips_with_reasons(store_url: str) -> None:
    store = Store.open(store_url)
    progress: list[tuple[int, int]] = []
    report = import_jf2(
        store, load_jf2(SAMPLE), SITEURL, progress=lambda *a: progress.append(a)
    )
    assert (report.imported, report.updated) == (9, 0)
    assert progress[-1] == (15, 15)
    reasons = dict(report.skipped)
    assert len(reasons) == 6
    assert "private" in reasons["1811700"]
    assert "not on this site" in reasons["1811801"]
    assert "no wm-source" in reasons["1811900"]  # the malformed one
    assert "no wm-source" in reasons["1811950"]  # a javascript: source
    assert "not a JF2 entry" in reasons["entry #13"]
    assert "follow-of" in reasons["1830002"]

    mentions = {m.source: m for m in store.list_mentions()}
    assert len(mentions) == 9
    assert all(
        (m.origin, m.verification, m.moderation)
        == (model.IMPORT, model.VERIFIED, model.APPROVED)
        for m in mentions.values()
    )
    kinds = sorted(m.kind for m in mentions.values())
    assert kinds == sorted(
        [
            "reply",
            "reply",
            "like",
            "like",
            "like",
            "repost",
            "mention",
            "bookmark",
            "rsvp",
        ]
    )
    ines = mentions["https://ines-ferrand.example/2025/01/15/un-blog-d-entreprise"]
    assert ines.target == FR
    assert ines.author_name == "Inès Ferrand"
    # The remote photo is kept for the worker to cache; nothing is fetched.
    assert ines.author_photo == (
        "https://webmention.io/avatar/ines-ferrand.example/5d2c6a8e0b1f.jpg"
    )
    assert ines.avatar is None
    assert "<script" not in (ines.content_html or "")
    assert 'href="https://ines-ferrand.example/2024/notes/ecouter"' in (
        ines.content_html or ""
    )
    assert ines.received_at == dt.datetime(2025, 1, 15, 7, 43, 12, tzinfo=dt.UTC)
    assert ines.published == dt.datetime(2025, 1, 15, 7, 41, tzinfo=dt.UTC)
    sam = mentions["https://sam.example/notes/2025-01-16-lumen"]
    assert sam.target == EN, "the fragment of wm-target is dropped"
    assert (
        sam.content_html == "<p>Good luck with the blog!</p><p>I will keep reading.</p>"
    )
    like = mentions["https://brid.gy/like/twitter/maisonlumen/1879/7301"]
    assert like.published == like.received_at  # published: null
    review = mentions["https://design-lyon.example/2025/03/revue-de-presse"]
    assert review.title == "Revue de presse : les entreprises qui écoutent"
    rsvp = mentions["https://leon.example/rsvp/portes-ouvertes"]
    assert (rsvp.kind, rsvp.rsvp, rsvp.author_name) == ("rsvp", "yes", "Léon Gras")


def test_importing_twice_creates_no_duplicates(store_url: str) -> None:
    store = Store.open(store_url)
    run_import(store)
    first = {(m.source, m.target): m.id for m in store.list_mentions()}
    rejected = first[("https://paul.example/bookmarks/42", CLIENTS)]
    store.moderate(rejected, model.REJECTED)
    again = run_import(store)
    assert (again.imported, again.updated, len(again.skipped)) == (0, 9, 6)
    after = {(m.source, m.target): m for m in store.list_mentions()}
    assert {k: m.id for k, m in after.items()} == first
    # A decision taken since the first import stands.
    assert after[("https://paul.example/bookmarks/42", CLIENTS)].moderation == (
        model.REJECTED
    )


def _entry(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "type": "entry",
        "wm-id": n,
        "wm-source": f"https://fan{n}.example/likes/{n}",
        "wm-target": CLIENTS,
        "wm-property": "like-of",
        "author": {"type": "card", "name": f"Fan {n}"},
        **changes,
    }


def test_a_bad_entry_in_the_middle_is_skipped_and_the_rest_imported(
    store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 13 item 5: one entry stopped the import (574 of 812), and every
    # re-run stopped at the same place.
    import json

    # Ids of their own on each backend: Pelican's log filter drops a message
    # it has seen before, and the SQLite run logs the same lines first.
    n = 10 if store_url.startswith("postgresql") else 0
    children = [
        _entry(n + 1),
        _entry(n + 2, **{"wm-target": "http://[oops"}),  # urlsplit raised
        # A host too long for DNS (and for the store's column on PostgreSQL).
        _entry(n + 3, **{"wm-source": "https://" + ("a" * 60 + ".") * 5 + "example/"}),
        _entry(n + 4),
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"type": "feed", "children": children}), "utf-8")
    store = Store.open(store_url)
    with caplog.at_level("INFO", logger="causerie.webmentions.store.jf2_import"):
        first = import_jf2(store, load_jf2(path), SITEURL)
    assert (first.imported, first.updated) == (2, 0)
    reasons = dict(first.skipped)
    assert "not a valid URL" in reasons[str(n + 2)]
    assert "longer than 253 characters" in reasons[str(n + 3)]
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"import: entry #2 ({n + 2}) skipped:") for m in logged)
    assert any(m.startswith(f"import: entry #3 ({n + 3}) skipped:") for m in logged)
    assert sorted(m.author_name or "" for m in store.list_mentions()) == [
        f"Fan {n + 1}",
        f"Fan {n + 4}",
    ]
    again = import_jf2(store, load_jf2(path), SITEURL)
    assert (again.imported, again.updated, again.skipped) == (0, 2, first.skipped)
    assert len(store.list_mentions()) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"links": []}', "not a JF2 feed"),
        ("[1, 2]", "not a JF2 feed"),
    ],
)
def test_load_jf2_names_the_file_and_the_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WebmentionError, match=message) as info:
        load_jf2(path)
    assert str(path) in str(info.value)


def test_load_jf2_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WebmentionError, match="cannot be read") as info:
        load_jf2(tmp_path / "nowhere.json")
    assert "nowhere.json" in str(info.value)


def test_imported_mentions_show_in_a_build(store_url: str, tmp_path: Path) -> None:
    store = Store.open(store_url)
    run_import(store)
    store.engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CAUSERIE_DATABASE_URL", raising=False)
        report = build_with_mentions(tmp_path / "output", tmp_path, store_url)
    assert report.problems == []
    output = tmp_path / "output"

    def doc(url: str) -> Any:
        return soup(page(output, url))

    fr = doc(FR)
    assert comment_names(fr) == ["Inès Ferrand"]
    assert [h.get_text() for h in fr.select(".facepile-title")] == ["2 J’aime"]
    assert comment_names(doc(EN)) == ["Sam Okafor"]
    clients = doc(CLIENTS)
    assert comment_names(clients) == ["Journal du design lyonnais"]
    assert [h.get_text() for h in clients.select(".facepile-title")] == [
        "1 J’aime",
        "1 partage",
        "1 mise en favori",
    ]
    rsvp = doc(WEBMENTION_POST).select_one(".comment-rsvp")
    assert "viendra" in rsvp.get_text()
    # Avatars are not cached yet (the worker does it): no picture at all,
    # and never the remote one.
    assert "webmention.io/avatar" not in every_output_text(output)
