"""A real sshd on loopback for the rsync target: its own config, host key and
throwaway client key in a temporary directory, a high port, stopped by PID."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

from conftest import missing, stop_process
from receiver_kit import free_port, wait_until

SSHD = "/usr/sbin/sshd"


def _answers(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        return s.recv(64).startswith(b"SSH-")


class Sshd:
    def __init__(self, workdir: Path) -> None:
        for tool in (SSHD, shutil.which("ssh"), shutil.which("rsync")):
            if not tool or not os.path.exists(tool):
                missing(
                    "sshd, ssh and rsync",
                    "apt-get install openssh-server rsync (.ci/run installs them)",
                )
        workdir.mkdir(parents=True)
        self.workdir = workdir
        self.key = workdir / "client_key"
        host_key = workdir / "host_key"
        for path in (self.key, host_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                check=True,
            )
        authorized = workdir / "authorized_keys"
        shutil.copy(f"{self.key}.pub", authorized)
        self.port = free_port()
        self.conf = workdir / "sshd_config"
        self.conf.write_text(
            f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {host_key}
AuthorizedKeysFile {authorized}
PidFile {workdir / "sshd.pid"}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
""",
            encoding="utf-8",
        )
        # sshd refuses to start without its privilege separation directory.
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.conf)],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: self.proc.poll() is None and _answers(self.port),
                15,
                lambda: self.proc.stderr.read() if self.proc.stderr else "",
            )
        except BaseException:
            self.stop()
            raise

    def deploy_settings(self, root: Path, **more: Any) -> dict[str, Any]:
        """A DEPLOY dict for this server; the host is not known: accept it."""
        return {
            "target": "rsync",
            "host": "127.0.0.1",
            "user": getpass.getuser(),
            "port": self.port,
            "identity_file": str(self.key),
            "ssh_options": ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"],
            "root": str(root),
            **more,
        }

    def stop(self) -> None:
        stop_process(self.proc)
