"""Benchmark posting by e-mail: mails/s through the real pipeline, and the
seconds from an IMAP APPEND to the post file, with `mail poll --watch`.

    PYTHONPATH=tests .venv/bin/python bench/mail.py                    # about a minute
    PYTHONPATH=tests .venv/bin/python bench/mail.py --text 500 --photos 20 --latency 20

(PYTHONPATH=tests: part 3 starts Dovecot with the tests' own kit, tests/mail_kit.py.)

1. Text-only mails: the real pipeline of a temporary site (authorization from
   Authentication-Results, parsing, the atomic post write, the ledger; no
   reply, no hook) against the plain alternative, in the same run: the
   stdlib's parser and a plain file write of the text body, nothing checked.
2. Mails with three 12-megapixel photos (4000×3000 JPEG with EXIF): the
   pipeline (orientation, metadata stripped, resized to 2000 px plus a
   thumbnail, written) against the plain alternative, Pillow opening and
   saving each photo resized, nothing else.
3. Latency: Dovecot from Debian on loopback (as the tests start it), `publish
   mail poll --watch` as a real process (IMAP IDLE); a mail APPENDed, the
   clock stopped when its post file appears.

It prints Markdown tables; results go to docs/PERFORMANCE.md by hand, with
the machine they were measured on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

AR = "mx.maison-lumen.example; dkim=pass header.d=maison-lumen.example"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def mail(n: int, photos: tuple[bytes, ...] = ()) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = AR
    msg["From"] = "Claire Dubois <claire.dubois@maison-lumen.example>"
    msg["To"] = "blog@maison-lumen.example"
    msg["Subject"] = f"[Atelier] Des nouvelles de l’atelier, épisode {n} #lampes"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = make_msgid(idstring=f"bench{n}", domain="phone.example")
    paragraphs = "\n\n".join(
        f"Paragraphe {p} : la lampe Aube n° {n} est passée à l’atelier, où Karim a "
        "changé l’interrupteur et vérifié le câble. Elle repart demain."
        for p in range(6)
    )
    msg.set_content(paragraphs + "\n\nEnvoyé de mon iPhone\n")
    for k, data in enumerate(photos):
        msg.add_attachment(
            data, maintype="image", subtype="jpeg", filename=f"IMG_{k}.jpeg"
        )
    return bytes(msg)


def photo_12mp(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (4000, 3000), (30 + seed * 40 % 200, 90, 160))
    draw = ImageDraw.Draw(image)
    for i in range(0, 4000, 97):  # some detail, so JPEG has work to do
        draw.line((i, 0, 4000 - i, 3000), fill=(200, (i * 7) % 255, 60), width=9)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[2] = (45.0, 46.0, 12.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def site(root: Path, **mailposts: Any) -> Path:
    content = root / "content"
    (content / "posts").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "authors.toml", content / "authors.toml")
    values = {
        "address": "blog@maison-lumen.example",
        "authserv_id": "mx.maison-lumen.example",
        **mailposts,
    }
    settings = root / "pelicanconf.py"
    settings.write_text(
        (ROOT / "pelicanconf.py").read_text(encoding="utf-8")
        + f"\nPATH = {str(content)!r}\nTHEME = {str(ROOT / 'theme')!r}\n"
        f"MAILPOSTS = {values!r}\n",
        encoding="utf-8",
    )
    return settings


def pipeline_of(settings: Path) -> Any:
    from causerie.mailposts.service import make_pipeline
    from causerie.sitebuild import build as sitebuild

    return make_pipeline(sitebuild.load_settings(settings), environ={})


def run_pipeline(root: Path, raws: list[bytes]) -> float:
    from causerie.mailposts.model import PUBLISHED, Arrival

    pipeline = pipeline_of(site(root))
    start = time.perf_counter()
    for raw in raws:
        verdict = pipeline(Arrival(raw, "pipe"))
        assert verdict.outcome == PUBLISHED, verdict.reason
    return time.perf_counter() - start


def run_plain_text(root: Path, raws: list[bytes]) -> float:
    root.mkdir(parents=True)
    start = time.perf_counter()
    for n, raw in enumerate(raws):
        msg: Any = email.message_from_bytes(raw, policy=policy.default)
        body = msg.get_body(("plain",)).get_content()
        (root / f"{n}.md").write_text(
            f"Title: {msg['Subject']}\n\n{body}", encoding="utf-8"
        )
    return time.perf_counter() - start


def run_plain_photos(root: Path, raws: list[bytes]) -> float:
    from PIL import Image

    root.mkdir(parents=True)
    start = time.perf_counter()
    for n, raw in enumerate(raws):
        msg: Any = email.message_from_bytes(raw, policy=policy.default)
        for k, part in enumerate(msg.iter_attachments()):
            image = Image.open(io.BytesIO(part.get_content()))
            image.thumbnail((2000, 2000))
            image.save(root / f"{n}-{k}.jpg", "JPEG", quality=85)
    return time.perf_counter() - start


def latency(tmp: Path, count: int) -> list[float]:
    try:
        from mail_kit import PASSWORD, USER, start_dovecot
    except ImportError as exc:
        raise SystemExit(
            f"bench/mail.py: cannot import the tests' Dovecot kit ({exc}); "
            "run it as PYTHONPATH=tests .venv/bin/python bench/mail.py"
        ) from exc

    server = start_dovecot()
    proc = None
    try:
        settings = site(
            tmp / "latency",
            imap_host="127.0.0.1",
            imap_port=server.port,
            imap_security="none",
            imap_user=USER,
        )
        proc = subprocess.Popen(
            [
                *(sys.executable, str(ROOT / "publish.py"), "--settings"),
                *(str(settings), "mail", "poll", "--watch"),
            ],
            env={**os.environ, "CAUSERIE_IMAP_PASSWORD": PASSWORD},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        posts = tmp / "latency" / "content" / "posts"
        time.sleep(3)  # logged in and idling
        seconds = []
        for n in range(count):
            before = len(list(posts.glob("*.md")))
            start = time.perf_counter()
            server.append(mail(10_000 + n))
            while len(list(posts.glob("*.md"))) == before:
                if time.perf_counter() - start > 60:
                    raise RuntimeError("no post after 60 s:\n" + server.logs()[-2000:])
                time.sleep(0.005)
            seconds.append(time.perf_counter() - start)
            time.sleep(0.5)
        return seconds
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=int, default=300, help="text-only mails")
    parser.add_argument("--photos", type=int, default=6, help="mails with three photos")
    parser.add_argument("--latency", type=int, default=10, help="APPEND → post trials")
    args = parser.parse_args()
    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    with tempfile.TemporaryDirectory(prefix="causerie-mail-bench-") as tmp_name:
        tmp = Path(tmp_name)
        texts = [mail(n) for n in range(args.text)]
        ours = run_pipeline(tmp / "text", texts)
        plain = run_plain_text(tmp / "text-plain", texts)
        pictures = [photo_12mp(k) for k in range(3)]
        heavy = [mail(1000 + n, tuple(pictures)) for n in range(args.photos)]
        ours_photos = run_pipeline(tmp / "photos", heavy)
        plain_photos = run_plain_photos(tmp / "photos-plain", heavy)
        print(
            "| mails | Causerie's pipeline | plain alternative | ratio (plain / ours) |"
        )
        print("|---|---:|---:|---:|")
        print(
            f"| {args.text} text-only | {args.text / ours:.0f} mails/s | "
            f"{args.text / plain:.0f} mails/s | {ours and plain / ours:.2f} |"
        )
        print(
            f"| {args.photos} with three 12 MP photos | {args.photos / ours_photos:.2f} mails/s "
            f"({ours_photos / args.photos:.2f} s each) | {args.photos / plain_photos:.2f} mails/s | "
            f"{plain_photos / ours_photos:.2f} |"
        )
        if args.latency:
            seconds = latency(tmp, args.latency)
            print(
                "\n| IMAP APPEND → post file (`mail poll --watch`, IDLE) | median | max |"
            )
            print("|---|---:|---:|")
            print(
                f"| {len(seconds)} text mails | {statistics.median(seconds):.3f} s | "
                f"{max(seconds):.3f} s |"
            )


if __name__ == "__main__":
    main()
