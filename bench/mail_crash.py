"""Crash trials for posting by e-mail: kill the ingesting process at random
points, restart it, and count what became of every mail.

    .venv/bin/python bench/mail_crash.py                 # 50 trials of 50 mails
    .venv/bin/python bench/mail_crash.py --trials 100 --seed 7

Each trial starts from an empty site with a Maildir of 50 mails (40 from an
authorised author, one in five with a photo; 5 with a forged sender; 5 with
an attachment the blog refuses). It runs `publish mail import MAILDIR` as a
real process, kills it with SIGKILL after a random delay (within the time a
whole import takes), then runs the same command again to the end. Every mail
must end as exactly one post, or one quarantined or refused copy: the script
prints the counts of lost and doubled mails over all trials, and exits 1 if
any.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AR = "mx.maison-lumen.example; dkim=pass header.d=maison-lumen.example"
CLAIRE = "Claire Dubois <claire.dubois@maison-lumen.example>"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 140, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def mails(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """(expected outcome, raw message) for ``count`` mails."""
    made = []
    picture = photo()
    for n in range(count):
        kind = "post" if n % 10 < 8 else ("quarantined" if n % 10 == 8 else "refused")
        msg = EmailMessage()
        if kind != "quarantined":
            msg["Authentication-Results"] = AR
        msg["From"] = CLAIRE
        msg["To"] = "blog@maison-lumen.example"
        msg["Subject"] = (
            f"Nouvelle de l’atelier n° {n} : {rng.choice(['lampes', 'abat-jour', 'vitrine'])}"
        )
        msg["Date"] = format_datetime(NOW)
        msg["Message-ID"] = make_msgid(idstring=f"crash{n}", domain="phone.example")
        msg.set_content(f"Un court billet, le numéro {n}.\n\nEnvoyé de mon iPhone\n")
        if kind == "post" and n % 5 == 0:
            msg.add_attachment(
                picture, maintype="image", subtype="jpeg", filename="IMG.jpg"
            )
        if kind == "refused":
            msg.add_attachment(
                b"MZ\x90\x00" * 64,
                maintype="application",
                subtype="octet-stream",
                filename="setup.exe",
            )
        made.append((kind, bytes(msg)))
    return made


def make_site(root: Path, batch: list[tuple[str, bytes]]) -> Path:
    content = root / "content"
    (content / "posts").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "authors.toml", content / "authors.toml")
    shutil.copytree(ROOT / "content" / "images", content / "images")
    maildir = root / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n, (_kind, raw) in enumerate(batch):
        (maildir / "new" / f"{1700000000 + n}.M{n}P1.bench").write_bytes(raw)
    conf = (
        (ROOT / "pelicanconf.py").read_text(encoding="utf-8")
        + f"""
PATH = {str(content)!r}
THEME = {str(ROOT / "theme")!r}
PLUGIN_PATHS = [{str(ROOT / "plugins")!r}]
OUTPUT_PATH = {str(root / "output")!r}
WEBMENTIONS = {{"database": "sqlite:///{root / "var" / "mentions.sqlite3"}"}}
MAILPOSTS = {{
    "address": "blog@maison-lumen.example",
    "authserv_id": "mx.maison-lumen.example",
}}
"""
    )
    settings = root / "pelicanconf.py"
    settings.write_text(conf, encoding="utf-8")
    return settings


def command(publish: Path, settings: Path) -> list[str]:
    return [
        sys.executable,
        str(publish),
        "--settings",
        str(settings),
        "mail",
        "import",
        str(settings.parent / "Maildir"),
    ]


def audit(root: Path, batch: list[tuple[str, bytes]]) -> tuple[int, int]:
    """(lost, doubled) mails of a finished trial."""
    import email
    from email import policy

    ids: dict[str, list[str]] = {k: [] for k in ("post", "quarantined", "refused")}
    for kind, raw in batch:
        ids[kind].append(
            str(email.message_from_bytes(raw, policy=policy.default)["Message-ID"])
        )
    posts: collections.Counter[str] = collections.Counter()
    for path in (root / "content" / "posts").glob("*.md"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                break
            if line.lower().startswith("message-id:"):
                posts[line.split(":", 1)[1].strip()] += 1
    lost = sum(1 for mid in ids["post"] if posts[mid] == 0)
    doubled = sum(count - 1 for count in posts.values() if count > 1)
    doubled += sum(1 for mid in posts if mid not in ids["post"])
    for kind in ("quarantined", "refused"):
        kept = len(list((root / "var" / "mail" / kind).glob("*.eml")))
        lost += max(0, len(ids[kind]) - kept)
        doubled += max(0, kept - len(ids[kind]))
    return lost, doubled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--mails", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--publish", type=Path, default=ROOT / "publish.py")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    batch = mails(args.mails, rng)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryDirectory(prefix="causerie-crash-") as tmp:
        # How long a whole import takes: the window the kills are spread over.
        calibrate = make_site(Path(tmp) / "calibrate", batch)
        start = time.perf_counter()
        subprocess.run(
            command(args.publish, calibrate), env=env, capture_output=True, check=False
        )
        window = time.perf_counter() - start
        lost = doubled = killed = 0
        for trial in range(args.trials):
            root = Path(tmp) / f"trial-{trial}"
            settings = make_site(root, batch)
            proc = subprocess.Popen(
                command(args.publish, settings),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0, window))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait()
            subprocess.run(
                command(args.publish, settings),
                env=env,
                capture_output=True,
                check=False,
            )
            trial_lost, trial_doubled = audit(root, batch)
            lost += trial_lost
            doubled += trial_doubled
            shutil.rmtree(root)
            print(
                f"trial {trial + 1:>3}: lost {trial_lost}, doubled {trial_doubled}",
                file=sys.stderr,
            )
    print(
        "| trials | mails per trial | killed mid-import | lost | doubled | whole import |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.trials} | {args.mails} | {killed} | {lost} | {doubled} | {window:.1f} s |"
    )
    return 1 if lost or doubled else 0


if __name__ == "__main__":
    sys.exit(main())
