"""Reviews end to end: real h-review pages on 127.0.0.2, the receiver as a
real process verifying them, the store's rows, one voice per reader, and
the moderation page showing the rating (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import run_publish
from receiver_kit import POST, Page, Receiver, SourceServer, write_site
from test_admin import Admin, parse, reply
from test_admin import admin as admin  # the fixture, for the moderation page
from test_receiver import accepted_id, settled

from causerie.webmentions import model
from causerie.webmentions.receiver.form import check_rating
from causerie.webmentions.reviews.aggregate import aggregate, current_reviews
from causerie.webmentions.store.mention_store import Store


def review_page(
    source: SourceServer,
    path: str,
    target: str,
    rating: str,
    author: str = "Alice Martin",
    home: str = "/",
    text: str = "Trois ans sans une panne.",
) -> str:
    source.pages[path] = Page(
        f"""<!doctype html><html><head><title>Mon avis</title></head><body>
        <article class="h-review">
          <h1 class="p-name">Mon avis</h1>
          <p class="p-author h-card"><a class="p-name u-url"
             href="{source.base}{home}">{author}</a></p>
          <a class="p-item h-product" href="{target}">le billet</a>
          <data class="p-rating" value="{rating}">{rating}</data>/<span class="p-best">5</span>
          <div class="e-content"><p>{text}</p></div>
          <time class="dt-published" datetime="2026-11-2{len(path) % 10}T10:00:00+01:00">nov.</time>
        </article></body></html>"""
    )
    return source.url(path)


@pytest.fixture(scope="module")
def source() -> Iterator[SourceServer]:
    server = SourceServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = write_site(tmp_path_factory.mktemp("reviews-site"))
    result = run_publish("--settings", str(settings), "build", cwd=settings.parent)
    assert result.returncode == 0, result.stderr
    return settings


@pytest.fixture(scope="module")
def receiver(site: Path) -> Iterator[Receiver]:
    server = Receiver(site).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def store(site: Path) -> Store:
    return Store.open(f"sqlite:///{site.parent / 'var' / 'mentions.sqlite3'}")


def test_an_h_review_is_stored_as_a_review_with_its_rating(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    url = review_page(source, "/avis-1", POST, "4")
    mention = settled(store, accepted_id(receiver.send(url, POST)), receiver)
    assert (mention.verification, mention.moderation) == (model.VERIFIED, model.PENDING)
    assert mention.kind == "review"
    assert (mention.rating, mention.rating_best, mention.rating_worst) == (4, 5, 1)
    assert mention.author_name == "Alice Martin"
    assert mention.content_text and "sans une panne" in mention.content_text


def test_a_bad_rating_is_kept_with_its_reason_and_never_counted(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    url = review_page(source, "/avis-nan", POST, "NaN", author="Zoé", home="/zoe")
    mention = settled(store, accepted_id(receiver.send(url, POST)), receiver)
    assert mention.kind == "review" and mention.rating is None
    assert mention.rating_note and "not a number" in mention.rating_note
    store.moderate(mention.id, model.APPROVED)
    counted = current_reviews(store.visible().get(POST, []))
    assert mention.id in {m.id for m in counted}
    result = aggregate([m for m in counted if m.id == mention.id])
    assert result is None  # approved, shown as text, its rating not counted


def test_a_new_review_from_the_same_reader_replaces_the_earlier_one(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    first = review_page(source, "/bob/avis-1", POST, "2", "Bob", "/bob")
    second = review_page(source, "/bob/avis-22", POST, "5", "Bob", "/bob/")
    ids = [
        settled(store, accepted_id(receiver.send(url, POST)), receiver).id
        for url in (first, second)
    ]
    for mention_id in ids:
        store.moderate(mention_id, model.APPROVED)
    bobs = [m for m in current_reviews(store.visible()[POST]) if m.author_name == "Bob"]
    assert [m.id for m in bobs] == [ids[1]]
    # Only approved reviews count: the new one rejected, the earlier speaks.
    store.moderate(ids[1], model.REJECTED)
    bobs = [m for m in current_reviews(store.visible()[POST]) if m.author_name == "Bob"]
    assert [m.id for m in bobs] == [ids[0]]


def test_a_review_that_becomes_a_deleted_page_is_deleted(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    url = review_page(source, "/avis-gone", POST, "3", "Dora", "/dora")
    mention_id = settled(store, accepted_id(receiver.send(url, POST)), receiver).id
    source.pages["/avis-gone"] = Page("gone", 410, "text/plain")
    store_id = accepted_id(receiver.send(url, POST))
    assert store_id == mention_id

    def gone() -> model.Mention | None:
        m = store.get(mention_id)
        return m if m and m.verification == model.DELETED else None

    from receiver_kit import wait_until

    assert wait_until(gone, 30, receiver.describe)


def test_a_review_of_someone_elses_page_is_a_mention_with_the_reason(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    source.pages["/ailleurs"] = Page(
        f"""<html><body><div class="h-review">
        <a class="p-item h-product" href="https://shop.example/lampe">Lampe X</a>
        <span class="p-rating">1</span>
        <p class="e-content">Moins bien que <a href="{POST}">Aube</a>.</p>
        </div></body></html>"""
    )
    url = source.url("/ailleurs")
    mention = settled(store, accepted_id(receiver.send(url, POST)), receiver)
    assert mention.kind == "mention" and mention.rating is None
    assert mention.rating_note and "https://shop.example/lampe" in mention.rating_note


def test_the_moderation_page_shows_the_rating_or_why_not(admin: Admin) -> None:
    good = reply(
        admin.store,
        "https://alice.example/avis",
        kind="review",
        rating=4.0,
        rating_best=5.0,
        rating_worst=1.0,
    )
    bad = reply(
        admin.store,
        "https://eve.example/avis",
        kind="review",
        author_url="https://eve.example/",
        rating_note="the rating '1e400' is not a number",
    )
    page = admin.page(admin.login())
    shown = {
        int(h3["id"].lstrip("m")): h3.find_parent("article").find("p", class_="rating")
        for h3 in page.find_all("h3")
        if h3.get("id", "").startswith("m")
    }
    assert shown[good].get_text() == "Rating: 4 out of 5"
    assert "'1e400' is not a number" in shown[bad].get_text()
    assert parse(str(shown[bad])).find("script") is None


def test_the_form_refuses_a_rating_for_a_post_that_takes_none(
    receiver: Receiver, store: Store
) -> None:
    before = len(store.list_mentions())
    answer = requests.post(
        receiver.url + "/comment",
        data={
            "target": POST,
            "lang": "fr",
            "name": "Yann",
            "comment": "Cinq étoiles !",
            "rating": "5",
        },
        timeout=10,
    )
    assert answer.status_code == 400
    assert "ne prend pas de note" in answer.text
    assert "Cinq étoiles !" in answer.text  # the text is kept to send again
    assert len(store.list_mentions()) == before


@pytest.mark.parametrize(
    ("raw", "takes", "expected"),
    [
        ("", False, (None, None)),
        ("4", True, (4, None)),
        ("4", False, (None, "rating_off")),
        ("0", True, (None, "rating")),
        ("6", True, (None, "rating")),
        ("4.5", True, (None, "rating")),
        ("٤", True, (None, "rating")),  # an Arabic-Indic digit: isdigit() says yes
        ("-1", True, (None, "rating")),
    ],
)
def test_the_forms_rating_check(
    raw: str, takes: bool, expected: tuple[int | None, str | None]
) -> None:
    assert check_rating(raw, takes) == expected


def test_mentions_list_shows_the_rating_or_why_not(
    site: Path, receiver: Receiver, source: SourceServer, store: Store
) -> None:
    for path, rating, who in (("/cli-3", "3", "Gil"), ("/cli-abc", "abc", "Hana")):
        url = review_page(source, path, POST, rating, who, f"/{who.lower()}")
        settled(store, accepted_id(receiver.send(url, POST)), receiver)
    result = run_publish("--settings", str(site), "mentions", "list", cwd=site.parent)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    gil = next(i for i, line in enumerate(lines) if " Gil " in line)
    hana = next(i for i, line in enumerate(lines) if " Hana " in line)
    assert "rating: 3 out of 5" in lines[gil + 1]
    assert "rating not counted: the rating 'abc' is not a number" in lines[hana + 1]


def test_publish_check_knows_the_review_metadata(tmp_path: Path) -> None:
    """The review keys are known to `publish check`, and a wrong value is
    named with its line and the fix."""
    import shutil

    from conftest import ROOT

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    post = content / "posts" / "2026-09-29-aube-six-mois-apres.md"
    head, _, body = post.read_text(encoding="utf-8").partition("\n\n")
    post.write_text(
        f"{head}\nReviews: peut-être\nItemtype: Gadget\nRating: cinq\n"
        f"Reviewed: Lampe Halo\nReviewed-Url: https://shop.example/halo\n\n{body}",
        encoding="utf-8",
    )
    settings = write_site(tmp_path)
    conf = settings.read_text(encoding="utf-8")
    settings.write_text(conf + f"PATH = {str(content)!r}\n", encoding="utf-8")
    result = run_publish("--settings", str(settings), "check", cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "invalid Reviews 'peut-être'" in out
    assert "invalid Itemtype 'Gadget'" in out
    assert "invalid Rating 'cinq'" in out
    assert "unknown metadata" not in out
