"""/admin in a real browser: headless Chromium against `publish mentions serve`.

The other admin tests use a scripted client that sets Origin itself; only a
browser shows what a moderator's browser really sends (a Referrer-Policy of
no-referrer made it send "Origin: null", and every POST was refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_kit import axe_violations
from receiver_kit import POST, Receiver, write_site

from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store, Target

pytestmark = pytest.mark.browser

SECRET = "a moderator's long secret"
ALICE, BOB = "alice's own long secret", "bob's own long secret"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Store]]:
    receiver = Receiver(
        tmp_path / "pelicanconf.py",
        {
            "CAUSERIE_ADMIN_SECRET": SECRET,
            "CAUSERIE_MODERATOR_ALICE_SECRET": ALICE,
            "CAUSERIE_MODERATOR_BOB_SECRET": BOB,
        },
    )
    # The Origin check compares with service_url: the receiver's own address.
    write_site(tmp_path, service_url=receiver.url, moderators=["alice", "bob"])
    (tmp_path / "var").mkdir()
    store = Store.open(f"sqlite:///{tmp_path / 'var' / 'mentions.sqlite3'}")
    store.replace_targets("http://blog.test", [Target(POST, "Nos clients", None, "fr")])
    for n, who in enumerate(["alice", "bob", "carol"]):
        store.add_verified(
            f"https://{who}.example/reply",
            POST,
            model.WEBMENTION,
            {
                "kind": "reply",
                "author_name": who.title(),
                "author_url": f"https://{who}.example/",
                "content_text": f"Réponse {n}",
            },
        )
    receiver.start()
    try:
        yield receiver, store
    finally:
        receiver.stop()


def _axe(driver: Any, source: str) -> None:
    result = axe_violations(driver, source)
    assert not result, f"axe on {driver.current_url}: {result}"


def _replaced(driver: Any, element: Any) -> None:
    """Wait until the page holding ``element`` is replaced by the answer to
    its form, and that answer has loaded."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    def gone(_driver: Any) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # stale, or "does not belong to the document"
            return True
        return False

    wait = WebDriverWait(driver, 20)
    wait.until(gone)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def _click(
    driver: Any,
    label: str,
    about: str | None = None,
) -> None:
    """Click the page's own button ``label`` (for the item ``about``)."""
    from selenium.webdriver.common.by import By

    xpath = f"//button[normalize-space()={label!r}]"
    if about:
        xpath = f"//button[normalize-space()={label!r} and @aria-describedby={about!r}]"
    button = driver.find_element(By.XPATH, xpath)
    button.click()
    _replaced(driver, button)


def _log_in(driver: Any, name: str, secret: str) -> None:
    """Fill the log-in form as a person does: type, then Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = driver.find_element(By.ID, "name")
    field.send_keys(name)
    driver.find_element(By.ID, "secret").send_keys(secret + Keys.ENTER)
    _replaced(driver, field)


def _status(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    assert "/admin" in driver.current_url, driver.page_source
    found = driver.find_elements(By.CSS_SELECTOR, "[role=status]")
    assert found, driver.page_source
    return str(found[0].text)


def test_a_moderator_uses_admin_in_chromium(
    driver: Any,
    axe_source: str,
    receiver: tuple[Receiver, Store],
) -> None:
    from selenium.webdriver.common.by import By

    server, store = receiver
    driver.get(server.url + "/admin")
    assert driver.current_url.endswith("/admin/login")
    _axe(driver, axe_source)
    _log_in(driver, "admin", SECRET)
    body = driver.find_element(By.TAG_NAME, "body").text
    assert driver.current_url.endswith("/admin"), body
    assert "Waiting for moderation (3)" in body, body
    _axe(driver, axe_source)

    _click(driver, "Approve", "m1")
    assert "Mention 1 approved." in _status(driver)
    assert store.get(1).moderation == model.APPROVED  # type: ignore[union-attr]
    _click(driver, "Reject", "m2")
    assert "Mention 2 rejected." in _status(driver)
    assert store.get(2).moderation == model.REJECTED  # type: ignore[union-attr]
    _click(driver, "Block carol.example", "m3")
    assert "carol.example is blocked" in _status(driver)
    assert store.domain_policy("carol.example") == "block"
    _axe(driver, axe_source)
    _click(driver, "Unblock")
    assert "carol.example is no longer blocked" in _status(driver)
    assert store.domain_policy("carol.example") is None
    _click(driver, "Undo", "d2")
    assert "Mention 2 is pending again." in _status(driver)
    assert store.get(2).moderation == model.PENDING  # type: ignore[union-attr]
    _axe(driver, axe_source)
    _click(driver, "Log out")
    assert "Logged out." in _status(driver)
    _axe(driver, axe_source)


def test_two_moderators_each_see_who_decided(
    driver: Any,
    axe_source: str,
    receiver: tuple[Receiver, Store],
) -> None:
    from selenium.webdriver.common.by import By

    server, store = receiver
    driver.delete_all_cookies()
    driver.get(server.url + "/admin/login")
    # Bob's name with Alice's secret is no key.
    _log_in(driver, "bob", ALICE)
    assert "do not match" in driver.find_element(By.TAG_NAME, "body").text
    _log_in(driver, "alice", ALICE)
    assert driver.current_url.endswith("/admin"), driver.page_source
    assert "Logged in as alice" in driver.find_element(By.TAG_NAME, "body").text
    _click(driver, "Approve", "m1")
    assert "Mention 1 approved." in _status(driver)
    _click(driver, "Log out")

    driver.get(server.url + "/admin/login")
    _log_in(driver, "bob", BOB)
    _click(driver, "Reject", "m2")
    assert "Mention 2 rejected." in _status(driver)
    _click(driver, "Block carol.example", "m3")
    _click(driver, "Unblock")
    _click(driver, "Undo", "d1")
    assert "Mention 1 is pending again." in _status(driver)
    _axe(driver, axe_source)

    assert store.get(2).decided_by == "bob"  # type: ignore[union-attr]
    assert store.get(1).decided_by == "bob"  # type: ignore[union-attr]
    log = [
        (d["moderator"], d["action"], d["mention_id"] or d["domain"])
        for d in reversed(store.latest_decisions())
    ]
    assert log == [
        ("alice", "approve", 1),
        ("bob", "reject", 2),
        ("bob", "block", "carol.example"),
        ("bob", "unblock", "carol.example"),
        ("bob", "undo", 1),
    ]
    # The page says it too: the decisions table and the moderators' log.
    rows = [
        row.text for row in driver.find_elements(By.CSS_SELECTOR, "section tbody tr")
    ]
    assert any("rejected" in r and "bob" in r for r in rows), rows
    assert any("alice" in r and "approve" in r and "mention #1" in r for r in rows), (
        rows
    )


def test_every_admin_page_passes_axe_and_works_from_the_keyboard(
    driver: Any,
    axe_source: str,
    receiver: tuple[Receiver, Store],
) -> None:
    import datetime as dt

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from causerie.webmentions.store.schema import mentions

    server, store = receiver
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with store.engine.begin() as conn:  # enough waiting ones for three pages
        conn.execute(
            mentions.insert(),
            [
                {
                    "source": f"https://r{n}.example/p",
                    "target": POST,
                    "source_domain": f"r{n}.example",
                    "origin": model.WEBMENTION,
                    "verification": model.VERIFIED,
                    "moderation": model.PENDING,
                    "kind": "mention",
                    "received_at": t0 + dt.timedelta(minutes=n),
                    "updated_at": t0,
                }
                for n in range(120)
            ],
        )
    driver.delete_all_cookies()
    driver.get(server.url + "/admin/login")
    _log_in(driver, "alice", "not her secret")
    assert "do not match" in driver.find_element(By.TAG_NAME, "body").text
    _axe(driver, axe_source)  # the refusal page
    _log_in(driver, "alice", ALICE)
    _axe(driver, axe_source)
    _click(driver, "Approve", "m1")
    _axe(driver, axe_source)  # with a message, a decision and the log
    for label in ("Older", "Oldest", "Newest"):
        link = driver.find_element(By.LINK_TEXT, label)
        link.click()
        _replaced(driver, link)
        assert "Showing" in driver.find_element(By.TAG_NAME, "body").text
        _axe(driver, axe_source)

    # The keyboard alone: Tab through the page to "Reject" for mention 2.
    driver.get(server.url + "/admin")  # mention 2 is among the newest
    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(200):
        body = driver.switch_to.active_element
        if (
            body.tag_name == "button"
            and body.text == "Reject"
            and body.get_attribute("aria-describedby") == "m2"
        ):
            break
        body.send_keys(Keys.TAB)
    else:
        raise AssertionError("Tab never reached Reject for mention 2")
    outline = driver.execute_script(
        "return getComputedStyle(arguments[0]).outlineStyle", body
    )
    assert outline != "none", "the focused button shows no focus ring"
    body.send_keys(Keys.ENTER)
    _replaced(driver, body)
    assert "Mention 2 rejected." in _status(driver)
    assert store.get(2).moderation == model.REJECTED  # type: ignore[union-attr]
    _click(driver, "Log out")
    _axe(driver, axe_source)


def test_a_french_browser_gets_french_pages(
    tmp_path_factory: pytest.TempPathFactory,
    axe_source: str,
    receiver: tuple[Receiver, Store],
) -> None:
    from browser_kit import new_driver
    from selenium.webdriver.common.by import By

    server, store = receiver
    french = new_driver(tmp_path_factory.mktemp("chromium-fr"), "fr-FR,fr")
    try:
        french.get(server.url + "/admin")
        assert french.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        assert "Votre nom de modérateur" in french.page_source
        _axe(french, axe_source)
        _log_in(french, "bob", BOB)
        body = french.find_element(By.TAG_NAME, "body").text
        assert "En attente de modération (3)" in body, body
        _click(french, "Approuver", "m1")
        assert _status(french) == "Mention 1 approuvée."
        assert store.get(1).decided_by == "bob"  # type: ignore[union-attr]
        _axe(french, axe_source)
        _click(french, "Se déconnecter")
        assert _status(french) == "Déconnecté."
    finally:
        french.quit()
