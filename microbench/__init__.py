"""Micro-benchmarks: one part or one question at a time, driven directly, without Locust.

`python -m microbench.NAME`: `localturso_bench.py` (the server through libsql-client),
`app_bench.py` and `app_profiles.py` (the app over HTTP, the latter under the network
profiles), `app_ab.py` and `client_cost.py` (CPU per request), `replica_bench.py` and
`write_lock_bench.py` (sqld); the load comes from `driver.py`'s closed loop. `micro/` holds
pytest-benchmark hot paths (`make bench-micro`). Locust runs of the whole stack: stackbench/.
"""
