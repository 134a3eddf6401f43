"""Benchmarks: `make bench` measures purchases through the conversation against raw SQLite."""
