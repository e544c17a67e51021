"""Property-based fuzzing from the app's own OpenAPI: no server error, no undocumented status.

Schemathesis generates requests that fit the schema and requests that break it, for every
operation the schema lists, and checks each answer against that schema (status, body,
headers). The app runs under real uvicorn on the shared local Turso server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from harness.stack import App, LocalTurso, reference_app
from reference_app.main import create_app

pytestmark = pytest.mark.integration

# Enough to reach every status of every operation; bounded so `make test` stays quick.
EXAMPLES_PER_OPERATION = 40

# The schema the app serves, built in-process (no database needed) so tests can be listed.
SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
# Invalid requests exist only for operations that take some input.
CASES = [
    (label, mode)
    for label, operation in sorted(OPERATIONS.items())
    for mode in GenerationMode
    if mode.is_positive or {"parameters", "requestBody"} & set(operation.definition.raw)
]


@pytest.fixture(scope="module")
def fuzzed_app(shared_turso: LocalTurso, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    log_dir: Path = tmp_path_factory.mktemp("fuzz-logs")
    with reference_app(log_dir, env={"TURSO_DATABASE_URL": shared_turso.http_url}) as app:
        yield app


def test_the_served_schema_is_the_one_fuzzed(fuzzed_app: App) -> None:
    served = schemathesis.openapi.from_url(f"{fuzzed_app.url}/openapi.json")

    assert served.raw_schema["paths"] == SCHEMA.raw_schema["paths"]


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_every_answer_is_documented_and_none_is_a_server_error(
    fuzzed_app: App, label: str, mode: GenerationMode
) -> None:
    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=fuzzed_app.url)

    answers_as_documented()
