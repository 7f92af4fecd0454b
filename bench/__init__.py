"""Benchmarks for the book's performance claims. Run ``python -m bench.cpu --help``."""
