"""The comment form in a real browser: a built post page under the theme's
Content-Security-Policy, posting to a running `publish mentions serve`.

Issue 13 item 10: the error page lost what the reader had typed and had no
way back to the post.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from browser_kit import axe_violations
from conftest import run_publish, stop_process
from receiver_kit import POST, Receiver, free_port, wait_until, write_site

from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store

pytestmark = pytest.mark.browser

PAGE = "posts/2025/nos-clients-parlent-plus-fort/"


@dataclass
class Setup:
    site: str  # where the built pages are served
    receiver: Receiver
    store: Store


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("form-site")
    receiver = Receiver(root / "pelicanconf.py")
    # The pages' form posts to the receiver, which the theme's CSP must allow.
    settings = write_site(root, service_url=receiver.url)
    built = run_publish("--settings", str(settings), "build", cwd=root)
    assert built.returncode == 0, built.stderr
    port = free_port()
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=root / "output",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site = f"http://127.0.0.1:{port}"
    receiver.start()
    try:
        wait_until(lambda: requests.get(site + "/", timeout=2).ok, 15)
        store = Store.open(f"sqlite:///{root / 'var' / 'mentions.sqlite3'}")
        yield Setup(site, receiver, store)
    finally:
        receiver.stop()
        stop_process(files)


def _submit(driver: Any, label: str) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    button = driver.find_element(By.XPATH, f"//button[normalize-space()={label!r}]")
    button.click()

    def gone(_driver: Any) -> bool:
        try:
            button.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(driver, 20).until(gone)


def test_a_refused_comment_keeps_the_text_and_links_back(
    driver: Any, axe_source: str, setup: Setup
) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{setup.site}/{PAGE}")
    policy = driver.find_element(
        By.CSS_SELECTOR, 'meta[http-equiv="Content-Security-Policy"]'
    ).get_attribute("content")
    assert f"form-action 'self' {setup.receiver.url}/comment" in policy
    comment = "Un long avis,\n\nécrit avec soin <b>et</b> sur deux paragraphes."
    driver.find_element(By.ID, "comment-name").send_keys("Paul")
    # A URL the browser accepts (type=url) and the service refuses.
    driver.find_element(By.ID, "comment-website").send_keys("ftp://paul.example/")
    driver.find_element(By.ID, "comment-text").send_keys(comment)
    _submit(driver, "Envoyer le commentaire")

    assert driver.current_url == setup.receiver.url + "/comment"
    assert driver.title == "Commentaire non envoyé"
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "http:// ou https://" in alert
    # Everything typed is there to fix, nothing lost.
    assert driver.find_element(By.ID, "comment-name").get_attribute("value") == "Paul"
    website = driver.find_element(By.ID, "comment-website")
    assert website.get_attribute("value") == "ftp://paul.example/"
    text = driver.find_element(By.ID, "comment-text").get_attribute("value")
    assert text == comment
    back = driver.find_element(By.LINK_TEXT, "Retour au billet")
    assert back.get_attribute("href") == POST + "#comments"
    violations = axe_violations(driver, axe_source)
    assert not violations, violations
    # The form's post was not refused by the CSP (Chromium logs each
    # violation; the pages' own files come from SITEURL, blog.test here,
    # so only form-action is looked at).
    errors = [
        entry["message"]
        for entry in driver.get_log("browser")
        if "form-action" in entry["message"]
    ]
    assert not errors, errors

    # Fixed on the error page and sent again: stored with the full text.
    before = len(setup.store.list_mentions())
    website.clear()
    _submit(driver, "Envoyer le commentaire")
    assert driver.title == "Merci !"
    stored = setup.store.list_mentions()
    assert len(stored) == before + 1
    mention = stored[0]
    assert mention.origin == model.FORM and mention.author_name == "Paul"
    # (A form sends line breaks as CRLF, HTML §4.10.21.8.)
    assert (mention.content_text or "").replace("\r\n", "\n") == comment
