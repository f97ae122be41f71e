"""/admin in a real browser: headless Chromium against `publish mentions serve`.

The other admin tests use a scripted client that sets Origin itself; only a
browser shows what a moderator's browser really sends (a Referrer-Policy of
no-referrer made it send "Origin: null", and every POST was refused).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from receiver_kit import POST, Receiver, write_site
from test_browser import AXE_RUN, AXE_TAGS, axe_source, driver  # noqa: F401

from webmentions import model
from webmentions.store import Store, Target

pytestmark = pytest.mark.browser

SECRET = "a moderator's long secret"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Store]]:
    receiver = Receiver(tmp_path / "pelicanconf.py", {"CAUSERIE_ADMIN_SECRET": SECRET})
    # The Origin check compares with service_url: the receiver's own address.
    write_site(tmp_path, service_url=receiver.url)
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


def _axe(driver: Any, source: str) -> None:  # noqa: F811
    driver.execute_script(source)
    result = json.loads(driver.execute_async_script(AXE_RUN, AXE_TAGS))
    assert not isinstance(result, dict), f"axe failed: {result['error']}"
    assert not result, f"axe on {driver.current_url}: {result}"


def _click(
    driver: Any,  # noqa: F811
    label: str,
    about: str | None = None,
) -> None:
    """Click the page's own button ``label`` (for the item ``about``)."""
    from selenium.webdriver.common.by import By

    xpath = f"//button[normalize-space()={label!r}]"
    if about:
        xpath = f"//button[normalize-space()={label!r} and @aria-describedby={about!r}]"
    driver.find_element(By.XPATH, xpath).click()


def _status(driver: Any) -> str:  # noqa: F811
    from selenium.webdriver.common.by import By

    assert "/admin" in driver.current_url, driver.page_source
    return str(driver.find_element(By.CSS_SELECTOR, "[role=status]").text)


def test_a_moderator_uses_admin_in_chromium(
    driver: Any,  # noqa: F811
    axe_source: str,  # noqa: F811
    receiver: tuple[Receiver, Store],
) -> None:
    from selenium.webdriver.common.by import By

    server, store = receiver
    driver.get(server.url + "/admin")
    assert driver.current_url.endswith("/admin/login")
    _axe(driver, axe_source)
    driver.find_element(By.ID, "secret").send_keys(SECRET)
    _click(driver, "Log in")
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
