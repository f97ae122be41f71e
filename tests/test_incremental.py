"""An incremental build gives the same site as a clean build, file for file.

Issue 6: after one change (a new post, an edit, a deletion, an approved
comment, a scheduled post coming due) the site is rebuilt into the output it
already has, reusing what it can; whatever it reuses, the result must be
byte-identical to a clean build of the same state into an empty directory.

The state is content/ and the mention store: a build also writes to the
store (the posts it published, so that a removed file gets a tombstone), so
the clean build gets a copy of the store as the incremental one found it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TOMBSTONE_META, compared, run_publish
from receiver_kit import SITEURL, write_settings

from causerie.sitebuild.build import BuildReport, build_site, load_settings
from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store

AS_OF = "2026-11-23T12:00:00+01:00"
LATER = "2027-06-02T12:00:00+02:00"  # the demo's scheduled post is due
EDITED = "2025-03-04-nos-clients-parlent-plus-fort.md"
EDITED_PAGE = "posts/2025/nos-clients-parlent-plus-fort/index.html"
DELETED = "2026-01-27-publier-depuis-son-telephone.md"
DELETED_PAGE = "posts/2026/publier-depuis-son-telephone/index.html"
NEW_PAGE = "posts/2026/une-lampe-pour-lire/index.html"
SCHEDULED_PAGE = "posts/2027/portes-ouvertes-atelier/index.html"
COMMENTED = f"{SITEURL}/posts/2025/pourquoi-un-blog/"
COMMENTED_PAGE = "posts/2025/pourquoi-un-blog/index.html"

NEW_POST = """\
Title: Une lampe pour lire au lit
Date: 2026-11-20 08:15
Author: Claire Dubois
Category: Produits
Tags: lecture, aube
Lang: fr
Slug: une-lampe-pour-lire
Summary: Envoyé depuis mon téléphone : la petite sœur d’Aube arrive.

Une lampe de chevet, *orientable*, qui ne réveille pas l’autre moitié du lit.

## Pourquoi

Parce que vous nous l’avez demandé, [sur le forum](https://example.org/forum).
"""


@dataclass
class Site:
    """A copy of the demo site with its own store, and its current clock."""

    root: Path
    settings_file: Path
    now: str = AS_OF

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.root / 'var' / 'mentions.sqlite3'}"


def make_site(root: Path) -> Site:
    content = root / "content"
    shutil.copytree(ROOT / "content", content)
    settings_file = write_settings(
        root,
        content,
        {"service_url": "http://127.0.0.1:8081", "notify": False},
    )
    return Site(root, settings_file)


def build(site: Site, output: Path, site_dir: Path, incremental: bool) -> BuildReport:
    """Build ``site`` into ``output`` with the store and var/ of ``site_dir``."""
    settings = load_settings(
        site.settings_file,
        {
            "OUTPUT_PATH": str(output),
            "CAUSERIE_SITE_DIR": str(site_dir),
            "SITEBUILD": {"now": site.now, "incremental": incremental},
        },
    )
    report = build_site(settings)
    assert report.problems == [], report.problems
    return report


def tree(output: Path) -> dict[str, bytes]:
    return {
        p.relative_to(output).as_posix(): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file() and compared(p.relative_to(output).as_posix())
    }


def assert_same_tree(incremental: Path, clean: Path) -> int:
    ours, theirs = tree(incremental), tree(clean)
    assert sorted(ours.keys() - theirs.keys()) == [], "left over by the incremental"
    assert sorted(theirs.keys() - ours.keys()) == [], "missing from the incremental"
    differ = sorted(name for name in ours if ours[name] != theirs[name])
    assert differ == [], "bytes differ"
    return len(ours)


# --- the changes -------------------------------------------------------------


def new_post(site: Site) -> None:
    # As mailposts or `publish new` leave it: one more Markdown file.
    (site.content / "posts" / "2026-11-20-une-lampe-pour-lire.md").write_text(
        NEW_POST, encoding="utf-8"
    )


def edit(site: Site) -> None:
    path = site.content / "posts" / EDITED
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "Title: Nos clients parlent plus fort que nous",
        "Title: Nos clients parlent bien plus fort que nous",
    ).replace("Tags: avis clients,", "Tags: avis clients, correction,")
    path.write_text(text + "\nMise à jour : un paragraphe ajouté.\n", encoding="utf-8")


def delete(site: Site) -> None:
    (site.content / "posts" / DELETED).unlink()


def approve_comment(site: Site) -> None:
    store = Store.open(site.store_url)
    try:
        mention_id = store.add_verified(
            "urn:uuid:4f1c0a9e-0000-4000-8000-000000000006",
            COMMENTED,
            model.FORM,
            {
                "kind": "reply",
                "author_name": "Nadia Incrémentale",
                "content_html": "<p>Et la version anglaise ?</p>",
                "content_text": "Et la version anglaise ?",
                "published": dt.datetime(2026, 11, 22, 18, 0, tzinfo=dt.UTC),
            },
        )
        assert store.moderate(mention_id, model.APPROVED)
    finally:
        store.engine.dispose()


def approve_review(site: Site) -> None:
    """A rated review approved (issue 15): the post's aggregate, its JSON-LD,
    the lists' rating and the feeds' thr:count change with it."""
    store = Store.open(site.store_url)
    try:
        mention_id = store.add_verified(
            "https://ines.example/avis/aube",
            COMMENTED,
            model.WEBMENTION,
            {
                "kind": "review",
                "author_name": "Inès Notée",
                "author_url": "https://ines.example/",
                "content_text": "Très bien.",
                "rating": 4.0,
                "rating_best": 5.0,
                "rating_worst": 1.0,
                "published": dt.datetime(2026, 11, 22, 19, 0, tzinfo=dt.UTC),
            },
        )
        assert store.moderate(mention_id, model.APPROVED)
    finally:
        store.engine.dispose()


def schedule_comes_due(site: Site) -> None:
    site.now = LATER


#: Each change, the page that shows it happened (it must then contain the
#: marker), and how many Markdown files the rebuild must convert (the others
#: come from the cache of the first build).
CHANGES: dict[str, tuple[Callable[[Site], None], str, str, int]] = {
    "new post": (new_post, NEW_PAGE, "Une lampe pour lire au lit", 1),
    "edit": (edit, EDITED_PAGE, "un paragraphe ajouté", 1),
    "delete": (delete, DELETED_PAGE, TOMBSTONE_META, 0),
    "approved comment": (approve_comment, COMMENTED_PAGE, "Nadia Incrémentale", 0),
    "approved review": (approve_review, COMMENTED_PAGE, "Inès Notée", 0),
    "scheduled post due": (schedule_comes_due, SCHEDULED_PAGE, "Portes ouvertes", 0),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_incremental_equals_clean_build(tmp_path: Path, change: str) -> None:
    apply, page, marker, converted = CHANGES[change]
    site = make_site(tmp_path / "site")
    output = tmp_path / "output"
    first = build(site, output, site.root, incremental=True)
    assert first.converted == 18  # every post and page of the demo
    before = tree(output)
    assert page not in before or marker not in before[page].decode()

    apply(site)
    # The store as this build finds it, for the clean build (see the module).
    snapshot = tmp_path / "snapshot"
    shutil.copytree(site.root / "var", snapshot / "var")
    report = build(site, output, site.root, incremental=True)
    build(site, tmp_path / "clean", snapshot, incremental=False)

    assert report.converted == converted
    assert marker in (output / page).read_text("utf-8")
    files = assert_same_tree(output, tmp_path / "clean")
    assert files > 100  # the whole demo site (119 files), not an empty tree
    # The change shows in more than its own page (lists, feeds, sitemap...),
    # and the rest was left alone.
    after = tree(output)
    changed = {n for n in after.keys() | before.keys() if after.get(n) != before.get(n)}
    assert page in changed and len(changed) < len(after)
    assert report.files_changed is not None and report.files_removed is not None
    assert report.files_changed + report.files_removed == len(changed)


def test_a_rebuild_without_change_changes_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    output = tmp_path / "output"
    build(site, output, site.root, incremental=True)
    stamps = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file()}
    report = build(site, output, site.root, incremental=True)
    assert (report.files_changed, report.files_removed) == (0, 0)
    # Unchanged files are not rewritten: a deploy by date sees nothing new.
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_stale_files_are_removed_and_kept_ones_follow_retention(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "site")
    output = tmp_path / "output"
    build(site, output, site.root, incremental=True)
    (output / "stray.html").write_text("left by hand", encoding="utf-8")
    (output / "posts" / "2020" / "old").mkdir(parents=True)
    (output / "posts" / "2020" / "old" / "index.html").write_text("old")
    # A file where the build wants a directory, and the reverse.
    shutil.rmtree(output / "tags")
    (output / "tags").write_text("not a directory")
    report = build(site, output, site.root, incremental=True)
    assert not (output / "stray.html").exists()
    assert not (output / "posts" / "2020").exists()
    assert (output / "tags" / "index.html").is_file()
    assert report.files_removed == 3  # stray.html, old/index.html, the tags file
    build(site, tmp_path / "clean", site.root, incremental=False)
    assert_same_tree(output, tmp_path / "clean")


def test_cli_incremental_flag(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    args: list[Any] = ["--settings", str(site.settings_file), "build", "-o", str(out)]
    first = run_publish(*args, "--incremental", cwd=site.root)
    assert first.returncode == 0, first.stderr
    again = run_publish(*args, "--incremental", cwd=site.root)
    assert again.returncode == 0, again.stderr
    assert "0 changed, 0 removed" in again.stdout, again.stdout


def test_a_crash_after_the_move_never_leaves_a_stale_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build dies after moving its files into the output, before it
    records their fingerprints (a crash, a full disk). Then the edit is
    undone: the next build must put the page back, not trust the
    fingerprint of the bytes that were there before the crash."""
    site = make_site(tmp_path / "site")
    output = tmp_path / "output"
    build(site, output, site.root, incremental=True)
    path = site.content / "posts" / EDITED
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\nUne phrase de trop.\n", encoding="utf-8")

    from causerie.sitebuild.writer import PagePlan

    def crash(_plan: PagePlan) -> None:
        raise OSError("killed between the move and the save")

    with monkeypatch.context() as patched:
        patched.setattr(PagePlan, "finish", crash)
        with pytest.raises(OSError):
            build(site, output, site.root, incremental=True)
    assert "Une phrase de trop." in (output / EDITED_PAGE).read_text("utf-8")

    # A new process (the plan in memory died with the crash) sees the edit undone.
    from causerie.sitebuild.state import PROCESS

    PROCESS.plans.clear()
    path.write_text(original, encoding="utf-8")
    build(site, output, site.root, incremental=True)
    build(site, tmp_path / "clean", site.root, incremental=False)
    assert "Une phrase de trop." not in (output / EDITED_PAGE).read_text("utf-8")
    assert_same_tree(output, tmp_path / "clean")
