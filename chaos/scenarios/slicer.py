"""Database responses arrive in 64-byte (+-32) pieces 200 us apart: a fragmenting path."""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

SCENARIO = Scenario(
    "slicer",
    "database responses sliced into ~64 byte TCP segments, 200 us apart",
    faults=(
        Fault(
            "turso",
            toxics=(
                Toxic(
                    "slicer",
                    "downstream",
                    {"average_size": 64, "size_variation": 32, "delay": 200},
                ),
            ),
        ),
    ),
    expect=Expectation(naive_passes=True),
)
