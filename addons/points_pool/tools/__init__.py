"""Helpers that drive Odoo's own documents for the demo data, the tests and the
benchmark and load scripts; no product code imports them."""
