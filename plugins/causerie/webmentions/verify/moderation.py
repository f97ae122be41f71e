"""Moderation policy (pure): what happens to a newly verified mention."""

from __future__ import annotations

from causerie.webmentions import model

DROP = "drop"


def decide(setting: str, domain_policy: str | None, current: str) -> str:
    """The moderation state of a mention once verified.

    ``setting`` is WEBMENTIONS["moderation"] ("hold" or "open");
    ``domain_policy`` the source domain's ("allow", "block" or None);
    ``current`` the mention's state so far (an update keeps a decision).
    Returns a moderation state, or DROP for a blocked domain.
    """
    if domain_policy == "block":
        return DROP
    if current in (model.APPROVED, model.REJECTED):
        return current  # a person decided; an edit of the source keeps it
    if domain_policy == "allow" or setting == "open":
        return model.APPROVED
    return model.PENDING
