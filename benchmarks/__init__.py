"""Benchmarks: requests, latency, idle load and resources, ours next to the vendor's way."""
