"""The moderation pages, served over real HTTP and driven like a browser would."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import requests
from bs4 import BeautifulSoup
from werkzeug.serving import make_server

from causerie.webmentions import model
from causerie.webmentions.receiver.app import Service, create_app
from causerie.webmentions.receiver.login_throttle import LoginThrottle
from causerie.webmentions.receiver.request_checks import RateLimiter
from causerie.webmentions.settings import WebmentionSettings
from causerie.webmentions.store.mention_store import Store, Target

SECRET = "correct horse battery staple"
T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SITE = "https://blog.example"
POST = f"{SITE}/posts/2026/aube/"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Admin:
    """A running service with its store, and what its hook was asked to do."""

    base: str
    service: Service
    store: Store
    clock: Clock
    rebuilds: list[str] = field(default_factory=list)

    def login(self, secret: str = SECRET) -> requests.Session:
        session = requests.Session()
        answer = session.post(
            self.base + "/admin/login", data={"secret": secret}, allow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        return session

    def page(self, session: requests.Session) -> Any:
        answer = session.get(self.base + "/admin", allow_redirects=False)
        assert answer.status_code == 200, answer.text
        return parse(answer.text)

    def submit(
        self,
        session: requests.Session,
        action: str,
        domain: str | None = None,
        overrides: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send the form of the page whose action is ``action``, as a browser would."""
        for form in self.page(session).find_all("form", action=action):
            fields: dict[str, str] = {
                i["name"]: i.get("value", "") for i in form.find_all("input")
            }
            if domain is None or fields.get("domain") == domain:
                return session.post(
                    self.base + action,
                    data={**fields, **(overrides or {})},
                    allow_redirects=False,
                )
        raise AssertionError(f"no form posting to {action} (domain {domain})")


def parse(markup: str) -> Any:
    """The page as BeautifulSoup (typed Any: bs4's Tag | None unions would
    need an assert on every line of these tests)."""
    return BeautifulSoup(markup, "html.parser")


def serve(service: Service, proxies: int = 0) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(service, proxies), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    # The Origin check compares with the service's public address: this one.
    service.settings = replace(service.settings, service_url=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)


def make_service(store: Store, clock: Clock, **overrides: Any) -> Service:
    values: dict[str, Any] = {
        "store": store,
        "settings": WebmentionSettings(),
        "limiter": RateLimiter(1000),
        "admin_secret": SECRET,
        "clock": clock,
        **overrides,
    }
    return Service(**values)


@pytest.fixture
def admin(store_url: str, tmp_path: Path) -> Iterator[Admin]:
    clock = Clock()
    store = Store.open(store_url, clock)
    store.replace_targets(SITE, [Target(POST, "L’aube <des> lampes", None, "fr")])
    rebuilds: list[str] = []
    service = make_service(store, clock, on_approve=lambda: rebuilds.append("rebuild"))
    service.avatars_dir = tmp_path / "avatars"
    for base in serve(service):
        yield Admin(base, service, store, clock, rebuilds)


def reply(store: Store, source: str, **data: Any) -> int:
    values = {
        "kind": "reply",
        "author_name": "Alice",
        "author_url": "https://alice.example/",
        "content_text": "Bravo !",
        **data,
    }
    return store.add_verified(source, POST, model.WEBMENTION, values)


# --- logging in --------------------------------------------------------------


def test_without_a_secret_every_admin_page_is_off(store_url: str) -> None:
    store = Store.open(store_url)
    for base in serve(make_service(store, Clock(), admin_secret=None)):
        for method, path in [
            ("GET", "/admin"),
            ("GET", "/admin/login"),
            ("POST", "/admin/login"),
            ("POST", "/admin/mentions/1/approve"),
            ("POST", "/admin/domains/block"),
        ]:
            answer = requests.request(method, base + path, allow_redirects=False)
            assert answer.status_code == 503
            assert "set CAUSERIE_ADMIN_SECRET" in answer.text


def test_no_session_redirects_to_the_login_form(admin: Admin) -> None:
    answer = requests.get(admin.base + "/admin", allow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/admin/login")
    form = parse(requests.get(admin.base + "/admin/login").text)
    field = form.find("input", attrs={"type": "password"})
    assert field is not None and form.find("label", attrs={"for": field["id"]})


def test_a_wrong_secret_is_refused(admin: Admin) -> None:
    session = requests.Session()
    answer = session.post(
        admin.base + "/admin/login", data={"secret": "guess"}, allow_redirects=False
    )
    assert answer.status_code == 403
    assert "name and secret do not match" in answer.text
    assert not session.cookies
    assert session.get(admin.base + "/admin", allow_redirects=False).status_code == 303


def test_the_right_secret_gives_a_strict_session_cookie(admin: Admin) -> None:
    answer = requests.post(
        admin.base + "/admin/login", data={"secret": SECRET}, allow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/admin")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/admin" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # the service is on http here
    session = requests.Session()
    session.cookies.update(answer.cookies)
    assert admin.page(session).h1 is not None


def test_the_cookie_is_secure_behind_https(store_url: str) -> None:
    clock = Clock()
    service = make_service(Store.open(store_url), clock)
    for base in serve(service):
        service.settings = replace(service.settings, service_url="https://blog.example")
        answer = requests.post(
            base + "/admin/login", data={"secret": SECRET}, allow_redirects=False
        )
        assert "Secure" in answer.headers["Set-Cookie"]


def test_a_session_expires_after_12_hours(admin: Admin) -> None:
    session = admin.login()
    admin.clock.now += dt.timedelta(hours=11, minutes=59)
    assert session.get(admin.base + "/admin", allow_redirects=False).status_code == 200
    admin.clock.now += dt.timedelta(minutes=2)
    assert session.get(admin.base + "/admin", allow_redirects=False).status_code == 303


def test_log_out_ends_the_session(admin: Admin) -> None:
    session = admin.login()
    stolen = session.cookies.copy()
    answer = admin.submit(session, "/admin/logout")
    assert answer.status_code == 303 and "loggedout" in answer.headers["Location"]
    assert session.get(admin.base + "/admin", allow_redirects=False).status_code == 303
    # A copy of the cookie taken before is refused too.
    copy = requests.Session()
    copy.cookies.update(stolen)
    assert copy.get(admin.base + "/admin", allow_redirects=False).status_code == 303


class Ticks:
    """A monotonic clock the test moves (the throttle's window)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _log_in_from(
    base: str,
    address: str,
    secret: str,
    session: requests.Session | None = None,
) -> requests.Response:
    """A log-in as relayed by the one proxy in front (X-Forwarded-For)."""
    return (session or requests.Session()).post(
        base + "/admin/login",
        data={"secret": secret},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
    )


def test_failures_from_one_address_wait_longer_but_the_right_secret_gets_in(
    store_url: str,
) -> None:
    ticks = Ticks()
    throttle = LoginThrottle(per_address=3, global_failures=100, clock=ticks)
    service = make_service(Store.open(store_url), Clock(), login_throttle=throttle)
    for base in serve(service, proxies=1):
        answers = []
        for _ in range(6):
            answers.append(_log_in_from(base, "198.51.100.7", "guess"))
            ticks.now += int(answers[-1].headers.get("Retry-After", 0))
        assert [a.status_code for a in answers] == [403, 403, 403, 429, 429, 429]
        # A doubling delay, said in the header and on the page.
        assert [a.headers.get("Retry-After") for a in answers[3:]] == ["1", "2", "4"]
        assert "Wait 4 seconds" in answers[5].text
        # Within the delay nothing is tried, the right secret no more than a
        # wrong one (the same answer: nothing is learnt)...
        ticks.now -= 3
        early_right = _log_in_from(base, "198.51.100.7", SECRET)
        early_wrong = _log_in_from(base, "198.51.100.7", "guess")
        assert early_right.status_code == early_wrong.status_code == 429
        assert early_right.text == early_wrong.text
        assert early_right.headers["Retry-After"] == "3"
        # ... and once it has passed, the right secret from that same address
        # gets in: whoever shares the address (an office, a proxy) is
        # delayed, never locked out.
        ticks.now += 3
        assert _log_in_from(base, "198.51.100.7", SECRET).status_code == 303
        # ... and it clears that address's count.
        assert _log_in_from(base, "198.51.100.7", "guess").status_code == 403
        # Other addresses were never slowed down.
        assert _log_in_from(base, "203.0.113.9", "guess").status_code == 403


def test_a_flood_from_one_address_never_reaches_the_global_cap(store_url: str) -> None:
    ticks = Ticks()
    throttle = LoginThrottle(per_address=3, global_failures=10, window=900, clock=ticks)
    service = make_service(Store.open(store_url), Clock(), login_throttle=throttle)
    for base in serve(service, proxies=1):
        # 200 guesses as fast as it can: after 3, the address waits, and what
        # it sends while waiting is neither tried nor counted.
        codes = [
            _log_in_from(base, "198.51.100.66", "guess").status_code for _ in range(200)
        ]
        assert codes[:3] == [403, 403, 403] and set(codes[3:]) == {429}
        # Someone else, in a browser that never logged in, is not locked out.
        assert _log_in_from(base, "203.0.113.9", SECRET).status_code == 303


def test_past_the_global_cap_only_known_browsers_get_in(store_url: str) -> None:
    ticks = Ticks()
    throttle = LoginThrottle(per_address=2, global_failures=4, window=900, clock=ticks)
    service = make_service(Store.open(store_url), Clock(), login_throttle=throttle)
    for base in serve(service, proxies=1):
        # A moderator's browser logged in once: it holds the device cookie.
        moderator = requests.Session()
        assert _log_in_from(base, "192.0.2.1", SECRET, moderator).status_code == 303
        assert "causerie_admin_device" in moderator.cookies
        moderator.cookies.pop("causerie_admin")
        # Guesses spread over many addresses, one each: no address limit.
        for n in range(4):
            assert _log_in_from(base, f"10.0.0.{n}", "guess").status_code == 403
        # The cap is reached: a new browser gets the same 429 whether its
        # secret is right or wrong, so guessing further teaches nothing.
        wrong = _log_in_from(base, "10.0.1.1", "guess")
        right = _log_in_from(base, "10.0.1.2", SECRET)
        assert wrong.status_code == right.status_code == 429
        assert wrong.text == right.text and "Too many failed log-ins" in right.text
        assert "causerie_admin" not in right.cookies
        assert int(right.headers["Retry-After"]) > 0
        # The moderator's browser, from an address the guesser shares, gets in.
        answer = _log_in_from(base, "10.0.0.1", SECRET, moderator)
        assert answer.status_code == 303 and "causerie_admin" in answer.cookies
        # A forged device cookie is no key.
        forged = requests.Session()
        forged.cookies.set("causerie_admin_device", "9999999999.00.ff")
        assert _log_in_from(base, "10.0.1.3", SECRET, forged).status_code == 429
        # A stolen device cookie allows a few guesses only (its own limit).
        thief = requests.Session()
        thief.cookies.update(moderator.cookies)
        thief.cookies.pop("causerie_admin", None)
        codes = [
            _log_in_from(base, "10.0.2.1", "guess", thief).status_code for _ in range(3)
        ]
        assert codes == [403, 403, 429]
        assert _log_in_from(base, "10.0.2.1", SECRET, thief).status_code == 429
        # Once the failures leave the window, new browsers are answered again.
        ticks.now += 901
        assert _log_in_from(base, "10.0.1.2", SECRET).status_code == 303


def test_the_cookie_is_secure_when_the_public_site_is_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service speaks http behind a TLS proxy; the site is https."""
    from causerie.webmentions.receiver import run as mention_service

    monkeypatch.setenv("CAUSERIE_ADMIN_SECRET", SECRET)
    settings = {
        "SITEURL": "https://blog.example",
        "CAUSERIE_SITE_DIR": str(tmp_path),
        "WEBMENTIONS": {
            "database": f"sqlite:///{tmp_path / 'm.sqlite3'}",
            "service_url": "http://127.0.0.1:8081",
            "notify": False,
        },
    }
    service = mention_service.make_service(settings)
    assert service.site_url == "https://blog.example"
    for base in serve(service):
        answer = requests.post(
            base + "/admin/login", data={"secret": SECRET}, allow_redirects=False
        )
        cookies = answer.raw.headers.getlist("Set-Cookie")
        assert len(cookies) == 2 and all("Secure" in c for c in cookies), cookies


# --- the page ----------------------------------------------------------------


def test_pending_mentions_are_listed_escaped(admin: Admin) -> None:
    admin.clock.now = T0
    older = reply(admin.store, "https://alice.example/old", received_at=T0)
    admin.clock.now = T0 + dt.timedelta(hours=1)
    evil = reply(
        admin.store,
        "https://evil.example/x",
        author_name=SCRIPT + IMG,
        author_url="javascript:alert(1)",
        content_text=f"Hello {SCRIPT} {IMG} " + "long " * 200,
        received_at=T0 + dt.timedelta(hours=1),
    )
    soup = admin.page(admin.login())

    assert soup.find_all("script") == [] and soup.find_all("img") == []
    assert not [
        (tag.name, name)
        for tag in soup.find_all(True)
        for name in tag.attrs
        if name.startswith("on")
    ]
    assert not soup.find_all("a", href=re.compile("^javascript", re.I))
    items = soup.find("ol").find_all("article")
    # Newest first; the text is shown as text.
    assert [a.h3["id"] for a in items] == [f"m{evil}", f"m{older}"]
    assert SCRIPT + IMG in items[0].h3.get_text()
    quote = items[0].blockquote.get_text()
    assert quote.startswith(f"Hello {SCRIPT} {IMG}") and len(quote) <= 300
    # The post's title (escaped too), the source as a link, the received time.
    assert items[1].find("a", string="L’aube <des> lampes")["href"] == POST
    source = items[1].find("a", href="https://alice.example/old")
    assert source is not None and "nofollow" in source["rel"]
    assert items[1].find("time")["datetime"].startswith("2026-11-23T12:00")
    labels = [b.get_text() for b in items[1].find_all("button")]
    assert labels == [
        "Approve",
        "Reject",
        "Approve and always allow alice.example",
        "Block alice.example",
    ]


def test_the_page_forbids_scripts_and_caching(admin: Admin) -> None:
    answer = admin.login().get(admin.base + "/admin")
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"


# --- deciding ------------------------------------------------------------------


def test_approve_through_the_form(admin: Admin) -> None:
    mention_id = reply(admin.store, "https://alice.example/r")
    session = admin.login()
    answer = admin.submit(session, f"/admin/mentions/{mention_id}/approve")
    assert answer.status_code == 303
    found = admin.store.get(mention_id)
    assert found is not None and found.moderation == model.APPROVED
    assert admin.rebuilds == ["rebuild"]
    soup = parse(session.get(admin.base + answer.headers["Location"]).text)
    assert (
        soup.find(attrs={"role": "status"}).get_text()
        == f"Mention {mention_id} approved."
    )
    assert "Nothing is waiting." in soup.get_text()
    # Listed among the decisions, with an undo.
    answer = admin.submit(session, f"/admin/mentions/{mention_id}/pending")
    found = admin.store.get(mention_id)
    assert found is not None and found.moderation == model.PENDING
    assert admin.rebuilds == ["rebuild", "rebuild"]  # no longer shown: rebuild


def test_reject_a_pending_one_needs_no_rebuild(admin: Admin) -> None:
    mention_id = reply(admin.store, "https://alice.example/r")
    admin.submit(admin.login(), f"/admin/mentions/{mention_id}/reject")
    found = admin.store.get(mention_id)
    assert found is not None and found.moderation == model.REJECTED
    assert admin.rebuilds == []


@pytest.mark.parametrize(
    "how",
    ["no token", "token of another session", "foreign origin", "null origin"],
)
def test_forged_posts_are_refused(admin: Admin, how: str) -> None:
    mention_id = reply(admin.store, "https://alice.example/r")
    session = admin.login()
    action = f"/admin/mentions/{mention_id}/approve"
    form = admin.page(session).find("form", action=action)
    token = form.find("input", attrs={"name": "csrf"})["value"]
    data, headers = {"csrf": token}, {}
    if how == "no token":
        data = {}
    elif how == "token of another session":
        other = admin.page(admin.login()).find("form", action=action)
        data = {"csrf": other.find("input", attrs={"name": "csrf"})["value"]}
        assert data["csrf"] != token
    elif how == "foreign origin":
        headers = {"Origin": "https://evil.example"}
    else:
        headers = {"Origin": "null"}
    answer = session.post(
        admin.base + action, data=data, headers=headers, allow_redirects=False
    )
    assert answer.status_code == 403
    assert answer.text.startswith("refused:")
    found = admin.store.get(mention_id)
    assert found is not None and found.moderation == model.PENDING
    # Our own origin is fine.
    ok = session.post(
        admin.base + action,
        data={"csrf": token},
        headers={"Origin": admin.base},
        allow_redirects=False,
    )
    assert ok.status_code == 303


def test_forged_tokens_with_odd_characters_are_refused_not_errors(
    admin: Admin,
) -> None:
    mention_id = reply(admin.store, "https://alice.example/r")
    forged = requests.Session()
    forged.cookies.set("causerie_admin", "9999999999.ab.é", path="/admin")
    assert forged.get(admin.base + "/admin", allow_redirects=False).status_code == 303
    session = admin.login()
    answer = session.post(
        admin.base + f"/admin/mentions/{mention_id}/approve",
        data={"csrf": "é"},
        allow_redirects=False,
    )
    assert answer.status_code == 403


def test_a_post_without_a_session_goes_to_the_login_form(admin: Admin) -> None:
    mention_id = reply(admin.store, "https://alice.example/r")
    answer = requests.post(
        admin.base + f"/admin/mentions/{mention_id}/approve",
        data={"csrf": "x"},
        allow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/login")
    found = admin.store.get(mention_id)
    assert found is not None and found.moderation == model.PENDING


def test_an_unknown_mention_says_so(admin: Admin) -> None:
    reply(admin.store, "https://alice.example/r")
    session = admin.login()
    form = admin.page(session).find("form")
    token = form.find("input", attrs={"name": "csrf"})["value"]
    answer = session.post(
        admin.base + "/admin/mentions/9999/approve", data={"csrf": token}
    )
    assert "There is no mention 9999." in answer.text
    assert admin.rebuilds == []


def test_approve_and_always_allow_a_domain(admin: Admin) -> None:
    first = reply(admin.store, "https://www.alice.example/1")
    second = reply(admin.store, "https://alice.example/2")
    other = reply(
        admin.store, "https://bob.example/1", author_url="https://bob.example/"
    )
    session = admin.login()
    answer = admin.submit(session, "/admin/domains/allow", domain="alice.example")
    assert answer.status_code == 303
    states = {i: admin.store.get(i).moderation for i in (first, second, other)}  # type: ignore[union-attr]
    assert states == {
        first: model.APPROVED,
        second: model.APPROVED,
        other: model.PENDING,
    }
    assert admin.store.domain_policy("alice.example") == "allow"
    assert admin.rebuilds == ["rebuild"]
    page = session.get(admin.base + answer.headers["Location"]).text
    assert "alice.example is always allowed now; 2 pending mention(s) approved." in page


def test_block_a_domain_deletes_its_mentions_and_avatars(admin: Admin) -> None:
    avatars = admin.service.avatars_dir
    assert avatars is not None
    avatars.mkdir()
    (avatars / "spam.png").write_bytes(b"png")
    (avatars / "alice.png").write_bytes(b"png")
    spam = reply(
        admin.store,
        "https://spam.example/1",
        author_url="https://spam.example/",
        avatar="spam.png",
    )
    alice = reply(admin.store, "https://alice.example/1", avatar="alice.png")
    session = admin.login()
    answer = admin.submit(session, "/admin/domains/block", domain="spam.example")
    assert answer.status_code == 303
    assert admin.store.get(spam) is None and admin.store.get(alice) is not None
    assert admin.store.domain_policy("spam.example") == "block"
    assert sorted(p.name for p in avatars.iterdir()) == ["alice.png"]
    assert admin.rebuilds == []  # nothing of spam.example was shown


def test_a_bad_domain_field_is_refused(admin: Admin) -> None:
    reply(admin.store, "https://alice.example/1")
    session = admin.login()
    answer = admin.submit(
        session,
        "/admin/domains/block",
        domain="alice.example",
        overrides={"domain": "a b/c"},
    )
    assert answer.status_code == 400
    assert admin.store.domain_policy("alice.example") is None


def test_decided_and_failed_ones_are_listed(admin: Admin) -> None:
    approved = reply(admin.store, "https://alice.example/1")
    admin.store.moderate(approved, model.APPROVED)
    queued = admin.store.enqueue("https://carol.example/x", POST)
    (claimed,) = admin.store.claim(dt.timedelta(minutes=2))
    assert claimed.id == queued
    admin.store.failed(queued, "the source does not link to <the post>")
    soup = admin.page(admin.login())
    sections = {s.h2.get_text(): s for s in soup.find_all("section")}
    decided = sections["Last decisions"]
    assert decided.find("form", action=f"/admin/mentions/{approved}/pending")
    assert "approved: reply" in decided.get_text()
    failed = sections["Failed verifications"].get_text()
    assert "the source does not link to <the post>" in failed
    assert "https://carol.example/x" in failed


def test_flash_messages_from_the_query_string_are_escaped(admin: Admin) -> None:
    session = admin.login()
    answer = session.get(
        admin.base + "/admin",
        params={"done": "blocked", "domain": SCRIPT},
    )
    soup = parse(answer.text)
    assert soup.find_all("script") == []
    assert soup.find(attrs={"role": "status"}).get_text().startswith(SCRIPT)


# --- named moderators ----------------------------------------------------------

ALICE, BOB = "alice's long secret", "bob's long secret"


def _moderator(admin: Admin, name: str, secret: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        admin.base + "/admin/login",
        data={"name": name, "secret": secret},
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return session


def test_each_moderator_has_a_secret_and_signs_decisions(admin: Admin) -> None:
    admin.service.moderators.update({"alice": ALICE, "bob": BOB})
    first = reply(admin.store, "https://alice.example/1")
    second = reply(admin.store, "https://b.example/2")
    reply(admin.store, "https://spam.example/3")
    for name, secret in [("alice", BOB), ("nobody", ALICE), ("", ALICE)]:
        answer = requests.post(
            admin.base + "/admin/login",
            data={"name": name, "secret": secret},
            allow_redirects=False,
        )
        assert answer.status_code == 403, (name, answer.text)
    alice = _moderator(admin, "Alice", ALICE)  # names are not case-sensitive
    assert "Logged in as" in admin.page(alice).text
    assert admin.submit(alice, f"/admin/mentions/{first}/approve").status_code == 303
    bob = _moderator(admin, "bob", BOB)
    assert admin.submit(bob, f"/admin/mentions/{second}/reject").status_code == 303
    assert admin.submit(bob, "/admin/domains/block", "spam.example").status_code == 303
    answer = admin.submit(bob, "/admin/domains/unblock", "spam.example")
    assert answer.status_code == 303
    assert admin.submit(bob, f"/admin/mentions/{first}/pending").status_code == 303
    assert admin.store.get(first).decided_by == "bob"  # type: ignore[union-attr]
    log = [
        (d["moderator"], d["action"], d["mention_id"] or d["domain"])
        for d in reversed(admin.store.latest_decisions())
    ]
    assert log == [
        ("alice", "approve", first),
        ("bob", "reject", second),
        ("bob", "block", "spam.example"),
        ("bob", "unblock", "spam.example"),
        ("bob", "undo", first),
    ]
    page = admin.page(alice)
    moderators_log = page.find("h2", string="Moderators’ log").find_parent("section")
    cells = [td.text for td in moderators_log.find_all("td")]
    assert "alice" in cells and "bob" in cells and "approve" in cells


def test_a_session_is_its_moderators_own(admin: Admin) -> None:
    admin.service.moderators.update({"alice": ALICE, "bob": BOB})
    alice = _moderator(admin, "alice", ALICE)
    bob = _moderator(admin, "bob", BOB)
    # A session cookie renamed to another moderator is not theirs.
    token = str(alice.cookies["causerie_admin"])
    expiry, _name, nonce, signature = token.split(".")
    forged = requests.Session()
    forged.cookies.set("causerie_admin", f"{expiry}.bob.{nonce}.{signature}")
    assert forged.get(admin.base + "/admin", allow_redirects=False).status_code == 303
    # A new secret for Alice ends her sessions, not Bob's.
    admin.service.moderators["alice"] = "alice's new secret"
    assert alice.get(admin.base + "/admin", allow_redirects=False).status_code == 303
    assert bob.get(admin.base + "/admin", allow_redirects=False).status_code == 200


def test_moderators_come_from_settings_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from causerie.errors import SettingsError
    from causerie.webmentions.settings import moderator_secrets

    monkeypatch.setenv("CAUSERIE_ADMIN_SECRET", SECRET)
    monkeypatch.setenv("CAUSERIE_MODERATOR_MARIE_CLAIRE_SECRET", ALICE)
    monkeypatch.delenv("CAUSERIE_MODERATOR_BOB_SECRET", raising=False)
    cfg = WebmentionSettings(moderators=("marie-claire", "bob"))
    # Bob has no secret yet: he cannot log in (and the log says what to set).
    assert moderator_secrets(cfg) == {"admin": SECRET, "marie-claire": ALICE}
    for bad in ("Alice", "a b", "admin", "-x", "x" * 33):
        with pytest.raises(SettingsError, match="moderators"):
            WebmentionSettings(moderators=(bad,))


def test_mentions_list_says_who_decided(tmp_path: Path) -> None:
    from conftest import run_publish
    from receiver_kit import POST as SITE_POST
    from receiver_kit import write_site

    settings = write_site(tmp_path)
    (tmp_path / "var").mkdir()
    store = Store.open(f"sqlite:///{tmp_path / 'var' / 'mentions.sqlite3'}")
    store.replace_targets("http://blog.test", [Target(SITE_POST, "Nos clients")])
    values = {"kind": "reply", "author_name": "Alice", "content_text": "Bravo"}
    first = store.add_verified(
        "https://a.example/1", SITE_POST, model.WEBMENTION, values
    )
    second = store.add_verified(
        "https://b.example/2", SITE_POST, model.WEBMENTION, values
    )
    store.moderate(first, model.APPROVED, by="alice")
    done = run_publish(
        "--settings", str(settings), "mentions", "reject", str(second), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    listed = run_publish("--settings", str(settings), "mentions", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "approved by alice" in listed.stdout
    assert "rejected by " in listed.stdout and "(command line)" in listed.stdout


# --- a page a community manager lives in --------------------------------------


def test_every_item_names_its_author(admin: Admin) -> None:
    named = reply(admin.store, "https://alice.example/1")
    plain = reply(
        admin.store,
        "https://www.bob.example/links",
        kind="mention",
        author_name=None,
        author_url=None,
    )
    anonymous = admin.store.add_verified(
        "urn:causerie:form:1",
        POST,
        model.FORM,
        {"kind": "reply", "content_text": "Merci"},
    )
    page = admin.page(admin.login())
    heads = {h["id"]: " ".join(h.text.split()) for h in page.find_all("h3")}
    assert heads[f"m{named}"] == f"reply #{named} by Alice (alice.example)"
    assert heads[f"m{plain}"] == f"mention #{plain} by bob.example"
    assert heads[f"m{anonymous}"] == f"reply #{anonymous} by an anonymous reader"
    assert "someone" not in page.text


def test_an_approved_mention_is_rejected_in_one_step(admin: Admin) -> None:
    mention_id = reply(admin.store, "https://alice.example/1")
    session = admin.login()
    admin.submit(session, f"/admin/mentions/{mention_id}/approve")
    rebuilds = len(admin.rebuilds)
    answer = admin.submit(session, f"/admin/mentions/{mention_id}/reject")
    assert answer.status_code == 303
    assert admin.store.get(mention_id).moderation == model.REJECTED  # type: ignore[union-attr]
    assert len(admin.rebuilds) == rebuilds + 1  # it was shown: the site changes
    # And a rejected one is approved in one step too.
    admin.submit(session, f"/admin/mentions/{mention_id}/approve")
    assert admin.store.get(mention_id).moderation == model.APPROVED  # type: ignore[union-attr]


def test_allowed_domains_are_listed_and_can_stop_being_allowed(admin: Admin) -> None:
    mention_id = reply(admin.store, "https://alice.example/1")
    session = admin.login()
    admin.submit(session, "/admin/domains/allow", "alice.example")
    section = admin.page(session).find("h2", string="Always allowed domains")
    row = section.find_parent("section").find("tbody").find("tr")
    assert "alice.example" in row.text and "admin" in row.text
    answer = admin.submit(session, "/admin/domains/unallow", "alice.example")
    assert "unallowed" in answer.headers["Location"]
    assert admin.store.domain_policy("alice.example") is None
    # What the allow approved stays approved.
    assert admin.store.get(mention_id).moderation == model.APPROVED  # type: ignore[union-attr]
    page = parse(session.get(admin.base + answer.headers["Location"]).text)
    assert "Stop allowing" not in page.text
    assert "alice.example is no longer always allowed" in page.text


def _waiting(store: Store, count: int) -> None:
    """``count`` waiting mentions, in bulk; seven share each second, so page
    boundaries fall inside a run of equal timestamps."""
    from causerie.webmentions.store.schema import mentions

    rows = [
        {
            "source": f"https://s{n}.example/r",
            "target": POST,
            "source_domain": f"s{n}.example",
            "origin": model.WEBMENTION,
            "verification": model.VERIFIED,
            "moderation": model.PENDING,
            "kind": "reply",
            "author_name": f"Reader {n}",
            "received_at": T0 + dt.timedelta(seconds=n // 7),
            "updated_at": T0,
        }
        for n in range(count)
    ]
    with store.engine.begin() as conn:
        conn.execute(mentions.insert(), rows)


def _listed(page: Any) -> list[int]:
    return [int(h["id"][1:]) for h in page.find_all("h3")]


def test_ten_thousand_waiting_mentions_are_paged(admin: Admin) -> None:
    _waiting(admin.store, 10_000)
    session = admin.login()
    first = admin.page(session)
    assert "Waiting for moderation (10000)" in first.text
    assert "Showing 1–50 of 10000" in first.text
    # Newest first: ids 10000, 9999, … (ties on the time broken by id).
    assert _listed(first) == list(range(10_000, 9_950, -1))
    older = first.find("a", string="Older")["href"]
    second = parse(session.get(admin.base + older).text)
    assert "Showing 51–100 of 10000" in second.text
    assert _listed(second) == list(range(9_950, 9_900, -1))
    oldest = parse(session.get(admin.base + "/admin?page=oldest").text)
    assert "Showing 9951–10000 of 10000" in oldest.text
    assert _listed(oldest) == list(range(50, 0, -1))
    assert oldest.find("a", string="Older") is None
    assert oldest.find("a", string="Newest") is not None
    # A cursor from the query string is anyone's: a bad one is page 1.
    for bad in ["x", "1.", "9" * 30 + ".1", "-5.3"]:
        answer = session.get(admin.base + "/admin", params={"older": bad})
        assert answer.status_code == 200
        assert _listed(parse(answer.text))[0] == 10_000


# --- French and English ----------------------------------------------------------


def test_the_pages_speak_the_browsers_language(admin: Admin) -> None:
    reply(admin.store, "https://alice.example/1")
    french = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
    login = requests.get(admin.base + "/admin/login", headers=french)
    page = parse(login.text)
    assert page.html["lang"] == "fr"
    assert page.find("label", attrs={"for": "name"}).text == "Votre nom de modérateur"
    session = requests.Session()
    session.headers.update(french)
    answer = session.post(
        admin.base + "/admin/login", data={"secret": SECRET}, allow_redirects=False
    )
    assert answer.status_code == 303
    page = admin.page(session)
    assert "En attente de modération (1)" in page.text
    assert page.find("h3").text == "réponse n° 1 de Alice (alice.example)"
    answer = admin.submit(session, "/admin/mentions/1/approve")
    done = parse(session.get(admin.base + answer.headers["Location"]).text)
    assert done.find(attrs={"role": "status"}).text == "Mention 1 approuvée."
    wrong = session.post(admin.base + "/admin/login", data={"secret": "x"})
    assert "Ce nom et ce secret ne correspondent pas." in wrong.text
    # An English browser on the same site gets English.
    english = requests.get(
        admin.base + "/admin/login", headers={"Accept-Language": "en-GB"}
    )
    assert parse(english.text).html["lang"] == "en"


def test_without_a_language_we_have_the_site_language_is_used(
    store_url: str,
) -> None:
    service = make_service(Store.open(store_url), Clock(), default_lang="fr")
    for base in serve(service):
        for header in ({}, {"Accept-Language": "de-DE,de;q=0.9"}):
            page = parse(requests.get(base + "/admin/login", headers=header).text)
            assert page.html["lang"] == "fr" and "Modération" in page.title.text


def test_the_french_catalog_is_complete_and_current(tmp_path: Path) -> None:
    """Every string of admin.py is in the template, and translated: a string
    added without `make translations` fails here."""
    import subprocess
    import sys

    from babel.messages.pofile import read_po
    from conftest import ROOT

    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "extract",
            "-F", str(ROOT / "babel-admin.cfg"), "-k", "N_", "-o", str(pot),
            "--no-location", str(ROOT),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fp:
        wanted = {m.id for m in read_po(fp) if m.id}
    po = (
        ROOT
        / "plugins/causerie/webmentions/receiver/translations/fr/LC_MESSAGES/messages.po"
    )
    with po.open("rb") as fp:
        french = {m.id: m.string for m in read_po(fp, locale="fr") if m.id}
    assert wanted, "nothing extracted from admin.py"
    missing = sorted(m for m in wanted if not french.get(m))
    assert not missing, f"untranslated in {po}: {missing} (run make translations)"
    for msgid, text in french.items():  # the same {placeholders} both ways
        assert set(re.findall(r"{\w+}", str(msgid))) == set(
            re.findall(r"{\w+}", str(text))
        ), msgid


def test_the_limits_and_cookies_of_publish_mentions_serve(tmp_path: Path) -> None:
    """The same rules in the real service, read from the site's settings."""
    from receiver_kit import Receiver, write_site

    receiver = Receiver(
        tmp_path / "pelicanconf.py",
        {"CAUSERIE_ADMIN_SECRET": SECRET, "CAUSERIE_MODERATOR_ALICE_SECRET": ALICE},
    )
    write_site(
        tmp_path,
        service_url="https://mentions.blog.example",  # behind a TLS proxy
        moderators=["alice"],
        login_address_failures=2,
    )
    (tmp_path / "var").mkdir()
    receiver.start()
    try:
        url = receiver.url + "/admin/login"
        wrong = [
            requests.post(url, data={"name": "alice", "secret": "guess"}, timeout=10)
            for _ in range(3)
        ]
        assert [a.status_code for a in wrong] == [403, 403, 429]
        assert wrong[2].headers["Retry-After"] == "1"
        time.sleep(1.2)  # the delay: the right secret is tried after it
        right = requests.post(
            url,
            data={"name": "alice", "secret": ALICE},
            allow_redirects=False,
            timeout=10,
        )
        assert right.status_code == 303
        cookies = right.raw.headers.getlist("Set-Cookie")
        assert len(cookies) == 2 and all("Secure" in c for c in cookies), cookies
    finally:
        receiver.stop()
    assert "moderator alice logged in" in receiver.describe()
