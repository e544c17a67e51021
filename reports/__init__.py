"""Reports: a self-contained report.html per bench, chaos or Locust UI run, and an index.

`data` prepares (pure), `render` draws with matplotlib, `pages` writes HTML, `runs` reads
a run's files and ties them together.
"""

from reports.runs import write_index, write_run_report

__all__ = ["write_index", "write_run_report"]
