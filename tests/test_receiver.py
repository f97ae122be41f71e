"""The receiver end to end: real source pages, the receiver as a real process,
requests from a real HTTP client, the site built with what was approved.

The request checks follow the webmention.rocks receiver tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import run_publish
from receiver_kit import (
    OTHER_POST,
    POST,
    SITEURL,
    Page,
    Receiver,
    SourceServer,
    wait_until,
    write_site,
)

from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store


@pytest.fixture(scope="module")
def source() -> Iterator[SourceServer]:
    server = SourceServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built site: the build records the published posts as targets."""
    settings = write_site(tmp_path_factory.mktemp("receiver-site"))
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


def settled(store: Store, mention_id: int, receiver: Receiver) -> model.Mention:
    """Wait for the in-process worker to verify (or refuse) a mention."""

    def done() -> model.Mention | None:
        mention = store.get(mention_id)
        return mention if mention and mention.verification != model.QUEUED else None

    return wait_until(done, 30, receiver.describe)


def accepted_id(response: requests.Response) -> int:
    assert response.status_code == 202, response.text
    return int(response.text.split("webmention ")[1].split()[0])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"target": POST}, "missing source"),
        ({"source": "https://alice.example/r"}, "missing target"),
        (
            {"source": "not a url", "target": POST},
            "source must be an http or https URL",
        ),
        (
            {"source": "https://alice.example/r", "target": "nope"},
            "target must be an http or https URL",
        ),
        ({"source": "bad", "target": "worse"}, "source must be an http or https URL"),
        (
            {"source": "ftp://alice.example/r", "target": POST},
            "source must be an http or https URL",
        ),
        ({"source": POST, "target": POST + "#x"}, "source and target are the same URL"),
        (
            {"source": "https://alice.example/r", "target": f"{SITEURL}/nope/"},
            "is not a published post of this site",
        ),
        (
            {
                "source": "https://alice.example/r",
                "target": "https://other.example/post/",
            },
            "is not a published post",
        ),
        (
            {
                "source": "https://alice.example/r",
                "target": f"{SITEURL}/posts/2026/abat-jour-en-lin/",
            },
            "is not a published post",
        ),
    ],
)
def test_bad_requests_get_400_with_a_reason(
    receiver: Receiver, data: dict[str, str], reason: str
) -> None:
    response = requests.post(receiver.endpoint, data=data, timeout=10)
    assert response.status_code == 400
    assert reason in response.text


def test_a_reply_is_accepted_verified_and_held(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    url = source.reply(
        "/reply-1", POST, "Nous avons la même lampe depuis 1998 !", "Alice Martin"
    )
    mention = settled(store, accepted_id(receiver.send(url, POST)), receiver)
    assert (mention.verification, mention.moderation) == (model.VERIFIED, model.PENDING)
    assert mention.kind == "reply" and mention.author_name == "Alice Martin"
    assert mention.content_text and "même lampe" in mention.content_text
    assert mention.target == POST


@pytest.mark.parametrize(
    ("markup", "ok"),
    [
        ('<a href="{t}">post</a>', True),
        ('<img src="{t}" alt="">', True),
        ('<video src="{t}"></video>', True),
        ('<audio><source src="{t}"></audio>', True),
        ("<p>I read {t} yesterday</p>", False),
        ('<!-- <a href="{t}">post</a> -->', False),
        ('<code>&lt;a href="{t}"&gt;</code>', False),
    ],
)
def test_only_real_links_count(
    receiver: Receiver, source: SourceServer, store: Store, markup: str, ok: bool
) -> None:
    path = f"/link-{abs(hash(markup))}"
    source.pages[path] = Page(
        f"<!doctype html><title>t</title><body>{markup.format(t=OTHER_POST)}</body>"
    )
    mention = settled(
        store, accepted_id(receiver.send(source.url(path), OTHER_POST)), receiver
    )
    if ok:
        assert mention.verification == model.VERIFIED, mention.reason
    else:
        assert mention.verification == model.FAILED
        assert mention.reason and "does not link" in mention.reason


def test_an_update_is_not_a_duplicate_and_410_deletes(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    url = source.reply("/reply-update", POST, "Première version")
    first = accepted_id(receiver.send(url, POST))
    settled(store, first, receiver)
    source.reply("/reply-update", POST, "Version corrigée")
    second = accepted_id(receiver.send(url, POST + "#comments"))
    assert second == first
    mention = settled(store, second, receiver)
    assert mention.content_text and "corrigée" in mention.content_text
    assert len([m for m in store.list_mentions() if m.source == url]) == 1
    source.pages["/reply-update"] = Page("gone", 410, "text/plain")
    receiver.send(url, POST)
    assert settled(store, first, receiver).verification == model.DELETED


def test_a_source_on_a_forbidden_address_is_refused(
    receiver: Receiver, source: SourceServer, store: Store
) -> None:
    # 127.0.0.1 is loopback and not in fetch_allow_networks; reaching it
    # through a redirect from the allowed test host is refused too.
    direct = accepted_id(
        receiver.send(f"http://127.0.0.1:{receiver.port}/healthz", POST)
    )
    source.pages["/to-loopback"] = Page(
        "", 302, headers={"Location": f"http://127.0.0.1:{receiver.port}/healthz"}
    )
    redirected = accepted_id(receiver.send(source.url("/to-loopback"), POST))
    named = accepted_id(
        receiver.send(f"http://localhost:{receiver.port}/healthz", POST)
    )
    for mention_id in (direct, redirected, named):
        mention = settled(store, mention_id, receiver)
        assert mention.verification == model.FAILED
        assert mention.reason and "loopback" in mention.reason


def test_a_flood_gets_429(site: Path, source: SourceServer) -> None:
    settings = write_site(site.parent / "flood", rate_limit_per_minute=5)
    assert (
        run_publish(
            "--settings", str(settings), "build", cwd=settings.parent
        ).returncode
        == 0
    )
    receiver = Receiver(settings).start()
    try:
        codes = [
            receiver.send(source.url(f"/flood-{i}"), POST).status_code for i in range(8)
        ]
    finally:
        receiver.stop()
    assert codes[:5] == [202] * 5
    assert set(codes[5:]) == {429}


def test_approved_comments_appear_in_the_build_and_go_when_deleted(
    receiver: Receiver, source: SourceServer, store: Store, site: Path
) -> None:
    url = source.reply("/reply-shown", POST, "Une réponse qui sera publiée", "Bérénice")
    mention_id = accepted_id(receiver.send(url, POST))
    settled(store, mention_id, receiver)
    approve = run_publish(
        "--settings", str(site), "mentions", "approve", str(mention_id), cwd=site.parent
    )
    assert approve.returncode == 0, approve.stderr
    build = run_publish("--settings", str(site), "build", cwd=site.parent)
    assert build.returncode == 0, build.stderr
    page = site.parent / "output/posts/2025/nos-clients-parlent-plus-fort/index.html"
    html = page.read_text(encoding="utf-8")
    assert "Une réponse qui sera publiée" in html and "Bérénice" in html
    # The author deletes the reply: a new notification marks it deleted.
    source.pages["/reply-shown"] = Page("gone", 410, "text/plain")
    receiver.send(url, POST)
    assert settled(store, mention_id, receiver).verification == model.DELETED
    assert (
        run_publish("--settings", str(site), "build", cwd=site.parent).returncode == 0
    )
    assert "Une réponse qui sera publiée" not in page.read_text(encoding="utf-8")


def test_a_crash_mid_verification_loses_nothing(
    site: Path, source: SourceServer
) -> None:
    settings = write_site(site.parent / "crash", lease_seconds=3)
    assert (
        run_publish(
            "--settings", str(settings), "build", cwd=settings.parent
        ).returncode
        == 0
    )
    store = Store.open(f"sqlite:///{settings.parent / 'var' / 'mentions.sqlite3'}")
    for i in range(5):
        source.reply(f"/slow-{i}", POST, f"lente {i}")
        source.pages[f"/slow-{i}"].delay = 1.5  # still fetching when killed
    receiver = Receiver(settings).start()
    ids = [accepted_id(receiver.send(source.url(f"/slow-{i}"), POST)) for i in range(5)]
    time.sleep(0.5)  # the worker is inside its first fetch
    receiver.kill()
    # Every 202 was a committed row: all five are in the store, unverified.
    assert {m.id for m in store.list_mentions()} == set(ids)
    receiver = Receiver(settings).start()
    try:
        for mention_id in ids:

            def verified(mid: int = mention_id) -> model.Mention | None:
                mention = store.get(mid)
                return (
                    mention
                    if mention and mention.verification == model.VERIFIED
                    else None
                )

            mention = wait_until(verified, 60, receiver.describe)
            assert mention.content_text and mention.content_text.startswith("lente")
    finally:
        receiver.stop()


def test_import_from_webmention_io_caches_avatars(
    site: Path, source: SourceServer, store: Store
) -> None:
    import io
    import json

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (300, 200), "#8a3b12").save(picture, format="PNG")
    source.pages["/face.png"] = Page(picture.getvalue(), content_type="image/png")
    export = {
        "type": "feed",
        "children": [
            {
                "type": "entry",
                "author": {
                    "type": "card",
                    "name": "Imported Ida",
                    "photo": source.url("/face.png"),
                    "url": "https://ida.example/",
                },
                "url": "https://ida.example/likes/1",
                "published": "2025-04-01T10:00:00+00:00",
                "wm-received": "2025-04-01T10:05:00Z",
                "wm-id": 900001,
                "wm-source": "https://ida.example/likes/1",
                "wm-target": POST,
                "wm-property": "like-of",
                "wm-private": False,
            }
        ],
    }
    path = site.parent / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    result = run_publish(
        "--settings", str(site), "mentions", "import", str(path), cwd=site.parent
    )
    assert result.returncode == 0, result.stderr
    assert "Imported 1, updated 0, skipped 0." in result.stdout
    (ida,) = [m for m in store.list_mentions() if m.author_name == "Imported Ida"]
    assert ida.moderation == model.APPROVED and ida.kind == "like" and ida.avatar
    cached = site.parent / "var" / "avatars" / ida.avatar
    with Image.open(cached) as image:
        assert image.format == "PNG" and image.size == (96, 96)


def form_fields(site: Path) -> tuple[str, dict[str, str]]:
    """The comment form of a built post page, as a browser would send it."""
    from bs4 import BeautifulSoup

    page = site.parent / "output/posts/2026/aube-six-mois-apres/index.html"
    form = BeautifulSoup(page.read_text(encoding="utf-8"), "html5lib").find(
        "form", method="post"
    )
    assert form is not None, "no comment form on the post page"
    fields = {
        str(i["name"]): str(i.get("value", ""))
        for i in form.find_all(["input", "textarea"])
        if i.get("name")
    }
    return str(form["action"]), fields


def test_the_comment_form_stores_a_pending_reply(
    receiver: Receiver, store: Store, site: Path
) -> None:
    action, fields = form_fields(site)
    assert action == "http://127.0.0.1:8081/comment"  # the configured service_url
    assert fields["target"] == OTHER_POST and fields["lang"] == "fr"
    fields.update(
        name="Zoé <b>Durand</b>",
        website="https://zoe.example/",
        comment="Très utile.\n\n<script>alert(1)</script>",
    )
    answer = requests.post(receiver.url + "/comment", data=fields, timeout=10)
    assert (
        answer.status_code == 201
        and "Merci" in answer.text
        and "relecture" in answer.text
    )
    (zoe,) = [
        m
        for m in store.list_mentions()
        if m.origin == model.FORM and m.author_url == "https://zoe.example/"
    ]
    assert (zoe.verification, zoe.moderation, zoe.kind) == (
        model.VERIFIED,
        model.PENDING,
        "reply",
    )
    assert (
        zoe.content_html
        and "<script>" not in zoe.content_html
        and "&lt;script&gt;" in zoe.content_html
    )
    assert zoe.author_name and "<b>" not in zoe.author_name


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"name": ""}, 400, "indiquez votre nom"),
        ({"comment": "  "}, 400, "écrivez un commentaire"),
        ({"website": "javascript:alert(1)"}, 400, "http:// ou https://"),
        ({"target": f"{SITEURL}/nope/"}, 400, "ce billet n’existe pas"),
        ({"honeypot": "https://spam.example"}, 200, "Merci"),
    ],
)
def test_the_comment_form_refuses_bad_input(
    receiver: Receiver,
    store: Store,
    site: Path,
    change: dict[str, str],
    status: int,
    message: str,
) -> None:
    _action, fields = form_fields(site)
    fields.update({"name": "Paul", "comment": "Un avis.", **change})
    before = len(store.list_mentions())
    answer = requests.post(receiver.url + "/comment", data=fields, timeout=10)
    assert answer.status_code == status and message in answer.text
    assert len(store.list_mentions()) == before  # nothing stored, even for the bot


# --- the allow list trusts only verified identities (issue 13 item 2) ------

FRIEND, STRANGER = "127.0.0.3", "127.0.0.4"  # the allowed host, another one


@pytest.fixture(scope="module")
def allow_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Receiver, Store, SourceServer, SourceServer]]:
    """A receiver whose moderators always allow FRIEND (and nothing else)."""
    settings = write_site(
        tmp_path_factory.mktemp("allow-site"),
        fetch_allow_networks=[f"{FRIEND}/32", f"{STRANGER}/32"],
    )
    built = run_publish("--settings", str(settings), "build", cwd=settings.parent)
    assert built.returncode == 0, built.stderr
    store = Store.open(f"sqlite:///{settings.parent / 'var' / 'mentions.sqlite3'}")
    store.set_domain_policy(FRIEND, "allow")
    friend, stranger = SourceServer(FRIEND), SourceServer(STRANGER)
    receiver = Receiver(settings).start()
    yield receiver, store, friend, stranger
    receiver.stop()
    friend.close()
    stranger.close()


def test_a_verified_source_on_an_allowed_domain_is_approved(
    allow_site: tuple[Receiver, Store, SourceServer, SourceServer],
) -> None:
    receiver, store, friend, _stranger = allow_site
    url = friend.reply("/friend-reply", POST, "Une amie fidèle")
    mention = settled(store, accepted_id(receiver.send(url, POST)), receiver)
    assert (mention.verification, mention.moderation) == (
        model.VERIFIED,
        model.APPROVED,
    )


def test_a_form_website_on_an_allowed_domain_is_not_approved(
    allow_site: tuple[Receiver, Store, SourceServer, SourceServer],
) -> None:
    receiver, store, friend, _stranger = allow_site
    _action, fields = form_fields(receiver.settings)
    fields.update(
        name="Imposteur", website=friend.url("/"), comment="Faites-moi confiance."
    )
    answer = requests.post(receiver.url + "/comment", data=fields, timeout=10)
    assert answer.status_code == 201 and "relecture" in answer.text
    (comment,) = [
        m
        for m in store.list_mentions()
        if m.origin == model.FORM and m.author_name == "Imposteur"
    ]
    assert comment.moderation == model.PENDING
    assert model.domain_of(comment.author_url) == FRIEND


def test_a_source_redirected_off_an_allowed_domain_is_judged_by_the_final_host(
    allow_site: tuple[Receiver, Store, SourceServer, SourceServer],
) -> None:
    receiver, store, friend, stranger = allow_site
    final = stranger.reply("/not-a-friend", POST, "Contenu d’un inconnu", "Mallory")
    friend.pages["/hop"] = Page("", 302, headers={"Location": final})
    mention = settled(
        store, accepted_id(receiver.send(friend.url("/hop"), POST)), receiver
    )
    assert (mention.verification, mention.moderation) == (
        model.VERIFIED,
        model.PENDING,
    )
    # Shown, and moderated, under the host the content came from.
    assert mention.url == final and mention.source_domain == STRANGER
    assert mention.source == friend.url("/hop")


def test_a_source_redirected_onto_an_allowed_domain_is_approved(
    allow_site: tuple[Receiver, Store, SourceServer, SourceServer],
) -> None:
    receiver, store, friend, stranger = allow_site
    final = friend.reply("/friend-page", POST, "Vraiment de moi")
    stranger.pages["/to-friend"] = Page("", 301, headers={"Location": final})
    mention = settled(
        store, accepted_id(receiver.send(stranger.url("/to-friend"), POST)), receiver
    )
    assert mention.moderation == model.APPROVED
    assert mention.url == final and mention.source_domain == FRIEND


# --- URLs no one writes, and log lines no one can forge (issue 13 item 6) ----


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"source=https%3A%2F%2Fa.example%2Fr%00&target={t}", "control characters"),
        (b"source=https%3A%2F%2Fa.example%2F%1B%5B2J&target={t}", "control characters"),
        (b"source=https%3A%2F%2Fa.example%2F%07&target={t}", "control characters"),
        (b"source=https%3A%2F%2Fa.example%2F%7F&target={t}", "control characters"),
        (b"source=https%3A%2F%2Fa.example%2Fa%0D%0Ab&target={t}", "control characters"),
        (b"source=https://a.example/\xff\xfe&target={t}", "not valid UTF-8"),
        (b"source=https%3A%2F%2Fa.example%2F%C3%28&target={t}", "not valid UTF-8"),
        (b"source=https%3A%2F%2F%25ff.example%2F&target={t}", "not a host name"),
        (b"source=https%3A%2F%2Fa.example%3A65536%2F&target={t}", "invalid port"),
        (b"source=https%3A%2F%2Fa.example%3Ahttp%2F&target={t}", "invalid port"),
        (b"source=https%3A%2F%2Fa.example%2Fr&target={t}%00", "control characters"),
    ],
)
def test_urls_with_controls_bad_utf8_or_bad_ports_get_400(
    receiver: Receiver, store: Store, body: bytes, reason: str
) -> None:
    before = len(store.list_mentions())
    answer = requests.post(
        receiver.endpoint,
        data=body.replace(b"{t}", POST.encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    assert reason in answer.text
    assert len(store.list_mentions()) == before


def test_a_multipart_request_is_checked_the_same(receiver: Receiver) -> None:
    # Not form-encoded: the slow path (Werkzeug's parser) reads it.
    answer = requests.post(
        receiver.endpoint,
        files={
            "source": (None, "https://a.example/\x1b]0;owned\x07"),
            "target": (None, POST),
        },
        timeout=10,
    )
    assert answer.status_code == 400 and "control characters" in answer.text


def test_log_lines_escape_what_the_sender_wrote(
    receiver: Receiver, store: Store
) -> None:
    # A refused source with terminal escapes, and an accepted one with a
    # bidi override (printable to a browser, not to a terminal): neither
    # reaches the log as written; both are readable there, escaped.
    refused = "https://evil.example/\x1b[2J\x1b[31mFAKE LINE\x07"
    answer = requests.post(
        receiver.endpoint, data={"source": refused, "target": POST}, timeout=10
    )
    assert answer.status_code == 400
    accepted = accepted_id(receiver.send("https://evil.example/\u202egnp.exe", POST))

    def log() -> str:
        return receiver.log.read_bytes().decode("utf-8")

    wait_until(lambda: f"webmention {accepted} queued" in log(), 10, receiver.describe)
    text = log()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    (refusal,) = [line for line in text.splitlines() if "FAKE LINE" in line]
    assert r"source='https://evil.example/\x1b[2J\x1b[31mFAKE LINE\x07'" in refusal
    (queued,) = [
        line for line in text.splitlines() if f"webmention {accepted} queued" in line
    ]
    assert r"queued: https://evil.example/\u202egnp.exe -> " in queued
