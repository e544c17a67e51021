"""Resilience policy (deadline, retry, breaker, limiter, batcher, cache); no I/O of its own."""
