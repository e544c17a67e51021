"""Locust load scenarios for the reference app: users, shapes, the open model, exact percentiles."""
