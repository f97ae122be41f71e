"""``publish watch`` with reviews and rankings (issue 15): random sequences of
edits, new posts, reviews arriving (some from a reader who already reviewed
the post) and approvals; after every step the output equals a clean build,
file for file — the post's aggregate, the lists' ratings, the feeds'
thr:count and the rankings pages and feeds included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import test_watch_sequences as sequences
from test_incremental import Site

from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store

ON = (
    'WEBMENTIONS = {**WEBMENTIONS, "rankings": True, "reviews_min_count": 1,'
    ' "reviews": ["Produits"]}\n'
)


class ReviewSequence(sequences.Sequence):
    def review_arrives(self) -> None:
        pages = sorted(self.output.glob("posts/*/*/index.html"))
        page = self.rng.choice(pages[:4])  # a few posts, so readers meet again
        if "410 Gone" in page.read_text(encoding="utf-8"):
            return
        target = f"http://blog.test/{page.parent.relative_to(self.output).as_posix()}/"
        reader = self.rng.choice(["ana", "bruno", "chloe"])
        store = Store.open(self.site.store_url)
        try:
            self.count += 1
            self.pending.append(
                store.add_verified(
                    f"https://{reader}.example/avis/{self.count}",
                    target,
                    model.WEBMENTION,
                    {
                        "kind": "review",
                        "author_name": reader.title(),
                        "author_url": f"https://{reader}.example/",
                        "content_text": f"Avis {self.count}",
                        "rating": float(self.rng.randint(1, 5)),
                        "rating_best": 5.0,
                        "rating_worst": 1.0,
                        "published": dt.datetime(
                            2026, 11, 22, 11, self.count % 60, tzinfo=dt.UTC
                        ),
                    },
                )
            )
        finally:
            store.engine.dispose()
        self.store_changed()


@pytest.mark.parametrize("seed", [3, 5])
def test_reviews_and_rankings_stay_correct_in_watch(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = sequences.make_site

    def with_rankings(root: Path) -> Site:
        site = plain(root)
        with site.settings_file.open("a", encoding="utf-8") as conf:
            conf.write(ON)
        return site

    monkeypatch.setattr(sequences, "make_site", with_rankings)
    seq = ReviewSequence(tmp_path, seed)
    moves = [
        seq.review_arrives,
        seq.review_arrives,
        seq.approve,
        seq.approve,
        seq.body_edit,
        seq.new_post,
        seq.comment_arrives,
    ]
    for step in range(12):
        seq.rng.choice(moves)()
        seq.matches_a_clean_build(step)
    # Whatever the draw, end with a review arrived and everything approved.
    seq.review_arrives()
    while seq.pending:
        seq.approve()
    seq.matches_a_clean_build(99)
    assert any(r.fast for r in seq.reports)
    rated = [
        p
        for p in seq.output.glob("posts/*/*/index.html")
        if "h-review-aggregate" in p.read_text(encoding="utf-8")
    ]
    assert rated
    ranking = (seq.output / "rankings/fr/index.html").read_text(encoding="utf-8")
    assert "Les mieux notés" in ranking


@pytest.mark.parametrize("change", ["edit", "approved review", "delete"])
def test_incremental_builds_keep_the_rankings_right(
    tmp_path: Path, change: str
) -> None:
    """`publish build --incremental` with the rankings on: after an edit, an
    approved review or a deletion, the output equals a clean build."""
    import shutil

    import test_incremental as incremental

    site = incremental.make_site(tmp_path / "site")
    with site.settings_file.open("a", encoding="utf-8") as conf:
        conf.write(ON)
    output = tmp_path / "output"
    incremental.build(site, output, site.root, incremental=True)
    assert (output / "rankings/fr/index.html").exists()
    apply = incremental.CHANGES[change][0]
    apply(site)
    snapshot = tmp_path / "snapshot"
    shutil.copytree(site.root / "var", snapshot / "var")
    incremental.build(site, output, site.root, incremental=True)
    incremental.build(site, tmp_path / "clean", snapshot, incremental=False)
    incremental.assert_same_tree(output, tmp_path / "clean")
    assert (output / "feeds/rankings/best-fr.atom.xml").exists()
