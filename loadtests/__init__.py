"""Locust load for the reference app: users, shapes, the open model, exact percentiles.

`locustfile.py` is what Locust loads (it hooks in the chaos panel from chaos/panel/);
`users/` has one module per behaviour, `shapes.py` the load shapes, and `recorder.py` ships
each worker's HDR histograms to the master. Used by stackbench; imports no stackbench.
"""
