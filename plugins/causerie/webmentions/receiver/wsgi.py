"""WSGI entry point, for running the receiver in several processes.

``publish mentions serve`` is one process (waitress threads plus a verifying
thread). For more, run any WSGI server on this module and the workers apart::

    export CAUSERIE_SETTINGS=/srv/blog/publishconf.py
    gunicorn --workers 4 --bind 127.0.0.1:8081 causerie.webmentions.receiver.wsgi:application
    publish --settings publishconf.py mentions work     # one or more, anywhere

With several machines, point them all at one PostgreSQL store
($CAUSERIE_DATABASE_URL).
"""

from __future__ import annotations

import os
from pathlib import Path

from causerie.settings import load_settings
from causerie.webmentions.receiver.app import create_app
from causerie.webmentions.receiver.run import make_service
from causerie.webmentions.settings import config

_settings = load_settings(Path(os.environ.get("CAUSERIE_SETTINGS", "pelicanconf.py")))
application = create_app(make_service(_settings), config(_settings).proxies)
