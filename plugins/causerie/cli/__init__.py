"""The ``publish`` command line, by group: thin commands over the capability
packages. publish.py holds the root group and the site commands (build,
serve, new, check) and adds these."""
