"""Text from outside, made safe to print in a log line (pure).

A source URL, a target, a reason quoting a server: whatever a stranger chose
ends up in our logs. Printed as received, an ESC starts a terminal escape
sequence (colours, a cleared screen, a fake line), a CR or LF forges a log
line, a BEL rings (issue 13 item 6). :func:`loggable` writes every
character that is not printable as Python's repr would ("\\x1b", "\\n",
"\\u202e"); printable text, accents included, is left as it is, so a French
name stays readable. (A backslash is left too: a sender who writes "\\x1b"
as four characters only gets four characters printed.)
"""

from __future__ import annotations

#: Longer values are cut (with "…"): a 2,000-character URL makes a log
#: line nobody reads.
LIMIT = 300


def loggable(value: object, limit: int = LIMIT) -> str:
    """``value`` as text for one log line: non-printables escaped, cut at ``limit``."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if text.isprintable():  # the common case, in C
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
