"""The `publish mail` commands as a user runs them: real processes, a real
Dovecot for `mail poll`, smtplib against `mail serve`, a pipe for `mail
import`; the real pipeline of a site behind each."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_publish, stop_process
from mail_kit import PASSWORD, USER, Dovecot, dovecot

__all__ = ["dovecot"]  # the fixture, from mail_kit
from receiver_kit import free_port, wait_until
from sender_kit import write_blog

GOLDEN = ROOT / "tests" / "data" / "mail" / "golden"
IPHONE = (GOLDEN / "iphone-mail.eml").read_bytes()  # dated 30 Nov 2026
#: On the wire, SMTP lines end with CRLF (RFC 5321 §2.3.8); smtplib sends
#: bytes as they are.
WIRE = IPHONE.replace(b"\n", b"\r\n")


def blog(root: Path, **mailposts: object) -> Path:
    settings = write_blog(root, {})
    values = {
        "address": "blog@maison-lumen.example",
        "authserv_id": "mx.maison-lumen.example",
        # The golden mails are from late November 2026: keep them fresh
        # whatever the day the tests run.
        "max_age_days": 100000,
        **mailposts,
    }
    settings.write_text(
        settings.read_text(encoding="utf-8") + f"\nMAILPOSTS = {values!r}\n",
        encoding="utf-8",
    )
    return settings


def posts(root: Path) -> list[Path]:
    return sorted((root / "content" / "posts").glob("*.md"))


def test_mail_import_from_a_file_a_maildir_and_a_pipe(tmp_path: Path) -> None:
    settings = blog(tmp_path / "blog")
    one = run_publish(
        "--settings", str(settings), "mail", "import", str(GOLDEN / "iphone-mail.eml")
    )
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("published")
    assert len(posts(tmp_path / "blog")) == 1

    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n, name in enumerate(("gmail-web", "windows-1252", "iphone-mail")):
        (maildir / "new" / f"{n}.eml").write_bytes(
            (GOLDEN / f"{name}.eml").read_bytes()
        )
    many = run_publish("--settings", str(settings), "mail", "import", str(maildir))
    assert many.returncode == 0, many.stderr
    assert sorted(line.split()[0] for line in many.stdout.splitlines()) == [
        "duplicate",
        "published",
        "published",
    ]

    piped = subprocess.run(
        [
            *(sys.executable, str(ROOT / "publish.py"), "--settings", str(settings)),
            *("mail", "import", "-"),
        ],
        input=(GOLDEN / "outlook-mobile.eml").read_bytes(),
        capture_output=True,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert len(posts(tmp_path / "blog")) == 4


def test_mail_import_says_try_again_when_it_cannot_write(tmp_path: Path) -> None:
    """A fault of ours: exit 75 (EX_TEMPFAIL), so a pipe transport keeps the
    mail; and nothing is recorded, so the next try publishes it."""
    settings = blog(tmp_path / "blog")
    posts_dir = tmp_path / "blog" / "content" / "posts"
    posts_dir.rmdir()
    posts_dir.write_text("not a directory")  # the disk refuses every post
    message = str(GOLDEN / "iphone-mail.eml")
    result = run_publish("--settings", str(settings), "mail", "import", message)
    assert result.returncode == 75, result.stdout + result.stderr
    assert result.stdout.startswith("error")
    posts_dir.unlink()
    posts_dir.mkdir()
    again = run_publish("--settings", str(settings), "mail", "import", message)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(posts(tmp_path / "blog")) == 1


def test_mail_poll_publishes_and_moves(dovecot: Dovecot, tmp_path: Path) -> None:
    settings = blog(
        tmp_path / "blog",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_user=USER,
    )
    dovecot.append(IPHONE)
    forged = IPHONE.replace(
        b"mx.maison-lumen.example;", b"mx.attacker.example;"
    ).replace(b"C1A2-iphone@", b"forged-iphone@")
    dovecot.append(forged)
    env = {**os.environ, "CAUSERIE_IMAP_PASSWORD": PASSWORD}
    result = run_publish("--settings", str(settings), "mail", "poll", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 messages: 2 handled, 0 kept" in result.stdout
    assert len(posts(tmp_path / "blog")) == 1
    assert dovecot.folder("INBOX") == []
    assert [s for s, _flags in dovecot.folder("Processed")] == [
        "[Atelier] La première Aube d’hiver #lampes"
    ]
    assert len(dovecot.folder("Quarantine")) == 1
    # Wrong password: a clear error, no traceback, no password in the output.
    bad = run_publish(
        "--settings",
        str(settings),
        "mail",
        "poll",
        env={**os.environ, "CAUSERIE_IMAP_PASSWORD": "nope-secret"},
    )
    assert bad.returncode == 1
    assert (
        "Traceback" not in bad.stderr and "nope-secret" not in bad.stderr + bad.stdout
    )


def test_mail_serve_takes_mail_by_smtp(tmp_path: Path) -> None:
    port = free_port()
    settings = blog(tmp_path / "blog", listen_port=port, max_message_bytes=200_000)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "publish.py"),
            "--settings",
            str(settings),
            "mail",
            "serve",
        ],
        cwd=settings.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: smtplib.SMTP("127.0.0.1", port, timeout=2).quit(), 30)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("size") and smtp.esmtp_features["size"] == "200000"
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail(
                    "a@example.com", ["someone-else@maison-lumen.example"], IPHONE
                )
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPSenderRefused) as too_big:
                smtp.sendmail(
                    "a@example.com", ["blog@maison-lumen.example"], IPHONE * 40
                )
            assert too_big.value.smtp_code == 552
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            # Not DKIM-signed (this listener verifies DKIM itself, and the
            # golden mail's Authentication-Results is not ours to trust here):
            # accepted with 250, then quarantined, kept, never published.
            assert (
                smtp.sendmail("a@example.com", ["blog@maison-lumen.example"], WIRE)
                == {}
            )
        kept = tmp_path / "blog" / "var" / "mail" / "quarantined"
        wait_until(lambda: len(list(kept.glob("*.eml"))) == 1, 30)
        assert posts(tmp_path / "blog") == []
    finally:
        stop_process(proc)
