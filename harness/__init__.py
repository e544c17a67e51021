"""Starts and stops the stack under test: local Turso, Toxiproxy, the app."""
