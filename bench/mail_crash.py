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

With ``--replies``, the trials kill during edits and deletions by reply
(issue 12): a site is first given posts with a photo each, their
confirmations caught by an SMTP listener of this script; then each trial
copies that site and imports a Maildir of answers to the confirmations —
one in three ``SUPPRIMER``, one in three ``MODIFIER`` with a new text, one in
three ``MODIFIER`` with a new text and a new photo (another colour, at the
same path) — kills the import, runs it again, and checks every post: an
edit fully old or fully new, photo included; a deletion with its photos
gone; the version kept before each change holding the old text::

    .venv/bin/python bench/mail_crash.py --replies --trials 20 --mails 15
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import io
import os
import random
import re
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


def make_site(root: Path, batch: list[tuple[str, bytes]], mailposts: str = "") -> Path:
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
OUTPUT_PATH = {str(root / "output")!r}
WEBMENTIONS = {{"database": "sqlite:///{root / "var" / "mentions.sqlite3"}"}}
MAILPOSTS = {{
    "address": "blog@maison-lumen.example",
    "authserv_id": "mx.maison-lumen.example",
    {mailposts}
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


# --- kills during edits and deletions by reply --------------------------------

BLUE, RED = (40, 90, 200), (200, 40, 40)


def coloured_photo(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def colour_of(data: bytes) -> tuple[int, int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        r, g, b = image.convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
    return int(r), int(g), int(b)


def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) < 40 for x, y in zip(a, b, strict=True))


def post_mails(count: int) -> list[bytes]:
    blue = coloured_photo(BLUE)
    made = []
    for n in range(count):
        msg = EmailMessage()
        msg["Authentication-Results"] = AR
        msg["From"] = CLAIRE
        msg["To"] = "blog@maison-lumen.example"
        msg["Subject"] = f"Atelier, semaine {n}"
        msg["Date"] = format_datetime(NOW)
        msg["Message-ID"] = make_msgid(idstring=f"post{n}", domain="phone.example")
        msg.set_content(f"Texte d’origine n° {n}.\n")
        msg.add_attachment(blue, maintype="image", subtype="jpeg", filename="IMG.jpg")
        made.append(bytes(msg))
    return made


#: What an answer does: "delete", "edit" (new text), "photo" (new text, new photo).
KINDS = ("delete", "edit", "photo")


def reply_mails(posts: list[bytes], confirmations: dict[str, str]) -> list[bytes]:
    import email
    from email import policy

    red = coloured_photo(RED)
    made = []
    for n, raw in enumerate(posts):
        original = email.message_from_bytes(raw, policy=policy.default)
        kind = KINDS[n % 3]
        msg = EmailMessage()
        msg["Authentication-Results"] = AR
        msg["From"] = CLAIRE
        msg["To"] = "blog@maison-lumen.example"
        msg["Subject"] = f"Re: {original['Subject']}"
        msg["Date"] = format_datetime(NOW)
        msg["Message-ID"] = make_msgid(idstring=f"answer{n}", domain="phone.example")
        msg["In-Reply-To"] = confirmations[str(original["Message-ID"])]
        if kind == "delete":
            msg.set_content("SUPPRIMER\n")
        else:
            msg.set_content(f"MODIFIER\n\nTexte corrigé n° {n}.\n")
        if kind == "photo":
            msg.add_attachment(
                red, maintype="image", subtype="jpeg", filename="IMG.jpg"
            )
        made.append(bytes(msg))
    return made


class Replies:
    """An aiosmtpd handler: the blog's replies, kept."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(
        self, server: object, session: object, envelope: object
    ) -> str:
        self.received.append(bytes(envelope.original_content))  # type: ignore[attr-defined]
        return "250 OK"


def post_files(root: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = collections.defaultdict(list)
    for path in (root / "content" / "posts").glob("*.md"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                break
            if line.lower().startswith("message-id:"):
                found[line.split(":", 1)[1].strip()].append(path)
    return found


def audit_replies(
    root: Path,
    posts: list[bytes],
    answers: list[bytes],
    originals: dict[str, list[str]],
) -> collections.Counter[str]:
    """lost / doubled / half-applied / bad-history counts of a finished trial.
    ``originals``: each post's media files before the answers."""
    import email
    import hashlib
    from email import policy

    bad: collections.Counter[str] = collections.Counter()
    files = post_files(root)
    content = root / "content"
    history = root / "var" / "mail" / "history"
    for n, (raw, answer) in enumerate(zip(posts, answers, strict=True)):
        mid = str(email.message_from_bytes(raw, policy=policy.default)["Message-ID"])
        kind = KINDS[n % 3]
        found = files.get(mid, [])
        old_media = originals[mid]
        key = hashlib.sha256(answer).hexdigest()[:16]
        kept = list(history.glob(f"**/{key}/post.md"))
        if len(kept) != 1 or f"Texte d’origine n° {n}." not in kept[0].read_text(
            encoding="utf-8"
        ):
            bad["bad-history"] += 1
        if len(found) > 1:
            bad["doubled"] += len(found) - 1
        if kind == "delete":
            if found:
                bad["lost"] += 1  # the deletion did not happen
            elif any((content / rel).exists() for rel in old_media):
                bad["half-applied"] += 1  # post gone, photos still public
            continue
        if not found:
            bad["lost"] += 1  # an edit removed the post
            continue
        text = found[0].read_text(encoding="utf-8")
        new, old = f"Texte corrigé n° {n}." in text, f"Texte d’origine n° {n}." in text
        if not new and old:
            bad["lost"] += 1  # the edit never happened
            continue
        if text.count(f"Texte corrigé n° {n}.") > 1:
            bad["doubled"] += 1
        media = re.findall(r"\{static\}/(images/mail/[^\s)]+)", text)
        if old or any(not (content / rel).exists() for rel in media):
            bad["half-applied"] += 1
            continue
        if kind == "edit":
            if media or any((content / rel).exists() for rel in old_media):
                bad["half-applied"] += 1  # the old photo still there
        else:
            full = [
                rel
                for rel in media
                if not rel.split("/")[-1].split(".")[0].endswith("thumb")
            ]
            if not full or not all(
                near(colour_of((content / rel).read_bytes()), RED) for rel in full
            ):
                bad["half-applied"] += 1  # the new text with the old photo
            elif any((content / rel).exists() for rel in old_media):
                bad["half-applied"] += 1  # the old photo still public
    return bad


def full_images(text: str) -> list[str]:
    return [
        rel
        for rel in re.findall(r"\{static\}/(images/mail/[^\s)]+\.jpg)", text)
        if not rel.endswith("-thumb.jpg")
    ]


def audit_at_kill(root: Path, posts: list[bytes]) -> int:
    """Edits half-applied right after the kill, before the rerun: a post
    must be wholly old (old text, its blue photo there) or wholly new (new
    text; its red photo, or none): never the old text with a new photo, a
    post pointing at a missing file. Deletions: the post still whole, or gone."""
    import email
    from email import policy

    half = 0
    files = post_files(root)
    content = root / "content"
    for n, raw in enumerate(posts):
        mid = str(email.message_from_bytes(raw, policy=policy.default)["Message-ID"])
        for path in files.get(mid, []):
            text = path.read_text(encoding="utf-8")
            media = re.findall(r"\{static\}/(images/mail/[^\s)]+)", text)
            if any(not (content / rel).exists() for rel in media):
                half += 1
                continue
            colours = [
                colour_of((content / rel).read_bytes()) for rel in full_images(text)
            ]
            if f"Texte d’origine n° {n}." in text:
                ok = len(colours) == 1 and near(colours[0], BLUE)
            elif KINDS[n % 3] == "photo":
                ok = len(colours) == 1 and near(colours[0], RED)
            else:
                ok = not colours
            half += not ok
    return half


def reply_trials(
    args: argparse.Namespace, rng: random.Random, env: dict[str, str]
) -> int:
    import email
    import socket
    import sqlite3
    from email import policy

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Replies()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    extra = (
        f'"smtp_host": "127.0.0.1", "smtp_port": {port}, "replies_per_hour": 100000,'
    )
    totals: collections.Counter[str] = collections.Counter()
    calibration: collections.Counter[str] = collections.Counter()
    killed = 0
    try:
        with tempfile.TemporaryDirectory(prefix="causerie-crash-replies-") as tmp:
            posts = post_mails(args.mails)
            template = Path(tmp) / "template"
            settings = make_site(template, [("post", raw) for raw in posts], extra)
            first = subprocess.run(
                command(args.publish, settings),
                env=env,
                capture_output=True,
                check=False,
            )
            if first.returncode:
                print(first.stdout.decode(), first.stderr.decode(), file=sys.stderr)
                return 2
            confirmations = {}
            for reply in handler.received:
                msg = email.message_from_bytes(reply, policy=policy.default)
                confirmations[str(msg["In-Reply-To"])] = str(msg["Message-ID"])
            answers = reply_mails(posts, confirmations)
            with sqlite3.connect(template / "var" / "mail" / "ledger.sqlite3") as conn:
                paths = dict(conn.execute("SELECT message_id, path FROM messages"))
            originals = {
                mid: re.findall(
                    r"\{static\}/(images/mail/[^\s)]+)",
                    (template / "content" / path).read_text(encoding="utf-8"),
                )
                for mid, path in paths.items()
            }
            shutil.rmtree(template / "Maildir")
            window = 0.0
            for trial in range(-1, args.trials):  # -1: the calibration, not killed
                root = Path(tmp) / f"trial-{trial}"
                shutil.copytree(template, root)
                conf = (root / "pelicanconf.py").read_text(encoding="utf-8")
                (root / "pelicanconf.py").write_text(
                    conf.replace(str(template), str(root)), encoding="utf-8"
                )
                for sub in ("new", "cur", "tmp"):
                    (root / "Maildir" / sub).mkdir(parents=True)
                for n, raw in enumerate(answers):
                    (
                        root / "Maildir" / "new" / f"{1800000000 + n}.M{n}P1.bench"
                    ).write_bytes(raw)
                run = command(args.publish, root / "pelicanconf.py")
                if trial < 0:
                    start = time.perf_counter()
                    subprocess.run(run, env=env, capture_output=True, check=False)
                    window = time.perf_counter() - start
                else:
                    proc = subprocess.Popen(
                        run,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(rng.uniform(0, window))
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGKILL)
                        killed += 1
                    proc.wait()
                    at_kill = audit_at_kill(root, posts)
                    subprocess.run(run, env=env, capture_output=True, check=False)
                bad = audit_replies(root, posts, answers, originals)
                if trial >= 0 and at_kill:
                    bad["half-applied at the kill"] += at_kill
                # The calibration is not killed: a fault there is a plain bug.
                (calibration if trial < 0 else totals).update(bad)
                shutil.rmtree(root)
                label = "calibration" if trial < 0 else f"trial {trial + 1:>3}"
                print(f"{label}: {dict(bad) or 'all good'}", file=sys.stderr)
    finally:
        controller.stop()
    print(
        "| trials | answers per trial | killed mid-import | lost | doubled "
        "| half-applied (after the rerun) | half-applied (at the kill) "
        "| bad history | whole import |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.trials} | {args.mails} | {killed} | {totals['lost']} "
        f"| {totals['doubled']} | {totals['half-applied']} "
        f"| {totals['half-applied at the kill']} | {totals['bad-history']} "
        f"| {window:.1f} s |"
    )
    if calibration:
        print(f"without a kill, already: {dict(calibration)}")
    return 1 if sum(totals.values()) + sum(calibration.values()) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--mails", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--publish", type=Path, default=ROOT / "publish.py")
    parser.add_argument(
        "--replies",
        action="store_true",
        help="kill during edits and deletions by reply (--mails posts, one answer each)",
    )
    args = parser.parse_args()
    if args.replies:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return reply_trials(args, random.Random(args.seed), env)
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
