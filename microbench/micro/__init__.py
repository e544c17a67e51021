"""pytest-benchmark micro-benchmarks of the hot paths; `make bench-micro` runs them."""
