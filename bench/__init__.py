"""Benchmarks against real hub processes, each with a baseline measured in the same run.

``python -m bench.hub_bench`` (``make bench``, ``make bench-quick``) measures the hub as a whole;
``bench/log_bench.py`` (``make bench-log``) the Merkle audit log. See bench/README.md.
"""
