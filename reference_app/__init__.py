"""The reference FastAPI posts API on Turso (libSQL) that the harness measures.

Hardened by default; `APP_MODE=naive` runs the guide's client-per-request pattern instead.
"""
