"""Real TCP faults from Toxiproxy, a bounded workload, and a verdict from the stored data."""
