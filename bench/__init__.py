"""`make bench` and `make gate`: the stack under a network profile, driven by Locust."""
