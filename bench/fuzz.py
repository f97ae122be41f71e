"""Fuzz the parsers that read what strangers send: no input may crash them.

    .venv/bin/python bench/fuzz.py --count 1000000      # about 30 min of one core
    .venv/bin/python bench/fuzz.py --count 1000000 --jobs 2   # on two cores
    .venv/bin/python bench/fuzz.py --count 2000 --seed 7

Each generated input goes through every parser that reads outside text:

- ``sanitize``: :func:`webmentions.sanitize.clean_html`, ``clean_text``,
  ``safe_url`` and ``absolute_url`` (webmentions, the comment form, imports),
  and the mail posts' sanitizer, :func:`mailposts.html_sanitizer.clean`;
- ``verify``: :func:`webmentions.verify.verify` on the input served as a
  source page (no network: the fetched response is built here), half the time
  inside an h-entry that links to the target, so that the link check passes
  and the microformats step (mf2py, mf2util, the cleaning of every property)
  runs on it; as HTML mostly, sometimes as JSON or plain text, with a random
  charset or BOM;
- ``form``: the comment form's parser, an ``application/x-www-form-urlencoded``
  body parsed by werkzeug as the endpoint does, then
  :func:`webmentions.form.check_form`.

A parser may return a result or refuse cleanly (a ``Refusal``, or one of the
project's errors, :class:`causerie_settings.UserError`); anything else raised
is a crash, printed with the input's repr and its traceback. The exit status
is 1 when there was one.

The inputs are mutations of seeds: the XSS payloads of tests/data/xss, h-entry
pages, JF2-like JSON, tricky tokens (``<![``, CDATA, comments, unfinished
entities, lone surrogates, controls, deep nesting) and random bytes. A
mutation fuzzer without coverage feedback, and deterministic (``--seed``):
a crash found is found again by the same command. (Neither hypothesis nor
atheris is needed: hypothesis spends most of its time per example on its own
bookkeeping, too slow for a million inputs through three parsers.)
"""

from __future__ import annotations

import argparse
import collections
import io
import logging
import random
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As the other bench scripts do (issue 14 replaces this with an installed package).

from werkzeug.wrappers import Request  # noqa: E402

from causerie.errors import UserError  # noqa: E402
from causerie.mailposts.html_sanitizer import clean as mail_clean  # noqa: E402
from causerie.webmentions.fetch import FetchResult  # noqa: E402
from causerie.webmentions.receiver.form import check_form  # noqa: E402
from causerie.webmentions.sanitize import (  # noqa: E402
    absolute_url,
    clean_html,
    clean_text,
    safe_url,
)
from causerie.webmentions.verify.source import Refusal, verify  # noqa: E402

SITE = "http://blog.test"
TARGET = f"{SITE}/posts/2025/nos-clients-parlent-plus-fort/"
SOURCE = "https://alice.example/notes/1"
#: Longest input generated (characters); a few are up to 8 times longer.
MAX_LEN = 2000

#: Markup html.parser, lxml, nh3 and mf2py each read their own way.
TOKENS = [
    "<![", "<![CDATA[", "]]>", "<!--", "-->", "--!>", "<!", "<!>", "<?", "?>",
    "</", "<", ">", "/>", "<a href=", "<a href='", '<a href="', "<img src=x ",
    "&", "&#", "&#x", "&#0;", "&#x110000;", "&#xD800;", "&amp", "&lt;script&gt;",
    "<script>", "</script>", "<style>", "<svg>", "<math>", "<template>",
    "<noscript>", "<textarea>", "<title>", "<plaintext>", "<base href=",
    "<base href=javascript:", "<meta charset=", '<div class="h-entry">',
    '<span class="p-name">', '<a class="u-in-reply-to" href="',
    '<div class="e-content">', '<time class="dt-published" datetime="',
    '<a class="p-author h-card" href="', '<img class="u-photo" src="',
    'class="h-card"', 'class="u-url"', 'class="p-rsvp"', 'class="u-like-of"',
    "javascript:", "data:text/html,", "http://", "https://", "//", "\\\\",
    "http://[", "http://[::1", "http://0x7f.1/", "http://user:pass@", ":65536",
    "%", "%00", "%zz", "%ed%a0%80", "xn--", "xn--zz", "\u0130", "\u212a",
    "\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\x0b", "\x0c", "\x7f", "\x85",
    "\u2028", "\u202e", "\u200b", "\ufeff", "\ufffd", "\uffff", "\ud800",
    "\udfff", "\U0001f600", "\U0010ffff", "'", '"', "`", "=", " ", "\n\n",
    TARGET, SOURCE, "+", "&source=", "&target=", "&name=", "&comment=",
    "&website=", "=%", "&&", "==",
]  # fmt: skip
#: Charsets a source may declare (HTTP or <meta>); fetch keeps any name
#: Python's codecs know, text encodings or not.
CHARSETS = [None, None, None, "utf-8", "windows-1252", "iso-8859-1", "utf-16",
            "shift_jis", "euc-kr", "ascii", "utf-7", "unicode_escape",
            "raw_unicode_escape", "punycode", "idna", "base64", "rot13"]  # fmt: skip
TYPES = ["text/html"] * 6 + ["application/xhtml+xml", "application/json",
                             "text/plain", "application/mf2+json"]  # fmt: skip
BOMS = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]

#: An h-entry replying to the target: the input goes into one of its slots
#: ({0}…{6}), the others get ordinary values (SLOTS).
H_ENTRY = """<!doctype html><html><head><title>{0}</title></head><body>
<article class="h-entry">
  <a class="p-author h-card" href="https://alice.example/">{1}<img class="u-photo" src="{2}"></a>
  <a class="u-in-reply-to" href="{target}">{3}</a>
  <time class="dt-published" datetime="{4}">20 nov.</time>
  <div class="e-content">{5}</div>
  <a class="u-url" href="{6}">lien</a>
</article></body></html>"""
SLOTS = ["Re", "Alice", "/a.png", "en réponse", "2026-11-20T10:00:00+01:00",
         "<p>Belle lampe !</p>", "/notes/1"]  # fmt: skip
PAGE = (
    """<!doctype html><html><body><p>{x} <a href="{target}">{x}</a></p></body></html>"""
)
JSON = """{{"type": "entry", "content": {{"html": "{x}"}}, "in-reply-to": "{target}",
"author": {{"name": "{x}", "url": "{x}"}}}}"""


def seeds() -> list[str]:
    """The starting inputs: every XSS payload of the tests, plus pages."""
    found: list[str] = []
    for name in ("payloads.txt", "render-payloads.txt"):
        path = ROOT / "tests" / "data" / "xss" / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("# "):
                continue
            for mark, char in (("{TAB}", "\t"), ("{NL}", "\n"), ("{CR}", "\r"), ("{NUL}", "\0")):  # fmt: skip
                line = line.replace(mark, char)
            found.append(line)
    found += [
        "<![>",
        "<![CDATA[x]]>",
        "<a href=" + TARGET + ">x</a>",
        "<div>" * 300 + "x",
        "<b><i>" * 100,
        "x" * 50,
        "",
        "name=Alice&comment=Bonjour&target=" + TARGET,
    ]
    return found


class Generator:
    """Mutated seeds (and sometimes random bytes), deterministic per seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        #: What the last input was sent as, for a crash report.
        self.context = ""
        self.seeds = seeds()
        self.ops: list[Callable[[str], str]] = [
            self.insert_token,
            self.insert_token,
            self.insert_token,
            self.delete,
            self.repeat,
            self.splice,
            self.replace_char,
            self.insert_random,
            self.nest,
            self.truncate,
        ]

    def text(self) -> str:
        rng = self.rng
        if rng.random() < 0.05:
            raw = rng.randbytes(rng.randint(0, 300))
            return raw.decode(rng.choice(["latin-1", "utf-8"]), errors="surrogateescape")  # fmt: skip
        text = rng.choice(self.seeds)
        for _ in range(rng.randint(1, 6)):
            text = rng.choice(self.ops)(text)
        # Mostly short inputs (most of a parser's states are reached within
        # a few hundred characters, and they are fast), some long, a few very.
        draw = rng.random()
        limit = 200 if draw < 0.85 else MAX_LEN if draw < 0.995 else 8 * MAX_LEN
        return text[:limit]

    def _at(self, text: str) -> int:
        return self.rng.randint(0, len(text))

    def insert_token(self, text: str) -> str:
        at = self._at(text)
        return text[:at] + self.rng.choice(TOKENS) + text[at:]

    def delete(self, text: str) -> str:
        at = self._at(text)
        return text[:at] + text[at + self.rng.randint(1, 20) :]

    def repeat(self, text: str) -> str:
        at = self._at(text)
        piece = text[at : at + self.rng.randint(1, 30)]
        return text[:at] + piece * self.rng.randint(2, 50) + text[at:]

    def splice(self, text: str) -> str:
        other = self.rng.choice(self.seeds)
        return text[: self._at(text)] + other[self.rng.randint(0, len(other)) :]

    def replace_char(self, text: str) -> str:
        if not text:
            return text
        at = self.rng.randrange(len(text))
        code = self.rng.choice(
            [
                self.rng.randint(0, 0x7F),
                self.rng.randint(0x80, 0xFFFF),
                self.rng.randint(0, 0x10FFFF),
            ]
        )
        return text[:at] + chr(code) + text[at + 1 :]

    def insert_random(self, text: str) -> str:
        at = self._at(text)
        junk = "".join(chr(self.rng.randint(0, 0x2FF)) for _ in range(self.rng.randint(1, 12)))  # fmt: skip
        return text[:at] + junk + text[at:]

    def nest(self, text: str) -> str:
        tag = self.rng.choice(["div", "b", "a", "span", "p", "li", "table", "svg"])
        depth = self.rng.choice([self.rng.randint(1, 20), self.rng.randint(1, 400)])
        return f"<{tag}>" * depth + text + f"</{tag}>" * self.rng.randint(0, depth)

    def truncate(self, text: str) -> str:
        return text[: self._at(text)]

    def body(self, text: str, kind: str) -> tuple[bytes, str | None]:
        """``text`` as the bytes of a response, with a charset (or a BOM)."""
        rng = self.rng
        charset = rng.choice(CHARSETS)
        try:
            body = text.encode(charset or "utf-8", errors="surrogatepass")
        except (UnicodeError, LookupError):
            body = text.encode("utf-8", errors="surrogatepass")
        if rng.random() < 0.05:
            body = rng.choice(BOMS) + body
        if rng.random() < 0.05:
            charset = None  # fetch keeps only charsets Python knows (else None)
        return body, charset


Outcome = collections.Counter[str]


class BadOutput(Exception):
    """A parser returned text no UTF-8 encoder (the store, the writer) takes."""


def storable(*values: object) -> None:
    """Raise :class:`BadOutput` unless every str in ``values`` encodes."""
    for value in values:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise BadOutput(f"{value!r}: {exc}") from None


def run_sanitize(gen: Generator, text: str, outcome: Outcome) -> None:
    url = safe_url(text)
    if url is None:
        outcome["sanitize: url refused"] += 1
    storable(
        clean_html(text, SOURCE),
        clean_text(text, 200),
        url,
        absolute_url(text, SOURCE),
        mail_clean(text),
    )


def run_verify(gen: Generator, text: str, outcome: Outcome) -> None:
    rng = gen.rng
    kind = rng.choice(TYPES)
    template = rng.choice([H_ENTRY, H_ENTRY, PAGE, JSON, "{x}"])
    if template is H_ENTRY:
        slots = list(SLOTS)
        slots[rng.randrange(len(slots))] = "{x}"
        template = H_ENTRY.format(*slots, target="{target}")
    document = template.replace("{target}", TARGET).replace("{x}", text)
    body, charset = gen.body(document, kind)
    fetched = FetchResult(
        url=rng.choice([SOURCE, SOURCE, "https://other.example/x"]),
        status=rng.choice([200] * 20 + [404, 410, 500, 301]),
        headers={"Content-Type": kind},
        body=body,
        content_type=kind,
        charset=charset,
    )
    gen.context = (
        f"served as {kind}; charset={charset}; {fetched.status}; body {body!r}"
    )
    result = verify(SOURCE, TARGET, fetched)
    storable(*vars(result).values())
    outcome[
        "verify: refused" if isinstance(result, Refusal) else "verify: mention"
    ] += 1


def run_form(gen: Generator, text: str, outcome: Outcome) -> None:
    rng = gen.rng
    if rng.random() < 0.5:
        # The input as the whole body, as a client may send anything.
        body = text.encode("utf-8", errors="surrogatepass")
    else:
        from urllib.parse import quote

        fields = {
            "target": rng.choice([TARGET, TARGET, text]),
            "name": rng.choice(["Alice", text]),
            "comment": text,
            "website": rng.choice(["", "https://alice.example/", text]),
        }
        body = "&".join(
            f"{k}={quote(v, errors='surrogatepass')}" for k, v in fields.items()
        ).encode("ascii")
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": rng.choice(
            [
                "application/x-www-form-urlencoded",
                "application/x-www-form-urlencoded; charset=latin-1",
                "multipart/form-data; boundary=x",
            ]
        ),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8081",
        "wsgi.url_scheme": "http",
    }
    request = Request(environ)
    request.max_content_length = 64 * 1024
    values, errors = check_form(request.form, lambda url: url == TARGET)
    storable(*values.values())
    outcome["form: refused" if errors else "form: accepted"] += 1


STEPS: tuple[tuple[str, Callable[[Generator, str, Outcome], None]], ...] = (
    ("sanitize", run_sanitize),
    ("verify", run_verify),
    ("form", run_form),
)


class MF2Fallbacks(logging.Handler):
    """Counts verify's "microformats unreadable" fallbacks (caught, logged)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def fuzz(
    count: int, seed: int = 0, progress: float = 0.0, show: int = 5
) -> tuple[Outcome, list[tuple[str, str, str]]]:
    """Run ``count`` inputs; return the outcomes counted and the crashes
    (parser, repr of the input, traceback), the first ``show`` of each kind
    in full."""
    gen = Generator(seed)
    outcome: Outcome = collections.Counter()
    crashes: list[tuple[str, str, str]] = []
    kinds: collections.Counter[tuple[str, str]] = collections.Counter()
    fallbacks = MF2Fallbacks()
    verify_log = logging.getLogger("causerie.webmentions.verify.source")
    verify_log.addHandler(fallbacks)
    verify_log.propagate = False
    # mf2util logs every date it cannot read on the root logger; and bs4
    # warns about XML-looking input: both only fill the terminal here.
    root_handlers = logging.root.handlers
    logging.root.handlers = [logging.NullHandler()]
    warnings.simplefilter("ignore")
    started = last = time.monotonic()
    try:
        for n in range(1, count + 1):
            text = gen.text()
            for name, step in STEPS:
                gen.context = ""
                try:
                    step(gen, text, outcome)
                except UserError:
                    outcome[f"{name}: clean refusal (error)"] += 1
                except Exception as exc:
                    tb = traceback.extract_tb(exc.__traceback__)
                    where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"
                    key = (name, f"{type(exc).__name__} at {where}")
                    kinds[key] += 1
                    outcome[f"{name}: CRASH"] += 1
                    if kinds[key] <= show:
                        context = f" ({gen.context})" if gen.context else ""
                        crashes.append(
                            (name, repr(text) + context, traceback.format_exc())
                        )
            outcome["inputs"] += 1
            now = time.monotonic()
            if progress and now - last >= progress:
                last = now
                rate = n / (now - started)
                print(
                    f"  {n:,} inputs, {rate:,.0f}/s, {sum(kinds.values())} crashes",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        verify_log.removeHandler(fallbacks)
        verify_log.propagate = True
        logging.root.handlers = root_handlers
    outcome["verify: mf2 unreadable, kept as plain mention"] = fallbacks.count
    for (step_name, what), times in kinds.items():
        outcome[f"{step_name}: CRASH {what}"] = times

    return outcome, crashes


def _part(
    job: tuple[int, int, float],
) -> tuple[Outcome, list[tuple[str, str, str]], float]:
    count, seed, progress = job
    outcome, crashes = fuzz(count, seed, progress)
    return outcome, crashes, time.process_time()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs to run")
    parser.add_argument("--seed", type=int, default=0, help="generator's seed")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="processes (job i of N runs count/N inputs with seed SEED*1000+i)",
    )
    parser.add_argument(
        "--progress", type=float, default=30.0, help="seconds between progress lines"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.jobs <= 1:
        outcome, crashes = fuzz(args.count, args.seed, args.progress)
        cpu = time.process_time()
    else:
        import multiprocessing

        share, extra = divmod(args.count, args.jobs)
        jobs = [
            (share + (i < extra), args.seed * 1000 + i, args.progress)
            for i in range(args.jobs)
        ]
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            parts = pool.map(_part, jobs)
        outcome = collections.Counter()
        crashes = []
        cpu = 0.0
        for part_outcome, part_crashes, part_cpu in parts:
            outcome.update(part_outcome)
            crashes += part_crashes
            cpu += part_cpu
    seconds = time.monotonic() - started
    for name, text, tb in crashes:
        print(f"--- crash in {name}, input {text}\n{tb}")
    total = sum(v for k, v in outcome.items() if k.endswith(": CRASH"))
    print(
        f"fuzz: {outcome['inputs']:,} inputs (seed {args.seed}, {args.jobs} "
        f"job(s)) through sanitize, verify and form in {seconds:.0f} s "
        f"({cpu:.0f} s of CPU); {total} uncaught exceptions"
    )
    for key in sorted(outcome):
        if key != "inputs":
            print(f"  {key}: {outcome[key]:,}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
