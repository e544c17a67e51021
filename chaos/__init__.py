"""Faults on purpose and verdicts on what survived: `make chaos` and the chaos panel.

Each scenario's faults are declared in `scenarios/<name>.py`; `faults.py` adds its toxics
and removes them after (and `process_faults.py` kills or pauses a process), during a run
of `runner.py`; `panel/controller.py` does the same when a person switches a fault in
Locust's web UI. The invariants (no lost or duplicated write, latency, errors, recovery)
are checked in `checker.py`, on what `workload.py` saw and what the database really holds.
"""
