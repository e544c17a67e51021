"""Benchmarks of the whole stack, driven by Locust: `make bench`, `make gate`, `make locust-ui`.

load -> Toxiproxy `api` -> app -> Toxiproxy `turso` -> database, each run on a fresh stack
from harness with a network profile on the database link; `runner.py` runs Locust,
`seeding.py` seeds the database (`seed_rows.py` with the app's own code), `gate.py` judges
regressions (`gate_stats.py` its statistics). Micro-benchmarks of one part at a time are in
microbench/.
"""
