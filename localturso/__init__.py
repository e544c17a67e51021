"""A local, offline stand-in for Turso's sqld: Hrana over HTTP and WebSocket on SQLite."""

__version__ = "0.1.0"
