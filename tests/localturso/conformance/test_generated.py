"""Generated statement sequences (Hypothesis), run on one stream per server; a difference is
shrunk to the fewest steps that show it."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.localturso.conformance.compare import normalize
from tests.localturso.conformance.conftest import Pair

pytestmark = pytest.mark.integration

values = st.one_of(
    st.none().map(lambda _: {"type": "null"}),
    st.integers(-(2**63), 2**63 - 1).map(lambda n: {"type": "integer", "value": str(n)}),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: {"type": "float", "value": x}),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20).map(
        lambda s: {"type": "text", "value": s}
    ),
    st.binary(max_size=16).map(
        lambda b: {"type": "blob", "base64": base64.b64encode(b).decode().rstrip("=")}
    ),
)
columns = st.sampled_from(["a", "b", "c"])
comparisons = st.sampled_from(["=", "<", ">", "IS NOT", "<="])


def ex(sql: str, args: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "execute", "stmt": {"sql": sql, "args": args or []}}


class SameAnswers(RuleBasedStateMachine):
    """One HTTP stream per server, kept open by its batons; every rule is one pipeline."""

    pair: Pair

    def __init__(self) -> None:
        super().__init__()
        self.table = f"g_{uuid.uuid4().hex[:10]}"
        self.batons: list[str | None] = [None, None]
        self.in_transaction = False
        self.extra_columns = 0

    def send(self, *requests: dict[str, Any]) -> None:
        answers = []
        for index, server in enumerate(self.pair.both):
            response = self.pair.http.post(
                f"{server.http_url}/v3/pipeline",
                json={"baton": self.batons[index], "requests": list(requests)},
                headers=self.pair.headers(),
                timeout=30,
            )
            assert response.status_code == 200, response.text
            body = response.json()
            self.batons[index] = body["baton"]
            answers.append(normalize(body["results"]))
        assert answers[1] == answers[0], f"sqld: {answers[0]}\nlocal: {answers[1]}"

    @initialize()
    def create(self) -> None:
        self.send(ex(f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, a, b TEXT, c REAL)"))

    @rule(a=values, b=values, c=values)
    def insert(self, a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> None:
        self.send(ex(f"INSERT INTO {self.table} (a, b, c) VALUES (?, ?, ?)", [a, b, c]))

    @rule(row=st.integers(1, 5), a=values)
    def insert_or_ignore(self, row: int, a: dict[str, Any]) -> None:
        self.send(ex(f"INSERT OR IGNORE INTO {self.table} (id, a) VALUES ({row}, ?)", [a]))

    @rule(column=columns, op=comparisons, value=values, new=values)
    def update(self, column: str, op: str, value: dict[str, Any], new: dict[str, Any]) -> None:
        self.send(ex(f"UPDATE {self.table} SET {column} = ? WHERE a {op} ?", [new, value]))

    @rule(op=comparisons, value=values)
    def delete(self, op: str, value: dict[str, Any]) -> None:
        self.send(ex(f"DELETE FROM {self.table} WHERE b {op} ?", [value]))

    @rule(column=columns, op=comparisons, value=values)
    def select(self, column: str, op: str, value: dict[str, Any]) -> None:
        sql = f"SELECT *, typeof({column}) FROM {self.table} WHERE {column} {op} ? ORDER BY id"
        self.send(ex(sql, [value]))

    @precondition(lambda self: not self.in_transaction)
    @rule(mode=st.sampled_from(["", " IMMEDIATE", " DEFERRED"]))
    def begin(self, mode: str) -> None:
        self.send(ex(f"BEGIN{mode}"))
        self.in_transaction = True

    @precondition(lambda self: self.in_transaction)
    @rule(end=st.sampled_from(["COMMIT", "ROLLBACK"]))
    def end(self, end: str) -> None:
        self.send(ex(end), {"type": "get_autocommit"})
        self.in_transaction = False

    @precondition(lambda self: self.extra_columns < 3)
    @rule()
    def add_column(self) -> None:
        self.extra_columns += 1
        self.send(
            ex(f"ALTER TABLE {self.table} ADD COLUMN x{self.extra_columns}"),
            ex(f"SELECT * FROM {self.table} ORDER BY id"),
        )

    @rule(sql=st.sampled_from(["SELEC 1", "SELECT * FROM nope", "INSERT INTO nope VALUES (1)"]))
    def bad_statement(self, sql: str) -> None:
        self.send(ex(sql))

    @invariant()
    def same_rows(self) -> None:
        self.send(ex(f"SELECT * FROM {self.table} ORDER BY id"))

    def teardown(self) -> None:
        # Close both streams whatever happened, so no transaction outlives its example.
        for server, baton in zip(self.pair.both, self.batons, strict=True):
            if baton is not None:
                self.pair.http.post(
                    f"{server.http_url}/v3/pipeline",
                    json={"baton": baton, "requests": [{"type": "close"}]},
                    headers=self.pair.headers(),
                    timeout=30,
                )


@settings(
    max_examples=30,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
class GeneratedSequences(SameAnswers):
    pass


def test_generated_statement_sequences(pair: Pair) -> None:
    SameAnswers.pair = pair
    GeneratedSequences.TestCase().runTest()
