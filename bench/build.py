"""Benchmark a clean build: plain Pelican against ``publish build``, same corpus.

    .venv/bin/python bench/build.py                    # N=2000, about a minute
    .venv/bin/python bench/build.py --posts 8000 --runs 1
    .venv/bin/python bench/build.py --publish OTHER/publish.py   # another checkout (its .venv)
    .venv/bin/python bench/build.py --skip-plain --incremental   # + rebuilds

1. A seeded synthetic corpus (issue 6): N posts of about 750 words, French
   and English (a tenth of the English ones are translations of a French
   post), 20 authors registered in ``authors.toml``, 8 categories, 60 tags,
   a third with a fenced code block, headings, lists, links, dates spread
   over ten years (all in the past: nothing is scheduled), and a one-line
   ``Summary:`` as the demo's posts have.
2. Plain Pelican 4.12 as the issue measured it: ``pelican`` with its default
   theme (notmyidea), its default Markdown extensions and no plugin, with
   only what a site must say (PATH, TIMEZONE, DEFAULT_LANG, SITEURL) and the
   demo's pagination (10 per page) so both write the same list pages.
3. Causerie: ``publish build`` with the demo's pelicanconf.py pointed at the
   corpus (its theme, plugins, feeds and sitemap), with a fresh SQLite
   mention store in the temporary site.

Each build is a separate process into an empty output directory; its wall
time and peak RSS (``os.wait4``: that process only) are measured.

With ``--incremental``, after the clean builds, ``publish build
--incremental`` is timed in a site of its own: a first build (empty output
and cache), a rebuild with nothing changed, then after one edited post and
after one new post (each a separate process, as a cron job or a mail
hook would run it). With
``--runs R`` the two alternate R times and the median is reported, since the
machine's speed drifts. Results go to docs/PERFORMANCE.md by hand, with the
machine they were measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITEURL = "http://blog.test"


def vocabulary(text: str) -> list[str]:
    return text.split()


FR_WORDS = vocabulary(
    "lampe atelier client réparation lumière laiton abat-jour verre souffleur "
    "commande livraison Lyon équipe avis réponse question conversation prix "
    "garantie pièce ampoule câble interrupteur socle bois chêne série modèle "
    "collection design dessin prototype essai fabrication usine fournisseur "
    "matière recyclage emballage carton transport boutique salon forum réseau "
    "photo commentaire article semaine année projet idée choix raison erreur "
    "histoire métier geste outil main temps travail qualité durée entretien "
    "et le la les un une des du de pour avec sans dans sur sous entre chez "
    "nous vous ils elles on qui que dont où mais donc or ni car aussi très "
    "plus moins bien mal encore déjà toujours jamais souvent parfois ici"
)
EN_WORDS = vocabulary(
    "lamp workshop customer repair light brass shade glass blower order "
    "delivery Lyon team review answer question conversation price warranty "
    "part bulb cable switch base wood oak series model collection design "
    "drawing prototype test making factory supplier material recycling box "
    "shipping shop fair forum network photo comment article week year project "
    "idea choice reason mistake story craft gesture tool hand time work "
    "quality lifetime care and the a an of for with without in on under "
    "between we you they who which that but so or nor because also very more "
    "less well badly still already always never often sometimes here there"
)
FIRST = vocabulary(
    "Claire Karim Léa Tom Inès Hugo Camille Jonas Sofia Mehdi Anna Paul "
    "Chloé Samir Emma Lucas Nora Victor Alice Yanis"
)
LAST = vocabulary(
    "Dubois Haddad Marchetti Whitfield Moreau Lefèvre Girard Roussel Bonnet "
    "Fontaine Mercier Lambert Faure Blanc Guerin Muller Henry Roche Perrin Morel"
)
CATEGORIES = (
    "Produits",
    "Atelier",
    "Conversation",
    "Service client",
    "Design",
    "Entreprise",
    "Engineering",
    "Événements",
)
CODE = '''```python
def lumens(watts: float, efficacy: float = 120.0) -> float:
    """Light output of an LED bulb."""
    return watts * efficacy


for w in (4, 6, 9):
    print(w, lumens(w))
```'''


def slug(text: str) -> str:
    from causerie.authoring.registry import slugify

    return slugify(text)


def sentence(rng: random.Random, words: list[str]) -> str:
    chosen = rng.choices(words, k=rng.randint(8, 18))
    text = " ".join(chosen)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, words: list[str], n_words: int) -> str:
    parts: list[str] = []
    count = 0
    while count < n_words:
        s = sentence(rng, words)
        if rng.random() < 0.1:
            w = s.split()[2]
            s = s.replace(f" {w} ", f" *{w}* ", 1)
        if rng.random() < 0.05:
            s += f" [{rng.choice(words)}](https://example.org/{rng.randint(1, 999)})"
        parts.append(s)
        count += len(s.split())
    return " ".join(parts)


def body(rng: random.Random, words: list[str], code: bool) -> str:
    """About 750 words of Markdown: paragraphs, two headings, a list."""
    blocks = []
    # Sentences overshoot their paragraph's budget a little, and the headings
    # and the list add about 40 words: 640 here gives about 750 in all.
    remaining = 640
    for i in range(7):
        n = 90 if i < 6 else max(remaining, 20)
        blocks.append(paragraph(rng, words, n))
        remaining -= n
        if i in (2, 4):
            blocks.append(f"## {sentence(rng, words)[:-1]}")
        if i == 3:
            blocks.append("\n".join(f"- {sentence(rng, words)}" for _ in range(3)))
        if i == 1 and code:
            blocks.append(CODE)
    return "\n\n".join(blocks) + "\n"


@dataclass(frozen=True)
class Corpus:
    path: Path
    posts: int
    words: int


def authors_toml(names: list[str]) -> str:
    out = ["# Generated by bench/build.py\n"]
    for i, name in enumerate(names):
        s = slug(name)
        out.append(
            textwrap.dedent(
                f"""
                [{s}]
                name = "{name}"
                email = "{s}@bench.example"
                role = "Auteur"
                bio = "Écrit sur ce blog."
                avatar = "images/authors/{s}.svg"
                links = []
                lang = "{"fr" if i % 3 else "en"}"
                """
            )
        )
    return "".join(out)


def make_corpus(root: Path, n: int, seed: int) -> Corpus:
    """Write ``n`` posts under ``root``/posts (deterministic for a seed)."""
    rng = random.Random(seed)
    names = [f"{FIRST[i]} {LAST[i]}" for i in range(20)]
    tags = [f"tag-{i:02d}" for i in range(60)]
    posts = root / "posts"
    posts.mkdir(parents=True)
    (root / "pages").mkdir()
    (root / "authors.toml").write_text(authors_toml(names), encoding="utf-8")
    (root / "pages" / "a-propos.md").write_text(
        "Title: À propos\nLang: fr\nSlug: a-propos\n\nUn blog de test.\n",
        encoding="utf-8",
    )
    start = 1_420_070_400  # 2015-01-01 UTC
    span = 10 * 365 * 86400
    words_total = 0
    french: list[tuple[str, int]] = []
    for i in range(n):
        translation = None
        lang = "fr" if rng.random() < 0.6 else "en"
        if lang == "en" and french and rng.random() < 0.1:
            translation = french.pop(rng.randrange(len(french)))
        words = FR_WORDS if lang == "fr" else EN_WORDS
        title = sentence(rng, words)[:-1][:70]
        ts = translation[1] if translation else start + rng.randrange(span)
        post_slug = translation[0] if translation else f"{slug(title)[:50]}-{i}"
        if lang == "fr" and not translation:
            french.append((post_slug, ts))
        text = body(rng, words, code=i % 3 == 0)
        words_total += len(text.replace(CODE, "").split())
        meta = [
            f"Title: {title}",
            f"Date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime(ts))}",
            f"Author: {rng.choice(names)}",
            f"Category: {rng.choice(CATEGORIES)}",
            f"Tags: {', '.join(rng.sample(tags, rng.randint(1, 4)))}",
            f"Lang: {lang}",
            f"Slug: {post_slug}",
            # As in the demo: a Summary line, which Pelican converts with
            # Markdown too (FORMATTED_FIELDS), after the body.
            f"Summary: {sentence(rng, words)}",
        ]
        (posts / f"{i:05d}-{lang}.md").write_text(
            "\n".join(meta) + "\n\n" + text, encoding="utf-8"
        )
    return Corpus(root, n, words_total)


# --- the two builds ------------------------------------------------------------


def plain_settings(site: Path, corpus: Corpus) -> Path:
    conf = site / "plainconf.py"
    conf.write_text(
        textwrap.dedent(
            f"""
            PATH = {str(corpus.path)!r}
            OUTPUT_PATH = {str(site / "output")!r}
            SITEURL = {SITEURL!r}
            TIMEZONE = "Europe/Paris"
            DEFAULT_LANG = "fr"
            DEFAULT_PAGINATION = 10
            """
        ),
        encoding="utf-8",
    )
    return conf


def python_of(publish: Path) -> str:
    """The Python that runs ``publish``: its checkout's own venv when it has
    one (so another checkout is measured with its own installed causerie
    package), else this one."""
    own = publish.resolve().parent / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def causerie_settings(site: Path, corpus: Corpus, publish: Path) -> Path:
    checkout = publish.resolve().parent
    (site / "var").mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{site / 'var' / 'mentions.sqlite3'}"
    conf = site / "pelicanconf.py"
    conf.write_text(
        (checkout / "pelicanconf.py").read_text(encoding="utf-8")
        + textwrap.dedent(
            f"""
            PATH = {str(corpus.path)!r}
            THEME = {str(checkout / "theme")!r}
            OUTPUT_PATH = {str(site / "output")!r}
            SITEURL = {SITEURL!r}
            FEED_DOMAIN = SITEURL
            STATIC_PATHS = []
            WEBMENTIONS = {{**WEBMENTIONS, "database": {database!r}}}
            """
        ),
        encoding="utf-8",
    )
    return conf


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    files: int
    summary: str


def measure(command: list[str], cwd: Path, output: Path) -> Run:
    """Run ``command`` once; its wall time and its own peak RSS."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("CAUSERIE_DATABASE_URL", None)
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    log = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{log.decode(errors='replace')}")
    files = sum(1 for p in output.rglob("*") if p.is_file())
    # ru_maxrss is in KiB on Linux.
    lines = log.decode(errors="replace").strip().splitlines()
    return Run(seconds, usage.ru_maxrss / 1024, files, lines[-1] if lines else "")


def build_plain(work: Path, corpus: Corpus, index: int) -> Run:
    site = work / f"plain-{index}"
    site.mkdir()
    conf = plain_settings(site, corpus)
    python = sys.executable
    return measure(
        [python, "-m", "pelican", "-s", str(conf), "-q"], site, site / "output"
    )


def build_causerie(work: Path, corpus: Corpus, index: int, publish: Path) -> Run:
    site = work / f"causerie-{index}"
    site.mkdir()
    conf = causerie_settings(site, corpus, publish)
    python = sys.executable
    return measure(
        [python, str(publish), "--settings", str(conf), "build"],
        site,
        site / "output",
    )


def incremental_runs(
    work: Path, corpus: Corpus, publish: Path
) -> list[tuple[str, Run]]:
    """``publish build --incremental`` after each kind of file change."""
    site = work / f"incremental-{corpus.posts}"
    site.mkdir()
    conf = causerie_settings(site, corpus, publish)
    command = [python_of(publish), str(publish), "--settings", str(conf)]
    command += ["build", "--incremental"]
    runs = [("first (empty output and cache)", measure(command, site, site / "output"))]
    runs.append(("nothing changed", measure(command, site, site / "output")))
    edited = sorted((corpus.path / "posts").glob("*.md"))[7]
    with edited.open("a", encoding="utf-8") as fh:
        fh.write("\nUne mise à jour : un paragraphe de plus.\n")
    runs.append(("one post edited", measure(command, site, site / "output")))
    (corpus.path / "posts" / "99999-fr.md").write_text(
        "Title: Un billet de plus\nDate: 2025-12-30 09:00\n"
        "Author: Claire Dubois\nCategory: Atelier\nTags: tag-01\nLang: fr\n"
        "Summary: Un nouveau billet.\n\nEnvoyé depuis mon téléphone.\n",
        encoding="utf-8",
    )
    runs.append(("one new post", measure(command, site, site / "output")))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[2000])
    parser.add_argument("--runs", type=int, default=1, help="builds of each, median")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--publish",
        type=Path,
        default=ROOT / "publish.py",
        help="the publish.py to build with (compare another checkout)",
    )
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="then time `publish build --incremental` after one change",
    )
    args = parser.parse_args()
    print(
        f"# machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}; publish: {args.publish}"
    )
    rows = []
    incremental: list[tuple[Corpus, list[tuple[str, Run]]]] = []
    with tempfile.TemporaryDirectory(prefix="causerie-bench-build-") as tmp:
        work = Path(tmp)
        for n in args.posts:
            corpus = make_corpus(work / f"corpus-{n}", n, args.seed)
            plain: list[Run] = []
            ours: list[Run] = []
            for r in range(args.runs):
                if not args.skip_plain:
                    plain.append(build_plain(work, corpus, n * 100 + r))
                ours.append(build_causerie(work, corpus, n * 100 + r, args.publish))
                print(
                    f"N={n} run {r + 1}: plain {plain[-1].seconds if plain else 0:.2f} s, "
                    f"causerie {ours[-1].seconds:.2f} s ({ours[-1].summary})",
                    file=sys.stderr,
                )
            rows.append((corpus, plain, ours))
            if args.incremental:
                incremental.append(
                    (corpus, incremental_runs(work, corpus, args.publish))
                )
    print(
        "\n| posts | words | plain Pelican | peak | files "
        "| Causerie | peak | files | Causerie / plain |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for corpus, plain, ours in rows:
        p = statistics.median(r.seconds for r in plain) if plain else float("nan")
        c = statistics.median(r.seconds for r in ours)
        pm = max((r.peak_mb for r in plain), default=float("nan"))
        cm = max(r.peak_mb for r in ours)
        pf = plain[0].files if plain else 0
        print(
            f"| {corpus.posts} | {corpus.words} | {p:.2f} s | {pm:.0f} MB | {pf} "
            f"| {c:.2f} s | {cm:.0f} MB | {ours[0].files} | {c / p:.2f} |"
        )
    print(
        f"\n{args.runs} run(s) each, median time, highest peak RSS. "
        "Goal (issue 6) at 8000 posts: Causerie ≤ 0.29 × plain, ≤ 300 MB."
    )
    if incremental:
        print("\n| posts | publish build --incremental | time | peak | summary |")
        print("|---:|---|---:|---:|---|")
        for corpus, runs in incremental:
            for label, run in runs:
                print(
                    f"| {corpus.posts} | {label} | {run.seconds:.2f} s "
                    f"| {run.peak_mb:.0f} MB | {run.summary} |"
                )
        print("Goal (issue 6): ≤ 1 s after one change at 8000 posts.")


if __name__ == "__main__":
    main()
