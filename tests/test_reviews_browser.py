"""The form's rating in a real browser (issue 15): a post that takes reviews
offers a radio group with words, usable with the keyboard alone, no script,
axe finds nothing; the rated comment is stored as a review."""

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
from receiver_kit import Receiver, free_port, wait_until, write_site

from causerie.webmentions import model
from causerie.webmentions.store.mention_store import Store

pytestmark = pytest.mark.browser


def _send(driver: Any) -> None:
    """Send the form as a keyboard user does: Enter in its name field
    (implicit submission, HTML §4.10.21.2); wait for the answer page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    driver.find_element(By.ID, "comment-name").send_keys(Keys.ENTER)
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/comment"))


PAGE = "posts/2025/nos-clients-parlent-plus-fort/"  # category Conversation
OTHER = "posts/2026/aube-six-mois-apres/"


@dataclass
class Setup:
    site: str
    receiver: Receiver
    store: Store


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("rating-site")
    receiver = Receiver(root / "pelicanconf.py")
    settings = write_site(root, service_url=receiver.url, reviews=["Conversation"])
    # Built for the address it is served on, so that its stylesheet loads
    # (axe judges the page as a visitor gets it: target sizes, contrast).
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    with settings.open("a", encoding="utf-8") as conf:
        conf.write(f"SITEURL = {site!r}\nFEED_DOMAIN = SITEURL\n")
    built = run_publish("--settings", str(settings), "build", cwd=root)
    assert built.returncode == 0, built.stderr
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=root / "output",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    receiver.start()
    try:
        wait_until(lambda: requests.get(site + "/", timeout=2).ok, 15)
        store = Store.open(f"sqlite:///{root / 'var' / 'mentions.sqlite3'}")
        yield Setup(site, receiver, store)
    finally:
        receiver.stop()
        stop_process(files)


def test_a_reader_rates_with_the_keyboard_and_the_review_is_stored(
    driver: Any, axe_source: str, setup: Setup
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{setup.site}/{PAGE}")
    group = driver.find_element(By.CSS_SELECTOR, "fieldset.rating-field")
    legend = group.find_element(By.TAG_NAME, "legend").text
    assert legend == "Votre note (facultatif)"
    radios = group.find_elements(By.CSS_SELECTOR, "input[type=radio]")
    labels = [
        driver.find_element(By.CSS_SELECTOR, f"label[for={r.get_attribute('id')}]").text
        for r in radios
    ]
    assert labels == [
        "Pas de note",
        "1 étoile sur 5",
        "2 étoiles sur 5",
        "3 étoiles sur 5",
        "4 étoiles sur 5",
        "5 étoiles sur 5",
    ]
    assert radios[0].is_selected()  # no rating unless the reader gives one
    violations = axe_violations(driver, axe_source)
    assert not violations, violations

    # The browser's own radio-group behaviour: one tab stop, arrows move.
    driver.execute_script("arguments[0].focus()", radios[0])
    ActionChains(driver).send_keys(Keys.ARROW_DOWN * 4).perform()
    assert driver.switch_to.active_element == radios[4]
    assert [r.is_selected() for r in radios] == [False] * 4 + [True, False]
    # A click on the words chooses too (the label is tied to its radio).
    for choice in ("rating-5", "rating-4"):
        label = driver.find_element(By.CSS_SELECTOR, f"label[for={choice}]")
        # (Activation through the label, the browser's own behaviour.)
        driver.execute_script("arguments[0].click()", label)
    assert radios[4].is_selected()

    driver.find_element(By.ID, "comment-name").send_keys("Inès")
    driver.find_element(By.ID, "comment-text").send_keys("Lue et approuvée.")
    _send(driver)
    assert driver.title == "Merci !"
    mention = setup.store.list_mentions()[0]
    assert mention.origin == model.FORM and mention.kind == "review"
    assert (mention.rating, mention.rating_best, mention.rating_worst) == (4, 5, 1)
    assert mention.target == f"{setup.site}/{PAGE}"


def test_a_post_outside_the_review_categories_offers_no_rating(
    driver: Any, setup: Setup
) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{setup.site}/{OTHER}")
    assert driver.find_elements(By.ID, "comment-name")
    assert not driver.find_elements(By.CSS_SELECTOR, "fieldset.rating-field")


def test_a_bad_rating_is_refused_and_the_choice_kept(
    driver: Any, axe_source: str, setup: Setup
) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{setup.site}/{PAGE}")
    # What a tampered page would send: a rating off the scale.
    driver.execute_script(
        "document.getElementById('rating-5').value = '9';"
        "document.getElementById('rating-5').checked = true;"
    )
    driver.find_element(By.ID, "comment-name").send_keys("Eve")
    driver.find_element(By.ID, "comment-text").send_keys("Neuf sur cinq !")
    _send(driver)
    assert driver.title == "Commentaire non envoyé"
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "de 1 à 5 étoiles" in alert
    # The error page offers the rating again (no choice made: 9 is none).
    group = driver.find_element(By.CSS_SELECTOR, "fieldset.rating-field")
    assert group.find_element(By.ID, "rating-none").is_selected()
    assert driver.find_element(By.ID, "comment-text").get_attribute("value")
    violations = axe_violations(driver, axe_source)
    assert not violations, violations
