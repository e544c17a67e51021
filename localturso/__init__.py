"""A local, offline stand-in for Turso's sqld: Hrana over HTTP and WebSocket on SQLite.

`python -m localturso`; `http.py` and `websocket.py` speak the protocol, `engine.py` runs the
SQL. Imports nothing of the harness or the app.
"""

__version__ = "0.1.0"
