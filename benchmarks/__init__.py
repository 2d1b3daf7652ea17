"""Benchmarks: requests, latency, idle load, resources; ours next to the vendor's."""
