"""Benchmarks: `python -m bench` (all) or one part, e.g. `python -m bench.bench_media`."""
