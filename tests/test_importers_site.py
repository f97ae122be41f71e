"""An imported blog, built and served: the comments under the posts, the
authors' answers, the old addresses answered by static pages and by the
shipped nginx example (301), images fetched through the guarded fetch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from bs4 import BeautifulSoup
from conftest import run_publish
from nginx_kit import Nginx
from sender_kit import TargetServer, write_blog

DATA = Path(__file__).parent / "data" / "importers"
POST = "posts/2012/reparer-une-lampe/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imported-site")
    settings = write_blog(root, {})
    uploads = root / "uploads" / "2012" / "03"
    uploads.mkdir(parents=True)
    (uploads / "etabli.jpg").write_bytes(b"\xff\xd8\xff\xe0 JPEG")
    for command in (
        ["wordpress", str(DATA / "wordpress.xml"), "--media", str(root / "uploads")],
        ["blogger", str(DATA / "blogger-classic.xml")],
        ["blogger", str(DATA / "blogger-takeout.atom")],
    ):
        result = run_publish("--settings", str(settings), "import", *command, cwd=root)
        assert result.returncode == 0, result.stderr
    result = run_publish("--settings", str(settings), "build", "--strict", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def one(node: Any, css: str) -> Any:
    found = node.select_one(css)
    assert found is not None, css
    return found


def page(built: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup(
        (built / "output" / path / "index.html").read_text(encoding="utf-8"),
        "html.parser",
    )


def test_the_comments_under_the_post(built: Path) -> None:
    soup = page(built, POST)
    comments = soup.select(".comment-list .p-comment")
    names = [one(c, ".p-name").get_text() for c in comments]
    # Approved only (not the spam, the pending one nor the trashed one), oldest first.
    assert names == ["Anaïs Lefèvre", "Karim Haddad", "Anaïs Lefèvre"]
    first, answer, answer_to_answer = comments
    assert "comment-answer" not in first["class"]
    assert one(answer, ".comment-answers")["href"] == f"#{first['id']}"
    assert one(answer, ".comment-answers").get_text() == "en réponse à Anaïs Lefèvre"
    assert one(answer, ".comment-badge").get_text() == "l’auteur·e"
    assert one(answer_to_answer, ".comment-answers")["href"] == f"#{answer['id']}"
    assert answer_to_answer.select_one(".comment-badge") is None
    text = soup.get_text()
    assert "Buy now" not in text and "En attente" not in text and "Supprimé" not in text
    # The hostile HTML of the post and of the comment: none of it reaches the page.
    html = str(soup)
    for bad in ("<script>alert", "onclick", "onerror", "javascript:", "<iframe"):
        assert bad not in html
    # The image, copied from --media and shown from the site itself.
    img = one(soup, "article img[alt='L’établi de Vaise']")
    assert img["src"].endswith("/images/imported/reparer-une-lampe/etabli.jpg")
    assert (built / "output/images/imported/reparer-une-lampe/etabli.jpg").is_file()


def test_blogger_threads_and_pages(built: Path) -> None:
    soup = page(built, "posts/2010/une-lampe-des-avis/")
    comments = soup.select(".comment-list .p-comment")
    assert [one(c, ".p-name").get_text() for c in comments] == [
        "Marc Petit",
        "Claire Dubois",
    ]
    assert one(comments[1], ".comment-answers").get_text() == "en réponse à Marc Petit"
    classic = page(built, "posts/2008/quand-les-clients-ecrivent/")
    assert "« ça brûle »" in classic.get_text()
    assert [one(c, ".p-name").get_text() for c in classic.select(".comment-list .p-comment")] == [
        "Jérôme", "Léa", "Anonymous",
    ]  # fmt: skip
    assert (built / "output/qui-suis-je/index.html").is_file()
    assert (built / "output/contact/index.html").is_file()
    # Drafts are imported as drafts: never published.
    assert not (built / "output/posts/2008/brouillon").exists()


def test_redirect_pages(built: Path) -> None:
    out = built / "output"
    for old, new in (
        ("2012/03/reparer-une-lampe/index.html", "/posts/2012/reparer-une-lampe/"),
        ("2012/05/reparer-une-lampe/index.html", "/posts/2012/reparer-une-lampe-2/"),
        (
            "2008/10/quand-les-clients-ecrivent.html",
            "/posts/2008/quand-les-clients-ecrivent/",
        ),
        ("2010/05/une-lampe-des-avis.html", "/posts/2010/une-lampe-des-avis/"),
        ("p/qui-suis-je.html", "/qui-suis-je/"),
        ("feed/index.html", "/feeds/all.atom.xml"),
    ):
        soup = BeautifulSoup((out / old).read_text(encoding="utf-8"), "html.parser")
        url = "http://blog.test" + new
        assert one(soup, "link[rel=canonical]")["href"] == url, old
        assert one(soup, "meta[http-equiv=refresh]")["content"] == f"0; url={url}"
    maps = (out / "redirects.map").read_text(encoding="utf-8").splitlines()
    assert (
        '"/2008/10/quand-les-clients-ecrivent.html" "/posts/2008/quand-les-clients-ecrivent/";'
        in maps
    )
    assert '"/2012/03/reparer-une-lampe" "/posts/2012/reparer-une-lampe/";' in maps
    query = (out / "redirects-query.map").read_text(encoding="utf-8").splitlines()
    assert '"p=123" "/posts/2012/reparer-une-lampe/";' in query
    assert '"page_id=2" "/a-propos/";' in query
    # /a-propos/ was the page's address and still is: no redirect, no loop.
    assert not any(line.startswith('"/a-propos') for line in maps)


@pytest.fixture(scope="module")
def nginx(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Nginx(tmp_path_factory.mktemp("nginx"), built / "output")
    try:
        yield server.base
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/2012/03/reparer-une-lampe/", "/posts/2012/reparer-une-lampe/"),
        ("/2012/03/reparer-une-lampe", "/posts/2012/reparer-une-lampe/"),
        ("/?p=123", "/posts/2012/reparer-une-lampe/"),
        ("/?page_id=2", "/a-propos/"),
        (
            "/2008/10/quand-les-clients-ecrivent.html",
            "/posts/2008/quand-les-clients-ecrivent/",
        ),
        ("/feed/", "/feeds/all.atom.xml"),
        ("/feeds/posts/default", "/feeds/all.atom.xml"),
    ],
)
def test_nginx_answers_301(nginx: str, old: str, new: str) -> None:
    answer = requests.get(nginx + old, allow_redirects=False, timeout=5)
    assert answer.status_code == 301, old
    assert answer.headers["Location"].endswith(new)
    followed = requests.get(nginx + old, timeout=5, headers={"Host": "127.0.0.1"})
    assert followed.status_code == 200


def test_nginx_serves_the_rest_as_before(nginx: str) -> None:
    assert requests.get(nginx + "/", timeout=5).status_code == 200
    assert requests.get(nginx + "/?utm_source=x", timeout=5).status_code == 200
    assert (
        requests.get(nginx + "/a-propos/", allow_redirects=False, timeout=5).status_code
        == 200
    )
    assert requests.get(nginx + "/redirects.map", timeout=5).status_code == 404
    assert requests.get(nginx + "/redirects-query.map", timeout=5).status_code == 404


def test_fetch_images_through_the_guarded_fetch(tmp_path: Path) -> None:
    server = TargetServer(tmp_path / "server")
    try:
        image = server.route(
            "/img/b/R29v/s1600/avis.png",
            body="<svg xmlns='http://www.w3.org/2000/svg'/>",
            type="image/png",
        )
        server.route("/private.png", status=404)
        export = tmp_path / "feed.atom"
        text = (DATA / "blogger-takeout.atom").read_text(encoding="utf-8")
        export.write_text(
            text.replace(
                "https://blogger.googleusercontent.com/img/b/R29v/s1600/avis.png", image
            ).replace(
                "À reprendre.",
                f"À reprendre. &lt;img src='{server.url('/private.png')}'&gt;",
            ),
            encoding="utf-8",
        )
        settings = write_blog(tmp_path / "blog", {})
        result = run_publish(
            "--settings",
            str(settings),
            "import",
            "blogger",
            str(export),
            "--fetch-images",
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        copy = tmp_path / "blog/content/images/imported/une-lampe-des-avis/avis.png"
        assert copy.read_bytes() == b"<svg xmlns='http://www.w3.org/2000/svg'/>"
        post = (
            tmp_path / "blog/content/posts/2010-05-03-une-lampe-des-avis.md"
        ).read_text(encoding="utf-8")
        assert (
            "![Les avis]({static}/images/imported/une-lampe-des-avis/avis.png)" in post
        )
        assert "private.png not copied (HTTP 404)" in result.stderr
        # Without an address the policy allows (loopback here), nothing is fetched.
        loopback = export.read_text(encoding="utf-8").replace(
            server.base, "http://127.0.0.1:9"
        )
        export.write_text(
            loopback.replace("Une lampe, des avis", "Une lampe, encore"),
            encoding="utf-8",
        )
        again = run_publish(
            "--settings",
            str(settings),
            "import",
            "blogger",
            str(export),
            "--fetch-images",
            cwd=tmp_path,
        )
        assert again.returncode == 0, again.stderr
        assert "127.0.0.1" in again.stderr and "not copied" in again.stderr
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(built: Path) -> Iterator[str]:
    import shutil
    import subprocess
    import sys

    from conftest import stop_process
    from receiver_kit import free_port, wait_until

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The pages name their stylesheet by SITEURL (blog.test): served here,
    # they name this server instead, so the browser sees them styled.
    root = built / "served"
    shutil.copytree(built / "output", root, dirs_exist_ok=True)
    for page_file in root.rglob("*.html"):
        text = page_file.read_text(encoding="utf-8")
        page_file.write_text(text.replace("http://blog.test", base), encoding="utf-8")
    files = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: requests.get(base + "/", timeout=2).ok, 15)
        yield base
    finally:
        stop_process(files)


@pytest.mark.browser
def test_an_answer_leads_to_what_it_answers(
    driver: Any, axe_source: str, served: str
) -> None:
    from browser_kit import axe_violations
    from selenium.webdriver.common.by import By

    driver.get(f"{served}/{POST}")
    answers = driver.find_elements(By.CSS_SELECTOR, ".comment-answers")
    assert [a.text for a in answers] == [
        "en réponse à Anaïs Lefèvre",
        "en réponse à Karim Haddad",
    ]
    # The theme scrolls smoothly: be there before clicking.
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})",
        answers[1],
    )
    answers[1].click()
    # The browser is at the comment answered, which is the page's :target.
    assert driver.current_url.endswith("#comment-2")
    target = driver.execute_script("return document.querySelector(':target')")
    assert target.get_attribute("id") == "comment-2"
    assert "Karim Haddad" in target.text and "l’auteur·e" in target.text
    violations = axe_violations(driver, axe_source)
    assert not violations, violations
    # An old address opened in the browser lands on the post itself (the
    # redirect page's meta refresh).
    from selenium.webdriver.support.wait import WebDriverWait

    driver.get(f"{served}/2012/03/reparer-une-lampe/")
    WebDriverWait(driver, 10).until(lambda d: d.current_url == f"{served}/{POST}")
    assert "Réparer une lampe" in driver.title
