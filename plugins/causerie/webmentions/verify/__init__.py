"""Verifying: a queued mention's source fetched, checked, moderated, its author told."""
