"""Causerie: a publishing toolkit for company blogs, built on Pelican.

One package, one sub-package per capability (each a Pelican plugin with a
``register()``): ``authoring``, ``sitebuild``, ``theme_i18n``,
``webmentions``, ``mailposts``, ``deploy``; the command line is ``cli``
and the shared settings loader ``settings``. See docs/architecture.md.
"""
