"""The benchmark of tests/benchmark.py (its entry point and usage), by concern:
harness, database, fixtures, checkout, web (HTTP), and one module per part."""
