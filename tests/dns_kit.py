"""A tiny DNS server on loopback (UDP, dnspython builds the answers): the
DKIM key of a test domain, or a failure on demand — SERVFAIL, or silence
(the client's lookup times out)."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

ANSWER, SERVFAIL, SILENT = "answer", "servfail", "silent"


class DnsServer:
    """``with DnsServer({"sel._domainkey.example.com.": b"v=DKIM1; …"}) as dns:``
    — ``dns.port`` on 127.0.0.1; set ``dns.mode`` to fail on demand."""

    def __init__(self, records: dict[str, bytes]) -> None:
        self.records = {k.lower().rstrip(".") + ".": v for k, v in records.items()}
        self.mode = ANSWER
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            name = query.question[0].name.to_text().lower()
            self.queries.append(name)
            if self.mode == SILENT:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if self.mode == SERVFAIL:
                response.set_rcode(dns.rcode.SERVFAIL)
            elif name in self.records:
                record = self.records[name]
                # A TXT record is strings of at most 255 bytes (RFC 1035 §3.3.14).
                chunks = " ".join(
                    '"' + record[i : i + 255].decode("ascii") + '"'
                    for i in range(0, len(record), 255)
                )
                response.answer.append(
                    dns.rrset.from_text(name, 300, "IN", "TXT", chunks)
                )
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self._sock.sendto(response.to_wire(), peer)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()
