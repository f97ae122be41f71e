"""Benchmark ``publish import``: a synthetic export of each kind, streamed.

    .venv/bin/python bench/import.py                       # 10,000 posts of each kind
    .venv/bin/python bench/import.py --posts 2000 --kinds wordpress
    .venv/bin/python bench/import.py --wxr-mb 200          # pad the WXR to ~200 MB

1. Seeded synthetic exports: a WordPress WXR and a Blogger (classic) Atom
   file of N posts each, with M comments per post (every third an answer to
   the one before, one in ten pending or spam), French text with accents,
   categories, tags, authors. ``--wxr-mb`` pads each WXR post with more
   paragraphs until the file reaches that size (the 200 MB WXR of issue 18).
2. ``publish import`` into a fresh copy of the demo's settings and registry
   (its own content/ and SQLite store), as a separate process: wall time and
   peak RSS (``os.wait4``: that process only).
3. The same import again, unchanged: its time, and the files and store rows
   it wrote (both must be 0).
4. The plain alternative in the same run: reading the same export the
   way a naive importer does, ``xml.etree.ElementTree.parse`` of the whole
   file into memory (no writing at all), as a separate process: its time
   and peak RSS, and the ratios.

Results go to docs/PERFORMANCE.md by hand, with the machine they ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "lampe",
    "atelier",
    "câble",
    "réparation",
    "laiton",
    "abat-jour",
    "lumière",
    "client",
    "avis",
    "été",
    "hiver",
    "Lyon",
    "déménagement",
    "pièce",
    "douille",
    "ampoule",
    "fil",
    "tournevis",
    "écoute",
    "réponse",
    "garantie",
    "œuvre",
    "façon",
    "naïf",
    "très",
    "bientôt",
    "merci",
]
AUTHORS = [("karim", "Karim Haddad", "karim.haddad@maison-lumen.example"), ("zoe", "Zoé Martin", "zoe@old.example"),
           ("paul", "Paul Éluard", "paul@old.example")]  # fmt: skip


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_wxr(
    path: Path, posts: int, comments: int = 3, pad_to: int = 0, seed: int = 18
) -> None:
    """A WXR file of ``posts`` posts, written as a stream (any size)."""
    rng = random.Random(seed)
    per_post = max(0, pad_to // max(posts, 1))
    with path.open("w", encoding="utf-8") as f:
        f.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n'
            "<channel><title>Banc d’essai</title><link>https://bench.example</link><language>fr-FR</language>\n"
            "<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://bench.example</wp:base_site_url>"
            "<wp:base_blog_url>https://bench.example</wp:base_blog_url>\n"
        )
        for login, name, email in AUTHORS:
            f.write(
                f"<wp:author><wp:author_login>{login}</wp:author_login><wp:author_email>{email}</wp:author_email>"
                f"<wp:author_display_name><![CDATA[{name}]]></wp:author_display_name></wp:author>\n"
            )
        for i in range(1, posts + 1):
            year, month, day = 2005 + i % 15, 1 + i % 12, 1 + i % 28
            title = f"{_words(rng, 5).capitalize()} n°{i}"
            paragraphs = [f"<p>{escape(_words(rng, 60))}</p>" for _ in range(4)]
            body = "\n".join(paragraphs)
            while len(body) < per_post:
                body += f"\n<p>{escape(_words(rng, 120))}</p>"
            login = AUTHORS[i % len(AUTHORS)][0]
            f.write(
                f"<item><title><![CDATA[{title}]]></title><link>https://bench.example/{year}/{month:02d}/billet-{i}/</link>"
                f'<dc:creator>{login}</dc:creator><guid isPermaLink="false">https://bench.example/?p={i}</guid>'
                f"<content:encoded><![CDATA[{body}]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>"
                f"<wp:post_id>{i}</wp:post_id><wp:post_date_gmt>{year}-{month:02d}-{day:02d} 10:00:00</wp:post_date_gmt>"
                f"<wp:post_name>billet-{i}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
                f'<category domain="category" nicename="c{i % 8}"><![CDATA[Catégorie {i % 8}]]></category>'
                f'<category domain="post_tag" nicename="t{i % 60}"><![CDATA[étiquette {i % 60}]]></category>\n'
            )
            for c in range(comments):
                cid = i * 100 + c
                parent = cid - 1 if c % 3 == 2 else 0
                status = (
                    "spam" if (i + c) % 10 == 9 else ("0" if (i + c) % 10 == 8 else "1")
                )
                f.write(
                    f"<wp:comment><wp:comment_id>{cid}</wp:comment_id><wp:comment_author><![CDATA[Lecteur {cid % 97}]]></wp:comment_author>"
                    f"<wp:comment_author_url>https://lecteur{cid % 97}.example/</wp:comment_author_url>"
                    f"<wp:comment_date_gmt>{year}-{month:02d}-{day:02d} 12:{c % 60:02d}:00</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[{_words(rng, 25)}]]></wp:comment_content>"
                    f"<wp:comment_approved>{status}</wp:comment_approved><wp:comment_type>comment</wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id></wp:comment>\n"
                )
            f.write("</item>\n")
        f.write("</channel></rss>\n")


def write_blogger(path: Path, posts: int, comments: int = 3, seed: int = 18) -> None:
    """A classic Blogger export of ``posts`` posts and their comments."""
    rng = random.Random(seed)
    kind = "http://schemas.google.com/g/2005#kind"
    with path.open("w", encoding="utf-8") as f:
        f.write(
            "<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom' "
            "xmlns:thr='http://purl.org/syndication/thread/1.0'>\n<id>tag:blogger.com,1999:blog-1</id>"
            "<title>Banc d’essai</title><link rel='alternate' type='text/html' href='http://bench.blogspot.com/'/>\n"
        )
        for i in range(1, posts + 1):
            year, month, day = 2005 + i % 15, 1 + i % 12, 1 + i % 28
            name = AUTHORS[i % len(AUTHORS)][1]
            body = escape(
                "".join(f"<p>{escape(_words(rng, 60))}</p>" for _ in range(4))
            )
            f.write(
                f"<entry><id>tag:blogger.com,1999:blog-1.post-{i}</id><published>{year}-{month:02d}-{day:02d}T10:00:00.000+01:00</published>"
                f"<category scheme='{kind}' term='http://schemas.google.com/blogger/2008/kind#post'/>"
                f"<category scheme='http://www.blogger.com/atom/ns#' term='étiquette {i % 60}'/>"
                f"<title type='text'>{escape(_words(rng, 5).capitalize())} n°{i}</title><content type='html'>{body}</content>"
                f"<link rel='alternate' type='text/html' href='http://bench.blogspot.com/{year}/{month:02d}/billet-{i}.html'/>"
                f"<author><name>{name}</name><uri>http://www.blogger.com/profile/{i % 3}</uri></author></entry>\n"
            )
        for i in range(1, posts + 1):
            for c in range(comments):
                cid = 10_000_000 + i * 100 + c
                related = (
                    f"<link rel='related' href='http://www.blogger.com/feeds/1/{i}/comments/default/{cid - 1}'/>"
                    if c % 3 == 2 else ""
                )  # fmt: skip
                f.write(
                    f"<entry><id>tag:blogger.com,1999:blog-1.post-{cid}</id><published>2020-01-01T10:{c % 60:02d}:00.000Z</published>"
                    f"<category scheme='{kind}' term='http://schemas.google.com/blogger/2008/kind#comment'/>"
                    f"<content type='html'>{escape(_words(rng, 25))}</content>{related}"
                    f"<author><name>Lecteur {cid % 97}</name></author>"
                    f"<thr:in-reply-to ref='tag:blogger.com,1999:blog-1.post-{i}'/></entry>\n"
                )
        f.write("</feed>\n")


@dataclass
class Run:
    seconds: float
    peak_mb: float
    output: str


def timed(command: list[str], cwd: Path) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{out.decode(errors='replace')[-3000:]}")
    return Run(
        seconds,
        usage.ru_maxrss / 1024,
        out.decode(errors="replace").strip().splitlines()[-3:][0],
    )


def make_site(root: Path) -> Path:
    content = root / "content"
    (content / "posts").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "authors.toml", content / "authors.toml")
    shutil.copytree(ROOT / "content" / "images", content / "images")
    conf = (ROOT / "pelicanconf.py").read_text(encoding="utf-8")
    conf += f"\nPATH = {str(content)!r}\nTHEME = {str(ROOT / 'theme')!r}\n"
    conf += f"WEBMENTIONS = {{'database': 'sqlite:///{root}/var/mentions.sqlite3', 'service_url': 'http://127.0.0.1:8081'}}\n"
    (root / "pelicanconf.py").write_text(conf, encoding="utf-8")
    return root / "pelicanconf.py"


def snapshot(root: Path) -> dict[str, int]:
    return {
        str(p): p.stat().st_mtime_ns
        for p in (root / "content").rglob("*")
        if p.is_file()
    }


def store_stamp(root: Path) -> tuple[int, str]:
    import sqlite3

    with sqlite3.connect(root / "var" / "mentions.sqlite3") as db:
        count, latest = db.execute(
            "SELECT count(*), max(updated_at) FROM mentions"
        ).fetchone()
    return int(count), str(latest)


PLAIN = "import sys, xml.etree.ElementTree as ET; t = ET.parse(sys.argv[1]); print(sum(1 for _ in t.iter()))"


def bench(kind: str, posts: int, comments: int, work: Path, wxr_mb: int) -> None:
    export = work / f"{kind}.xml"
    if kind == "wordpress":
        write_wxr(export, posts, comments, pad_to=wxr_mb * 1_000_000)
    else:
        write_blogger(export, posts, comments)
    size = export.stat().st_size / 1e6
    root = work / f"site-{kind}"
    settings = make_site(root)
    publish = [
        sys.executable,
        str(ROOT / "publish.py"),
        "--settings",
        str(settings),
        "import",
        kind,
        str(export),
    ]
    first = timed(publish, root)
    files, stamp = snapshot(root), store_stamp(root)
    again = timed(publish, root)
    rewritten = sum(1 for p, t in snapshot(root).items() if files.get(p) != t)
    rows_written = 0 if store_stamp(root) == stamp else -1
    plain = timed([sys.executable, "-c", PLAIN, str(export)], root)
    print(f"\n{kind}: {posts} posts, {comments} comments each, export {size:.1f} MB")
    print(
        f"  publish import     {first.seconds:8.1f} s  peak {first.peak_mb:7.1f} MB   {first.output}"
    )
    print(
        f"  unchanged re-run   {again.seconds:8.1f} s  peak {again.peak_mb:7.1f} MB   files written: {rewritten}, "
        f"store rows written: {'0' if rows_written == 0 else 'some'}"
    )
    print(
        f"  plain ET.parse     {plain.seconds:8.1f} s  peak {plain.peak_mb:7.1f} MB   (reads only, whole tree in memory)"
    )
    print(
        f"  ratios: import/plain time {first.seconds / plain.seconds:.2f}, peak memory {first.peak_mb / plain.peak_mb:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=3)
    parser.add_argument("--kinds", default="wordpress,blogger")
    parser.add_argument(
        "--wxr-mb", type=int, default=0, help="pad the WXR to about this size"
    )
    args = parser.parse_args()
    print(
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="causerie-import-bench-") as tmp:
        for kind in args.kinds.split(","):
            bench(kind, args.posts, args.comments, Path(tmp), args.wxr_mb)


if __name__ == "__main__":
    main()
