"""Helpers that drive Odoo's own documents: the demo loader, the tests and the
benchmark and load scripts use them; the product's flows do not."""
