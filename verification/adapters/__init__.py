"""Adapters: the domain's ports implemented with third-party libraries."""
