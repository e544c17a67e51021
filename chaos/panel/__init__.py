"""A chaos panel in Locust's web UI: switch network faults on and off during a run.

Active only in the web UI and only when `--toxiproxy-url` (or LOCUST_TOXIPROXY_URL)
names the stack's toxiproxy. `--fault-log` is where each switch is recorded for reports;
`--network-profile` is the profile applied to the database link at start.

`faults` checks requests (pure), `controller` applies them through toxiproxy, `web`
serves the page and JSON routes, `plugin` registers all of it with Locust.
"""
