"""Benchmark search: indexing, what a reader downloads, and how soon
`publish watch` finds a new post.

    PYTHONPATH=tests .venv/bin/python bench/search.py                 # N=2000
    PYTHONPATH=tests .venv/bin/python bench/search.py --posts 8000
    PYTHONPATH=tests .venv/bin/python bench/search.py --posts 2000 --posts 8000 --skip-watch

(PYTHONPATH=tests: the query timings drive Chromium with the tests' kit.)

On the corpus of bench/build.py (same generator, same seed), in one run:

1. ``publish build`` of the corpus (the demo's settings: search on), timed.
2. Indexing the built output, timed, each its own process, alternately
   ``--runs`` times (median):
   - **plain**: the pagefind binary as its documentation runs it,
     ``pagefind --site output`` (the bundle written in place);
   - **Causerie**: ``causerie.search.indexer.build_index`` (the pages the
     theme marks, hard-linked into a snapshot, indexed by the same binary
     into a fresh directory, then the bundle moved in, entry file last);
   - **kept**: the same again with nothing changed (the pages' digest
     matches: the index there is stays, as on a publish of an unchanged site).
   Peak memory (``os.wait4``: that process and what it waited for).
3. The index's size on disk, and what a reader downloads for one query in
   headless Chromium (the tests' browser), on the search page served over
   loopback by nginx with the shipped example (docs/examples/nginx.conf:
   gzip for text; Pagefind's files are gzipped already), cold cache: the
   bytes nginx sent for every request of the page (its HTML, stylesheet and
   script, pagefind.js, the WebAssembly, the language's metadata, the index
   chunks and the first ten results' fragments), from its access log, and
   the same files' sizes on disk (what a server without gzip sends).
4. ``publish watch`` on that site: a new post is written; the time until
   its page is live, and until the search page finds it among its results
   (by its address), searched once the index on disk has changed, then
   every half second.

Results go to docs/PERFORMANCE.md by hand, with the machine.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from build import (  # bench/build.py: a script's own folder is on sys.path
    Corpus,
    causerie_settings,
    make_corpus,
)

ROOT = Path(__file__).resolve().parent.parent
PUBLISH = ROOT / "publish.py"

#: A word no corpus post holds: the new post of step 4 is found by it.
NEW_WORD = "photophore"


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall time, peak RSS in MB (the process and its children), output;
    the CPU time is kept in ``CPU[-1]`` (less noisy on a shared machine)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("CAUSERIE_DATABASE_URL", None)
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    log = proc.stdout.read().decode(errors="replace")
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{log}")
    CPU.append(usage.ru_utime + usage.ru_stime)
    return seconds, usage.ru_maxrss / 1024, log


CPU: list[float] = []


def pagefind_binary() -> str:
    from pagefind.service import get_executable

    found = get_executable()
    assert found is not None, "pip install 'pagefind[bin]'"
    return str(found)


OURS = """
import sys
from pathlib import Path
from causerie import search
from causerie.search.indexer import build_index
report = build_index(Path(sys.argv[1]), search.config({}))
print(report.pages, report.bytes)
"""


def index_runs(output: Path, runs: int) -> dict[str, list[tuple[float, float, float]]]:
    binary = pagefind_binary()
    found: dict[str, list[tuple[float, float, float]]] = {
        "plain": [],
        "causerie": [],
        "kept": [],
    }
    stamp = output.parent / f".{output.name}.search.digest"
    for _ in range(runs):
        plain_out = output.parent / "plain-bundle"
        seconds, peak, _log = timed(
            [binary, "--site", str(output), "--output-path", str(plain_out), "--quiet"],
            output.parent,
        )
        found["plain"].append((seconds, peak, CPU[-1]))
        # Without its digest, so that the pages are indexed again (with it,
        # the same pages keep the index there is: measured as "kept").
        stamp.unlink(missing_ok=True)
        seconds, peak, _log = timed([sys.executable, "-c", OURS, str(output)], ROOT)
        found["causerie"].append((seconds, peak, CPU[-1]))
        seconds, peak, _log = timed([sys.executable, "-c", OURS, str(output)], ROOT)
        found["kept"].append((seconds, peak, CPU[-1]))
    return found


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Served:
    """What nginx sent, by request, from its access log (what a reader
    downloads: Pagefind fetches from the page's script, which a page's own
    Resource Timing may miss): the body's bytes on the wire (gzipped where
    the example gzips) and the file's size on disk."""

    def __init__(self, log: Path, root: Path) -> None:
        self.log = log
        self.root = root
        self.offset = 0

    def clear(self) -> None:
        self.offset = self.log.stat().st_size if self.log.exists() else 0

    def sent(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        with self.log.open("rb") as handle:
            handle.seek(self.offset)
            lines = handle.read().decode().splitlines()
        for line in lines:
            uri, wire = line.rsplit(" ", 1)
            path = urllib.parse.unquote(uri.split("?", 1)[0])
            file = self.root / path.lstrip("/")
            if path.endswith("/"):
                file = file / "index.html"
            disk = file.stat().st_size if file.is_file() else 0
            was = found.get(path, (0, 0))
            found[path] = (was[0] + int(wire), was[1] + disk)
        return found


def serve(output: Path, port: int, work: Path) -> tuple[Any, Served]:
    """The shipped nginx example (docs/examples/nginx.conf, gzip on) over
    ``output``, as tests/test_nginx.py runs it."""
    import shutil

    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        raise SystemExit("bench/search.py needs nginx: apt-get install nginx-light")
    from nginx_kit import Nginx  # tests/nginx_kit.py

    log = work / "access.log"
    server = Nginx(work / "nginx", output, port=port, access_log=log)
    return server, Served(log, output)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def browser(profile: Path) -> Any:
    try:
        from browser_kit import new_driver  # tests/browser_kit.py
    except ImportError as exc:
        raise SystemExit(
            f"bench/search.py: cannot import the tests' browser kit ({exc}); "
            "run it as PYTHONPATH=tests .venv/bin/python bench/search.py"
        ) from exc

    return new_driver(profile)


def search_in(driver: Any, url: str, query: str) -> list[str]:
    driver.get(f"{url}/search/?q={urllib.parse.quote(query)}")
    deadline = time.monotonic() + 60
    while (
        driver.execute_script("return document.getElementById('search').dataset.state")
        != "done"
    ):
        if time.monotonic() > deadline:
            raise SystemExit(
                f"the search page never answered: {driver.get_log('browser')}"
            )
        time.sleep(0.02)
    titles: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('.search-result-title a')].map(a => a.href)"
    )
    return titles


def downloaded(
    driver: Any, url: str, query: str, served: Served
) -> tuple[int, int, int, int, int]:
    """Bytes sent for one query with a cold cache: for the whole page and
    for the search bundle (as sent, gzipped where the server gzips), the
    whole page uncompressed, the requests, and the results found."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    served.clear()
    found = search_in(driver, url, query)
    # The first ten results' fragments are fetched before "done".
    time.sleep(0.2)  # nginx logs a request once its last byte is sent
    sent = served.sent()
    total = sum(wire for wire, _disk in sent.values())
    bundle = sum(
        wire for k, (wire, _disk) in sent.items() if k.startswith("/pagefind/")
    )
    plain = sum(disk for _wire, disk in sent.values())
    return total, bundle, plain, len(sent), len(found)


def watch_delay(
    site: Path, conf: Path, corpus: Corpus, url: str, driver: Any
) -> tuple[float, float]:
    """publish watch: a new post; seconds until live, until found."""
    output = site / "output"
    log = site / "watch.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0"}
    env.pop("CAUSERIE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, str(PUBLISH), "--settings", str(conf), "watch"],
        cwd=site,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 900
        while " rendered " not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"publish watch did not start:\n{log.read_text()}")
            time.sleep(0.1)
        # Its first background indexing, if any, settles (the indexer holds
        # this lock while it runs).
        time.sleep(2.0)
        lock = output.parent / f".{output.name}.search.lock"
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            fcntl.flock(handle, fcntl.LOCK_UN)
        time.sleep(2.0)
        page = output / "posts" / "2024" / "un-photophore" / "index.html"
        post = corpus.path / "posts" / "99998-fr.md"
        entry = output / "pagefind" / "pagefind-entry.json"
        before = entry.read_bytes()
        began = time.perf_counter()
        post.write_text(
            "Title: Un photophore pour l’hiver\nDate: 2024-12-31 09:00\n"
            "Author: Claire Dubois\nCategory: Atelier\nTags: tag-01\nLang: fr\n"
            f"Slug: un-photophore\nSummary: Un {NEW_WORD} en verre soufflé.\n\n"
            f"Le {NEW_WORD} arrive en boutique la semaine prochaine.\n",
            encoding="utf-8",
        )
        while not (page.exists() and NEW_WORD in page.read_text(encoding="utf-8")):
            time.sleep(0.005)
        live = time.perf_counter() - began
        # The browser searches once the index on disk has changed: a page
        # reloaded twice a second meanwhile would take a core from the
        # indexer (at nice 10), which no reader does.
        while entry.read_bytes() == before:
            if time.perf_counter() - began > 300:
                raise SystemExit(f"the index never changed:\n{log.read_text()}")
            time.sleep(0.05)
        # Its own address among the results: Pagefind also answers a word
        # with pages holding a shorter one it starts with ("photo" for
        # "photophore"), so some result is no proof the post is indexed.
        while not any(
            "/un-photophore/" in href for href in search_in(driver, url, NEW_WORD)
        ):
            if time.perf_counter() - began > 300:
                raise SystemExit(f"never found:\n{log.read_text()}")
            time.sleep(0.5)
        found = time.perf_counter() - began
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return live, found


def one_size(
    n: int, seed: int, runs: int, skip_watch: bool, work: Path
) -> dict[str, Any]:
    corpus = make_corpus(work / f"corpus-{n}", n, seed)
    site = work / f"site-{n}"
    site.mkdir()
    conf = causerie_settings(site, corpus, PUBLISH)
    # Built for the loopback address it is served at (step 3): the search
    # page's script loads the bundle from SITEURL.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    conf.write_text(
        conf.read_text(encoding="utf-8")
        + f"\nSITEURL = {url!r}\nFEED_DOMAIN = SITEURL\n",
        encoding="utf-8",
    )
    build_s, build_mb, _log = timed(
        [sys.executable, str(PUBLISH), "--settings", str(conf), "build"], site
    )
    output = site / "output"
    entry = json.loads((output / "pagefind" / "pagefind-entry.json").read_text())
    pages = sum(v["page_count"] for v in entry["languages"].values())
    runs_found = index_runs(output, runs)
    result: dict[str, Any] = {
        "posts": n,
        "pages": pages,
        "build": build_s,
        "build_mb": build_mb,
        "index_bytes": size(output / "pagefind"),
        "fragments": sum(1 for _ in (output / "pagefind" / "fragment").iterdir()),
    }
    for name, values in runs_found.items():
        result[f"{name}_s"] = statistics.median(v[0] for v in values)
        result[f"{name}_mb"] = max(v[1] for v in values)
        result[f"{name}_cpu"] = statistics.median(v[2] for v in values)
    server, served = serve(output, port, work / f"nginx-{n}")
    driver = browser(work / f"chromium-{n}")
    try:
        for query in ("lampe", "lumière atelier", "réparation laiton"):
            total, bundle, plain, requests, hits = downloaded(
                driver, url, query, served
            )
            result.setdefault("queries", []).append(
                (query, total, bundle, plain, requests, hits)
            )
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
        if not skip_watch:
            result["watch_live"], result["watch_found"] = watch_delay(
                site, conf, corpus, url, driver
            )
    finally:
        driver.quit()
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, action="append")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-watch", action="store_true")
    args = parser.parse_args()
    sizes = args.posts or [2000]
    print(
        f"# machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    results = []
    with tempfile.TemporaryDirectory(
        prefix="causerie-bench-search-", ignore_cleanup_errors=True
    ) as tmp:
        for n in sizes:
            results.append(
                one_size(n, args.seed, args.runs, args.skip_watch, Path(tmp))
            )
            print(json.dumps(results[-1]), flush=True)
    print(
        "\n| posts | pages indexed | build (search on) | index: plain pagefind "
        "| index: Causerie | ratio | CPU (plain / Causerie) "
        "| peak memory (plain / Causerie) | unchanged site | index on disk |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['posts']:,} | {r['pages']:,} | {r['build']:.1f} s "
            f"| {r['plain_s']:.2f} s | {r['causerie_s']:.2f} s "
            f"| {r['causerie_s'] / r['plain_s']:.2f} "
            f"| {r['plain_cpu']:.1f} / {r['causerie_cpu']:.1f} s "
            f"| {r['plain_mb']:.0f} / {r['causerie_mb']:.0f} MB "
            f"| {r['kept_s']:.2f} s "
            f"| {r['index_bytes'] / 1e6:.1f} MB ({r['fragments']:,} fragments) |"
        )
    print(
        "\n| posts | query | results shown | downloaded (page + index, as sent) "
        "| of which the index | without gzip | requests |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        for query, total, bundle, plain, requests, hits in r["queries"]:
            print(
                f"| {r['posts']:,} | {query} | {hits} | {total / 1000:.0f} kB | "
                f"{bundle / 1000:.0f} kB | {plain / 1000:.0f} kB | {requests} |"
            )
    if not args.skip_watch:
        print("\n| posts | publish watch: new post live | found by search |")
        print("|---:|---:|---:|")
        for r in results:
            print(
                f"| {r['posts']:,} | {r['watch_live']:.2f} s | {r['watch_found']:.1f} s |"
            )
    print(
        "\nGoals (issue 17): index ≤ 10 s and ≤ 300 kB per query at 8,000 posts; found ≤ 15 s after going live."
    )


if __name__ == "__main__":
    main()
