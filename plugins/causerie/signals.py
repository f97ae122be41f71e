"""Causerie's own signals, declared in one place (as Pelican's are in
``pelican.signals``): the fast path of ``publish watch`` sends them when it
changes the site without a build, and a plugin that adds something to posts
at build time (webmentions: conversations, feeds) answers them to keep its
part current. Sender and receivers import this module, never each other.
"""

from __future__ import annotations

from blinker import signal

#: Sent as ``posts_edited.send(generator, posts=[...])`` after posts of
#: ``generator`` took a new body in place, without a build: a plugin that
#: records something of each post at build time records it again.
posts_edited = signal("causerie.posts_edited")

#: Sent as ``comments_changed.send(generator, targets=..., staging=...,
#: unchanged=...)`` when mentions of ``targets`` changed in the store: a
#: receiver updates those posts' conversations, writes what it writes itself
#: (feeds) into ``staging`` (asking ``unchanged(relpath, *inputs)`` first, as
#: in a build) and returns the posts it changed; LookupError: rebuild.
comments_changed = signal("causerie.comments_changed")

#: Sent as ``post_added.send(generator, post=..., staging=..., unchanged=...)``
#: when a new post joined the last build's lists without a build: a receiver
#: gives it what it gives posts at build time, writes its own files into
#: ``staging`` and returns True; LookupError: a build is needed.
post_added = signal("causerie.post_added")

#: Sent as ``output_updated.send(output, settings=..., background=...,
#: changed=...)`` when the output was updated in place, outside a clean
#: Pelican build: an incremental build or a fast path of ``publish watch``
#: (``output``: the output directory, a Path; ``background``: True when the
#: sender must not wait for what follows, such as re-indexing the search;
#: ``changed``: False when no file of the output was replaced or removed).
output_updated = signal("causerie.output_updated")
