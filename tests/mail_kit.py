"""Real mail servers and messages for the mail adapter tests: Dovecot (IMAP)
from Debian on a loopback port, a scripted pipeline, DKIM keys."""

from __future__ import annotations

import base64
import contextlib
import email
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import missing, stop_process
from imapclient import IMAPClient
from receiver_kit import free_port

from causerie.mailposts import model
from causerie.mailposts.settings import MailSettings

USER, PASSWORD = "blog", "imap-test-secret"
#: The unprivileged user that owns the mail when the tests run as root.
MAIL_UID = 65534


def message(subject: str, body: str = "Bonjour.\n", **headers: str) -> bytes:
    """A small RFC 5322 message with CRLF line ends (as on the wire)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = headers.pop("From", "Claire Dubois <claire@example.com>")
    msg["To"] = headers.pop("To", "blog@example.com")
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((subject, body)))}@example.com>"
    msg["Date"] = "Mon, 23 Nov 2026 12:00:00 +0100"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def subject_of(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=policy.default)["Subject"])


class Scripted:
    """A pipeline whose verdict depends on the subject: "publish…" gives
    published, "quarantine…", "refuse…", "retry…" their outcome, "boom…"
    raises. Every arrival is recorded; ``gate`` (when set) blocks each call
    until the test releases it."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.arrivals: list[model.Arrival] = []
        self.gate = gate
        self.called = threading.Condition()
        self.fail_first: set[str] = set()  # subjects that raise once, then publish

    def __call__(self, arrival: model.Arrival) -> model.Verdict:
        with self.called:
            self.arrivals.append(arrival)
            self.called.notify_all()
        if self.gate is not None:
            self.gate.wait(30)
        subject = subject_of(arrival.raw)
        if subject in self.fail_first:
            self.fail_first.discard(subject)
            raise RuntimeError(f"the disk is on fire ({subject})")
        for prefix, outcome in (
            ("quarantine", model.QUARANTINED),
            ("refuse", model.REFUSED),
            ("retry", model.RETRY),
            ("draft", model.DRAFTED),
        ):
            if subject.startswith(prefix):
                return model.Verdict(outcome, reason=f"scripted {outcome}")
        if subject.startswith("boom"):
            raise RuntimeError("the pipeline broke")
        return model.Verdict(model.PUBLISHED, path=f"posts/{subject}.md")

    def subjects(self) -> list[str]:
        with self.called:
            return [subject_of(a.raw) for a in self.arrivals]

    def wait_for(self, count: int, timeout: float = 15) -> list[model.Arrival]:
        """Block until ``count`` arrivals were seen (or fail)."""
        with self.called:
            if not self.called.wait_for(lambda: len(self.arrivals) >= count, timeout):
                raise AssertionError(
                    f"waited {timeout} s for {count} arrivals, saw {len(self.arrivals)}"
                )
            return list(self.arrivals)


def wait_until(condition: Callable[[], Any], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


# --- Dovecot ----------------------------------------------------------------


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (
            p
            for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")
            if os.path.exists(p)
        ),
        None,
    )


class Dovecot:
    """A real Dovecot IMAP server on 127.0.0.1, in its own directory.

    Run as root (CI), the mail belongs to uid 65534 and Dovecot's own
    users; run as someone else, everything is that user's. ``capability``
    replaces the advertised IMAP capabilities (to hide MOVE, say).
    """

    def __init__(
        self, binary: str, capability: str | None = None, tls: bool = False
    ) -> None:
        self.binary = binary
        # Not pytest's tmp_path: its parents are 0700 root, which Dovecot's
        # unprivileged processes could not traverse.
        self.root = Path(tempfile.mkdtemp(prefix="causerie-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.imaps_port = free_port()
        self.cert = self.root / "cert.pem"
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = self.root / "dovecot.conf"
        self.log = self.root / "dovecot.log"
        mail = self.root / "mail"
        (self.root / "run").mkdir()
        mail.mkdir()
        root_run = os.geteuid() == 0
        uid = MAIL_UID if root_run else os.getuid()
        gid = MAIL_UID if root_run else os.getgid()
        if root_run:
            os.chown(mail, uid, gid)
        users = self.root / "users"
        users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail / USER}\n")
        users.chmod(0o644)
        lines = [
            "protocols = imap",
            "listen = 127.0.0.1",
            f"base_dir = {self.root / 'run'}",
            f"log_path = {self.log}",
            f"info_log_path = {self.log}",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login",
            "mail_location = maildir:~/Maildir",
            f"first_valid_uid = {uid}",
            f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {users}\n}}",
            f"userdb {{\n  driver = passwd-file\n  args = {users}\n}}",
            "service imap-login {\n"
            f"  inet_listener imap {{\n    address = 127.0.0.1\n    port = {self.port}\n  }}\n"
            f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.imaps_port if tls else 0}\n  }}\n}}",
            "service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n"
            "  inet_listener pop3s {\n    port = 0\n  }\n}",
            "service submission-login {\n  inet_listener submission {\n    port = 0\n  }\n}",
        ]
        if not root_run:
            me = os.environ.get("USER") or str(os.getuid())
            lines += [f"default_internal_user = {me}", f"default_login_user = {me}"]
        if tls:
            key = self.root / "key.pem"
            make_certificate(self.cert, key)
            lines += ["ssl = yes", f"ssl_cert = <{self.cert}", f"ssl_key = <{key}"]
        else:
            lines.append("ssl = no")
        if capability is not None:
            lines.append(f"imap_capability = {capability}")
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Its own process group, so that stopping it stops its imap
            # processes too: they outlive a TERMed master (Dovecot 2.3
            # with -F), and a restart must drop the clients' connections.
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"dovecot exited: {err}\n{self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on port {self.port}\n{self.logs()}")

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            stop_process(self.proc)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # any straggler
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def settings(self, **overrides: Any) -> MailSettings:
        values: dict[str, Any] = {
            "address": "blog@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": self.port,
            "imap_security": "none",
            "imap_user": USER,
            **overrides,
        }
        return MailSettings(**values)

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.append(folder, raw)

    def folder(self, name: str) -> list[tuple[str, tuple[bytes, ...]]]:
        """(subject, flags) of each message of a folder, read without
        changing it (EXAMINE, BODY.PEEK); [] when the folder does not exist."""
        with self.client() as client:
            if not client.folder_exists(name):
                return []
            client.select_folder(name, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return []
            data = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
            return sorted(
                (
                    subject_of(d[b"BODY[HEADER.FIELDS (SUBJECT)]"]),
                    tuple(sorted(f for f in d[b"FLAGS"] if f != b"\\Recent")),
                )
                for d in data.values()
            )

    def folders(self) -> set[str]:
        with self.client() as client:
            return {name for _, _, name in client.list_folders()}


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot for one test, removed after it."""
    server = start_dovecot()
    try:
        yield server
    finally:
        server.cleanup()


def start_dovecot(capability: str | None = None, tls: bool = False) -> Dovecot:
    """A started Dovecot, or the test is skipped (fails under CI=true)."""
    binary = dovecot_binary()
    if binary is None:
        missing("Dovecot (dovecot)", "apt-get install dovecot-imapd")
    assert binary
    server = Dovecot(binary, capability, tls)
    try:
        server.start()
    except RuntimeError:
        server.cleanup()
        raise
    return server


# --- keys -------------------------------------------------------------------


def openssl() -> str:
    binary = shutil.which("openssl")
    if binary is None:
        missing("openssl", "apt-get install openssl")
    assert binary
    return binary


def make_certificate(cert: Path, key: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (its own CA in the tests)."""
    subprocess.run(
        [
            openssl(),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    cert.chmod(0o644)


def dkim_keypair(directory: Path) -> tuple[bytes, bytes]:
    """A fresh 2048-bit RSA key: (private key PEM, the DNS TXT record of its
    public half, RFC 6376 §3.6.1)."""
    key = directory / "dkim.pem"
    subprocess.run(
        [openssl(), "genrsa", "-out", str(key), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        [openssl(), "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
