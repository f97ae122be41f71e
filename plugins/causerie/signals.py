"""Causerie's own signals, declared in one place (as Pelican declares its own).

A capability sends one; another connects to it, so that neither imports
the other.
"""

from __future__ import annotations

from blinker import signal

#: The output was updated in place, outside a clean Pelican build: an
#: incremental build or a fast path of ``publish watch`` (sender: the output
#: directory, a Path; keyword arguments: ``settings``, the build's settings,
#: ``background``, True when the sender must not wait for what follows,
#: such as re-indexing the search, and ``changed``, False when no file of
#: the output was replaced or removed).
output_updated = signal("causerie.output_updated")
