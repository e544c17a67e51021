"""Each database connection is closed after 4 KB: a middlebox cutting long-lived flows."""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

LIMIT_BYTES = 4096

SCENARIO = Scenario(
    "limit_data",
    f"database connections closed after {LIMIT_BYTES} bytes downstream",
    faults=(Fault("turso", toxics=(Toxic("limit_data", "downstream", {"bytes": LIMIT_BYTES}),)),),
    expect=Expectation(min_success_rate=0.99),
)
