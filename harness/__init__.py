"""The stack under test and what describes it; everything that drives the stack stands on it.

`stack.py` starts and stops each part (local Turso or sqld, Toxiproxy, the app) with
readiness checks; `toxiproxy.py` adds and removes toxics (`ToxiproxyApi.toxics` removes
them in `finally`); `network.py` names the links and the network profiles for the database
link; `stats.py` summarises latencies, and `hdr.py` records them exactly and reads them back.
Nothing here imports loadtests, chaos, reports, stackbench or microbench.
"""
