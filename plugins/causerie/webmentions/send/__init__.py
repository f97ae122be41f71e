"""Sending: which of our links are due, endpoint discovery, the POSTs, their record."""
