"""Malformed MIME repaired, legacy charsets recognised, raw MIME caught (pure).

Real mail is often broken in ways the ``email`` package leaves as they are:

- a ``multipart`` whose ``boundary`` parameter is missing or does not match
  the delimiter lines of its body (StartBoundaryNotFoundDefect): the stdlib
  keeps the whole body, headers and base64 included, as one text.
  :func:`recovered_multipart` finds the delimiter actually used (RFC 2046
  §5.1.1: "--" + boundary, then the part's header lines) and parses the
  body again with it;
- a text part whose Content-Transfer-Encoding lies: declared ``base64`` but
  written as plain text (the stdlib then "decodes" it to garbage), or
  declared ``7bit``/``8bit``/absent but actually base64 or quoted-printable
  (the text would be published encoded). :func:`transfer_decoded` gives the
  bytes as they were written;
- 8-bit text with no charset, or a wrong one (raw Big5, GB2312/GBK,
  Shift_JIS, KOI8-R…): :func:`detect_text` tries what the bytes say
  (charset-normalizer, plus a KOI8-R/Windows-1251 check that it lacks).

Whatever still looks like MIME after that — header blocks, base64 runs,
quoted-printable soft breaks — is caught by :func:`looks_like_mime`: such a
message is refused with a reason, never published raw.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from email import policy
from email.message import Message
from email.parser import BytesParser

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

__all__ = [
    "detect_text",
    "garbled",
    "looks_like_mime",
    "recovered_multipart",
    "transfer_decoded",
    "undeclared_base64",
]

#: A delimiter line (RFC 2046 §5.1.1) followed by a header of its part.
_DELIMITER = re.compile(
    rb"^--([^\s\"]{1,200}?)(?:--)?[ \t]*\r?\n(?=content-[a-z-]+[ \t]*:)",
    re.IGNORECASE | re.MULTILINE,
)
_BASE64_LINE = re.compile(rb"^[A-Za-z0-9+/]+={0,2}$")
_QP_ESCAPE = re.compile(rb"=[0-9A-F]{2}")
_QP_SOFT_BREAK = re.compile(rb"[^=\s]=\r?$", re.MULTILINE)


def recovered_multipart(part: Message) -> Message | None:
    """``part`` (a multipart the parser could not split) parsed again with
    the delimiter its body really uses, or None if it has none."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    found = _DELIMITER.search(payload)
    if found is None:
        return None
    boundary = found.group(1).decode("ascii", "replace")
    head = f'Content-Type: {part.get_content_type()}; boundary="{boundary}"\r\n\r\n'
    again = BytesParser(policy=policy.default).parsebytes(head.encode() + payload)
    if not again.is_multipart() or not again.get_payload():
        return None
    return again


def transfer_decoded(part: Message) -> bytes:
    """The body of leaf ``part`` decoded as it was really encoded, whatever
    its Content-Transfer-Encoding says (see the module doc)."""
    declared = str(part.get("Content-Transfer-Encoding") or "").strip().lower()
    decoded = part.get_payload(decode=True)
    data = decoded if isinstance(decoded, bytes) else b""
    if declared == "base64":
        bad = any("Base64" in type(d).__name__ for d in part.defects)
        raw = _raw_payload(part) if bad else b""
        if bad and not _is_base64(raw):
            return raw  # never encoded: the stdlib's "decoding" is garbage
        return data
    if declared == "quoted-printable":
        return data
    undone = undeclared_base64(data)
    if undone is not None and _texty(undone):
        return undone
    if _is_quoted_printable(data):
        undone = quopri.decodestring(data)
        if _texty(undone):
            return undone
    return data


def undeclared_base64(data: bytes) -> bytes | None:
    """``data`` decoded if it is base64 that no header declared, else None."""
    if not _is_base64(data):
        return None
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _texty(data: bytes) -> bool:
    """Whether decoded ``data`` is text (no NUL, hardly a control)."""
    if b"\0" in data:
        return False
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return controls * 100 <= len(data)


def _raw_payload(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, str):
        # Bytes the parser could not read as ASCII are kept as surrogates.
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _is_base64(data: bytes) -> bool:
    """Whether ``data`` is only base64 lines (at least 16 characters, a
    multiple of 4 once joined): no word, space or punctuation of prose."""
    lines = [line.strip() for line in data.splitlines() if line.strip()]
    joined = b"".join(lines)
    return (
        len(joined) >= 16
        and len(joined) % 4 == 0
        and all(_BASE64_LINE.match(line) for line in lines)
        # A line of prose has lowercase and uppercase letters and digits
        # rarely all three in 16+ characters with no space; base64 always.
        and any(c in joined for c in b"0123456789+/")
    )


def _is_quoted_printable(data: bytes) -> bool:
    escapes = len(_QP_ESCAPE.findall(data))
    soft = len(_QP_SOFT_BREAK.findall(data))
    return soft >= 2 or escapes >= 4 or (soft >= 1 and escapes >= 1)


#: Encodings :func:`detect_text` may choose: those of scripts that a Latin
#: reading turns into garbage. A guess of another Latin code page is not
#: trusted (charset-normalizer often says cp1250 for French): the caller's
#: Windows-1252 reading stands.
_DETECTABLE = frozenset(
    {
        "big5", "big5hkscs", "gb2312", "gbk", "gb18030", "hz",
        "shift_jis", "shift_jis_2004", "shift_jisx0213", "cp932", "euc_jp",
        "euc_jis_2004", "euc_jisx0213", "iso2022_jp", "iso2022_jp_2",
        "euc_kr", "cp949", "johab", "iso2022_kr",
        "koi8_r", "koi8_u", "cp1251", "iso8859_5", "mac_cyrillic", "cp866",
        "cp1253", "iso8859_7", "cp1255", "iso8859_8", "cp1256", "iso8859_6",
        "tis_620", "cp874",
    }
)  # fmt: skip
_CYRILLIC = re.compile("[\u0400-\u04ff]+")
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")


def detect_text(data: bytes) -> str | None:
    """``data`` decoded in the legacy charset it is written in, when that is
    clear and not a Latin one (see :data:`_DETECTABLE`); else None."""
    if not re.search(rb"[\x80-\xff]", data):
        return None
    # A Latin text (French, Polish, Turkish…) read as Windows-1252 is mostly
    # ASCII letters, even when it is the wrong Latin code page; only a
    # non-Latin script read so is mostly accented letters ("ÎÒÃÇÓëÉÏ").
    latin = _letters(data.decode("cp1252", "replace"))
    if not latin or sum(ord(c) > 127 for c in latin) * 10 < 3 * len(latin):
        return None
    found = _cyrillic(data)
    if found is None:
        best = from_bytes(data).best()
        if best is None or best.encoding not in _DETECTABLE:
            return None
        found = str(best)
    letters = _letters(found)
    # What is detected must be in another script: mostly letters beyond
    # Latin (U+0250 on), or it is one more misreading.
    if sum(ord(c) >= 0x250 for c in letters) * 10 < 6 * len(letters):
        return None
    # Shift_JIS reads any run of 0xA1-0xDF as half-width katakana, which
    # Japanese mail hardly uses: a text made of them is another charset.
    if len(_HALFWIDTH_KANA.findall(found)) * 5 > len(found):
        return None
    return found


def _letters(text: str) -> list[str]:
    return [c for c in text if c.isalpha()]


def _cyrillic(data: bytes) -> str | None:
    """Russian text in KOI8-R or Windows-1251, told apart by letter case:
    the two put lowercase and uppercase at swapped places (0xC0-0xDF vs
    0xE0-0xFF), so the wrong one gives words in inverted case."""
    best: tuple[float, str] | None = None
    for codec in ("koi8_r", "cp1251"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        words = _CYRILLIC.findall(text)
        letters = sum(len(w) for w in words)
        high = sum(1 for b in data if b >= 0x80)
        latin = len(re.findall("[A-Za-z]", text))
        # Russian text is Cyrillic through and through; "café" in KOI8-R
        # is "cafИ": one letter among Latin ones.
        if letters < 8 or letters < 0.8 * high or letters < latin:
            continue
        natural = sum(len(w) for w in words if w[1:].islower() or len(w) == 1)
        score = natural / letters
        if score >= 0.8 and (best is None or score > best[0]):
            best = (score, text)
    return best[1] if best else None


def garbled(text: str) -> bool:
    """Whether ``text`` reads as mojibake (a charset misread): charset-
    normalizer's mess ratio of its first 10,000 characters."""
    sample = text[:10_000]
    return bool(re.search("[\x80-\uffff]", sample)) and mess_ratio(sample) > 0.4


#: MIME header lines, in a text where none belongs.
_MIME_HEADER = re.compile(
    r"^(?:content-(?:type|transfer-encoding|disposition|id)|mime-version)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_BASE64_RUN = re.compile(r"(?:^[A-Za-z0-9+/]{40,}={0,2}[ \t]*\n){3,}", re.MULTILINE)
_BASE64_WORD = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")
_URL = re.compile(r"(?:https?|mailto):[^\s<>()\[\]]+", re.IGNORECASE)
_TEXT_QP_SOFT = re.compile(r"[^=\s]=[ \t]*$", re.MULTILINE)
_TEXT_QP_ESCAPE = re.compile(r"=(?:[0-9A-F]{2})")


def looks_like_mime(text: str) -> str | None:
    """What in ``text`` (a body about to be published) is still raw MIME:
    "headers", "base64" or "quoted-printable"; None if nothing is."""
    text = re.sub(r"\\(.)", r"\1", text) + "\n"  # Markdown escapes off
    # Links carry long tokens and "=AB" parameters (SharePoint, safelinks,
    # trackers): they are not what is looked for.
    text = _URL.sub(" ", text)
    if len(_MIME_HEADER.findall(text)) >= 2:
        return "headers"
    if _BASE64_RUN.search(text) or _BASE64_WORD.search(text):
        return "base64"
    soft = len(_TEXT_QP_SOFT.findall(text))
    escapes = len(_TEXT_QP_ESCAPE.findall(text))
    if soft >= 2 or escapes >= 4 or (soft and escapes):
        return "quoted-printable"
    return None
