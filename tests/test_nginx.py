"""The shipped nginx example (docs/examples/nginx.conf), run by a real nginx
against a real build: the Link header, 410 for deleted posts with their
tombstone, and the proxy to a real receiver process.

The file is used as it is, but for what a test cannot have: TLS, port 443,
and /srv/blog (replaced by a loopback port and the build's directory).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import run_publish
from nginx_kit import Nginx
from receiver_kit import Receiver, free_port
from sender_kit import post, write_blog

SITE = "https://blog.example.com"


@pytest.fixture
def nginx_site(tmp_path: Path) -> Iterator[tuple[str, Path, Receiver]]:
    blog = tmp_path / "blog"
    settings = write_blog(
        blog,
        {
            "avis": post("avis", "Un billet qui sera supprimé."),
            "autre": post("autre", "Un billet qui reste.", title="Autre"),
        },
        service_url=SITE,
    )
    for _ in range(2):  # the second build, after the deletion, makes the tombstone
        result = run_publish("--settings", str(settings), "build", cwd=blog)
        assert result.returncode == 0, result.stderr
        (blog / "content/posts/avis.md").unlink(missing_ok=True)
    receiver = Receiver(settings).start()
    try:
        nginx = Nginx(tmp_path / "nginx", blog / "output", receiver.port)
    except BaseException:
        receiver.stop()
        raise
    try:
        yield nginx.base, blog / "output", receiver
    finally:
        nginx.stop()
        receiver.stop()


def test_the_nginx_example(nginx_site: tuple[str, Path, Receiver]) -> None:
    base, output, receiver = nginx_site
    link = f'<{SITE}/webmention>; rel="webmention"'

    home = requests.get(base + "/", timeout=5)
    assert home.status_code == 200
    assert home.headers["Link"] == link
    # Pages and feeds are revalidated every time; CSS and images kept a week.
    assert home.headers["Cache-Control"] == "no-cache"
    csp = home.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert home.headers["X-Content-Type-Options"] == "nosniff"
    assert (
        "Content-Security-Policy"
        in requests.get(base + "/theme/css/causerie.css", timeout=5).headers
    )
    feed = requests.get(base + "/feeds/all.atom.xml", timeout=5)
    assert feed.status_code == 200 and feed.headers["Cache-Control"] == "no-cache"
    assert feed.headers["Link"] == link
    sheet = requests.get(base + "/theme/css/causerie.css", timeout=5)
    assert sheet.headers["Cache-Control"].split(", ") == ["max-age=604800", "public"]
    live = requests.get(base + "/posts/2026/autre/", timeout=5)
    assert live.status_code == 200 and "Un billet qui reste." in live.text
    assert (
        requests.get(base + "/theme/css/causerie.css", timeout=5).headers["Link"]
        == link
    )

    # The deleted post: 410, its tombstone page, the Link header still there.
    for path in ("/posts/2026/avis/", "/posts/2026/avis/index.html"):
        gone = requests.get(base + path, timeout=5)
        assert gone.status_code == 410, path
        assert '<meta http-equiv="Status" content="410 Gone">' in gone.text
        assert gone.headers["Link"] == link
    assert (output / "gone.map").is_file()
    assert requests.get(base + "/gone.map", timeout=5).status_code == 404
    assert requests.get(base + "/posts/2026/never/", timeout=5).status_code == 404

    # The endpoint goes to the receiver, which gives its plain reasons.
    answer = requests.post(
        base + "/webmention", data={"source": "ftp://x", "target": "y"}, timeout=5
    )
    assert answer.status_code == 400
    assert "source" in answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert receiver.proc is not None and receiver.proc.poll() is None


def _without_wasm(conf: str) -> str:
    """The example as a server of one's own might have it: the same policy
    header on every page, the search page's exception forgotten."""
    line = next(x for x in conf.splitlines() if x.strip().startswith("~^/search/"))
    return conf.replace(line, "")


@pytest.fixture(params=[str, _without_wasm], ids=["example", "no-wasm-exception"])
def searchable_site(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Path, bool]]:
    """A site built for the address nginx serves it at (the search page loads
    its index from SITEURL), search on, served by the example (or by the
    example without the search page's CSP exception)."""
    blog = tmp_path / "blog"
    words = " ".join(f"Le photophore numéro {n} éclaire l’atelier." for n in range(60))
    settings = write_blog(
        blog,
        {"photophore": post("photophore", words, title="Un photophore en laiton")},
        service_url=SITE,
    )
    port = free_port()
    with settings.open("a", encoding="utf-8") as conf:
        conf.write(f"\nSITEURL = 'http://127.0.0.1:{port}'\nFEED_DOMAIN = SITEURL\n")
    result = run_publish("--settings", str(settings), "build", cwd=blog)
    assert result.returncode == 0, result.stderr
    assert (blog / "output" / "pagefind" / "pagefind-entry.json").is_file()
    nginx = Nginx(tmp_path / "nginx", blog / "output", port=port, edit=request.param)
    try:
        yield nginx.base, blog / "output", request.param is str
    finally:
        nginx.stop()


@pytest.mark.browser
def test_search_and_compression_through_the_example(
    searchable_site: tuple[str, Path, bool], driver: Any
) -> None:
    base, output, as_shipped = searchable_site
    # Search works behind the server's own Content-Security-Policy header,
    # which the browser enforces along with the page's <meta> one.
    driver.get(base + "/search/?q=photophore")
    deadline = time.monotonic() + 20
    while (
        state := driver.execute_script(
            "return document.getElementById('search').dataset.state"
        )
    ) not in ("done", "error"):
        assert time.monotonic() < deadline, driver.get_log("browser")
        time.sleep(0.05)
    if not as_shipped:
        # Without the exception the WebAssembly is refused: the reader is
        # told, and offered the archives, rather than left with "Searching…".
        assert state == "error"
        said = driver.find_element("id", "search-status").text
        assert "n’a pas pu être chargée" in said
        assert driver.find_element("css selector", "#search-fallback").is_displayed()
        return
    assert state == "done"
    titles = driver.execute_script(
        "return [...document.querySelectorAll('.search-result-title a')]"
        ".map(a => a.textContent)"
    )
    assert titles == ["Un photophore en laiton"], driver.get_log("browser")

    # The browser's own request: the page arrives gzipped (Resource Timing:
    # fewer bytes on the wire than in the page), and so does the stylesheet.
    driver.get(base + "/posts/2026/photophore/")
    sizes = driver.execute_script(
        "const [nav] = performance.getEntriesByType('navigation');"
        "const css = performance.getEntriesByType('resource')"
        "  .filter(e => e.name.endsWith('.css'));"
        "return [nav.encodedBodySize, nav.decodedBodySize,"
        "  css.map(e => [e.encodedBodySize, e.decodedBodySize])];"
    )
    encoded, decoded, sheets = sizes
    assert 0 < encoded < decoded / 2, sizes
    assert sheets and all(0 < e < d for e, d in sheets), sizes

    # Pagefind's files, gzipped by Pagefind, are sent as they are on disk.
    meta = next((output / "pagefind").glob("pagefind.*.pf_meta"))
    sent = requests.get(
        f"{base}/pagefind/{meta.name}",
        headers={"Accept-Encoding": "gzip"},
        stream=True,
        timeout=5,
    )
    assert sent.status_code == 200
    assert "Content-Encoding" not in sent.headers
    assert sent.raw.read() == meta.read_bytes()
