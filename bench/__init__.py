"""Benchmarks: `make bench` (full, writes bench/REPORT.md) and `make bench-smoke` (quick, in make test)."""
