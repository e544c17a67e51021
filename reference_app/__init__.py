"""The reference FastAPI posts API on Turso (libSQL) that the harness measures.

Hardened by default; `APP_MODE=naive` runs the guide's client-per-request pattern instead.
A request's deadline is set in `api/middleware.py` (`DeadlineMiddleware`, from
APP_REQUEST_DEADLINE_MS, installed by `main.py`) and every database call under it keeps to
it through `resilience/pipeline.py`; `wiring.py` builds each part from the settings, and
`db/transport.py` is the one place that calls libsql-client. Imports nothing of the harness.
"""
