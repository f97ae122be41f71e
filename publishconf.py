"""Production overrides: `publish build --settings publishconf.py`.

The public address comes from the environment so the same repository can
build a staging and a production site.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pelicanconf import *  # noqa: F403

SITEURL = os.environ.get("CAUSERIE_SITEURL", "https://blog.maison-lumen.example")
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True

# The receiver's public address; with examples/nginx.conf it is the site's own.
WEBMENTIONS = {
    **WEBMENTIONS,  # noqa: F405
    "service_url": os.environ.get("CAUSERIE_SERVICE_URL", SITEURL),
    "proxies": 1,
}
