"""Benchmark scripts: `python -m bench NAME` or `make bench` for all. Each module has `main(argv) -> int`."""
