"""Production overrides: `publish build --settings publishconf.py`.

The public address comes from the environment so the same repository can
build a staging and a production site.
"""

import os
import runpy

# The demo's settings, read from the file beside this one: Pelican loads a
# settings file by its path, without putting its folder on sys.path, so
# ``from pelicanconf import *`` would depend on the working directory.
globals().update(
    (name, value)
    for name, value in runpy.run_path(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "pelicanconf.py")
    ).items()
    if name.isupper()
)

SITEURL = os.environ.get("CAUSERIE_SITEURL", "https://blog.maison-lumen.example")
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True

# The receiver's public address; with examples/nginx.conf it is the site's own.
WEBMENTIONS = {
    **globals()["WEBMENTIONS"],  # read from pelicanconf.py above
    "service_url": os.environ.get("CAUSERIE_SERVICE_URL", SITEURL),
    "proxies": 1,
}
