"""Receiving: the HTTP service (endpoint, comment form, /admin) and how it runs."""
