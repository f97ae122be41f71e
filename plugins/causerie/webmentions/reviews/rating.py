"""A rating as a stranger wrote it → a rating we may show, or why not (pure).

The h-review vocabulary (microformats.org/wiki/h-review): ``p-rating`` on a
scale from ``p-worst`` (default 1) to ``p-best`` (default 5). Whatever comes
in is text from someone else's page, so every way it can be wrong has a
stated reason, kept in the store and shown in /admin; a rating that is wrong
is never counted or shown (``value`` None), the review's text still is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

DEFAULT_BEST, DEFAULT_WORST = 5.0, 1.0
#: The widest scale we accept: 0–100 covers percentages and 10- or 20-point
#: scales; a larger one is a typo or an attempt to weigh more.
SCALE_MAX = 100.0
#: A number as people write one: "4", "4.5", "4,5" (French decimal comma).
#: At most 6 digits before the decimal mark: "1e400" or "99999999999" are
#: refused as text, never turned into infinity.
_NUMBER = re.compile(r"[+-]?\d{1,6}(?:[.,]\d{1,6})?")
#: "4/5", "4 out of 5", "4 sur 5", "4 of 5": the rating with its best.
_OUT_OF = re.compile(
    rf"({_NUMBER.pattern})\s*(?:/|out\s+of|of|sur)\s*({_NUMBER.pattern})",
    re.IGNORECASE,
)
_STARS_FULL, _STARS_EMPTY = "★⭐", "☆"


@dataclass(frozen=True)
class Rating:
    """A checked rating: ``value`` within [worst, best], or None with a note."""

    value: float | None
    best: float = DEFAULT_BEST
    worst: float = DEFAULT_WORST
    #: Why the rating as given was not kept (None when it was).
    note: str | None = None

    def stars(self) -> float | None:
        """The value on the 1–5 scale everything is compared on."""
        if self.value is None:
            return None
        return normalise(self.value, self.best, self.worst)


def normalise(value: float, best: float, worst: float) -> float:
    """``value`` from the scale worst–best onto 1–5."""
    return 1.0 + 4.0 * (value - worst) / (best - worst)


def _number(text: str) -> float | None:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text.replace(",", "."))
    return value if math.isfinite(value) else None


def _shown(text: str, limit: int = 40) -> str:
    """The raw value quoted in a note: short, one line."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _stars(text: str) -> tuple[float, float] | None:
    """Stars as text: "★★★★☆" is (4, 5)."""
    flat = "".join(text.split())
    if not flat or any(c not in _STARS_FULL + _STARS_EMPTY for c in flat):
        return None
    full = sum(1 for c in flat if c in _STARS_FULL)
    return float(full), float(len(flat))


def read_rating(
    rating: str | None, best: str | None = None, worst: str | None = None
) -> Rating | None:
    """The checked rating of ``rating`` on the scale ``worst``–``best``
    (texts as the page gives them); None when there is no rating at all."""
    if rating is None or not rating.strip():
        return None
    raw = rating.strip()
    scale_best: float | None = DEFAULT_BEST
    scale_worst: float | None = DEFAULT_WORST
    if best is not None and best.strip():
        scale_best = _number(best)
        if scale_best is None:
            return Rating(None, note=f"the best rating {_shown(best)} is not a number")
    if worst is not None and worst.strip():
        scale_worst = _number(worst)
        if scale_worst is None:
            return Rating(
                None, note=f"the worst rating {_shown(worst)} is not a number"
            )
    value = _number(raw)
    if value is None:
        pair = _OUT_OF.fullmatch(raw)
        stars = _stars(raw)
        if pair:
            value, out_of = _number(pair.group(1)), _number(pair.group(2))
        elif stars:
            value, out_of = stars
        else:
            return Rating(None, note=f"the rating {_shown(raw)} is not a number")
        if best is None or not best.strip():
            scale_best = out_of
        elif out_of != scale_best:
            return Rating(
                None,
                note=f"the rating {_shown(raw)} does not match its best {_shown(best)}",
            )
    assert scale_best is not None and scale_worst is not None and value is not None
    if scale_worst < 0 or scale_best < 0:
        return Rating(None, note=f"a negative scale ({scale_worst:g}–{scale_best:g})")
    if scale_best > SCALE_MAX:
        return Rating(
            None,
            note=f"the scale {scale_worst:g}–{scale_best:g} is larger than 0–{SCALE_MAX:g}",
        )
    if scale_best <= scale_worst:
        return Rating(
            None,
            note=f"the best rating {scale_best:g} is not above the worst {scale_worst:g}",
        )
    if not scale_worst <= value <= scale_best:
        return Rating(
            None,
            note=f"the rating {_shown(raw)} is outside {scale_worst:g}–{scale_best:g}",
        )
    return Rating(value, scale_best, scale_worst)
