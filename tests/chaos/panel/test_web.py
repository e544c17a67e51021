"""The panel's JSON routes and the Chaos tab's rows, through Flask's test client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chaos.panel.controller import ChaosController, FaultLog
from chaos.panel.web import blueprint, extend_locust_ui
from tests.chaos.panel.fakes import FakeToxiproxy


@pytest.fixture
def api() -> FakeToxiproxy:
    return FakeToxiproxy("turso", "api")


@pytest.fixture
def client(api: FakeToxiproxy) -> FlaskClient:
    app = Flask(__name__)
    controller = ChaosController(api, {"turso": "turso", "api": "api"}, FaultLog())
    app.register_blueprint(blueprint(controller, lambda view: view))
    extend_locust_ui(app, {}, controller)

    @app.route("/stats/requests")
    def stats() -> dict[str, object]:
        return {"state": "running"}

    return app.test_client()


def test_state_lists_proxies_faults_and_profiles(client: FlaskClient) -> None:
    state = client.get("/chaos/state").get_json()

    assert {p["name"] for p in state["proxies"]} == {"turso", "api"}
    assert set(state["faults"]) == {"latency", "outage", "reset", "bandwidth"}
    assert state["profile"] == "local"


def test_switching_on_reaches_toxiproxy(client: FlaskClient, api: FakeToxiproxy) -> None:
    body = {"fault": "latency", "link": "turso", "on": True, "params": {"latency": 200}}

    response = client.post("/chaos/faults", json=body)

    assert response.status_code == 200
    assert response.get_json()["active"][0]["fault"] == "latency"
    assert api.toxic_names("turso") == ["panel_latency_latency_downstream"]


def test_every_fault_param_has_a_unit(client: FlaskClient) -> None:
    faults = client.get("/chaos/state").get_json()["faults"]

    for name, spec in faults.items():
        assert set(spec["units"]) == {*spec["params"], "duration_s"}, name
        assert all(spec["units"].values()), name
    assert faults["latency"]["units"] == {"latency": "ms", "jitter": "ms", "duration_s": "s"}
    assert faults["bandwidth"]["units"]["rate"] == "KB/s"


def test_toxics_are_shown_with_their_units(client: FlaskClient) -> None:
    body = {"fault": "latency", "link": "turso", "on": True, "params": {"latency": 200}}
    client.post("/chaos/faults", json=body)

    state = client.get("/chaos/state").get_json()

    (turso,) = (p for p in state["proxies"] if p["name"] == "turso")
    assert turso["toxics"][0]["text"] == "latency=200 ms, jitter=10 ms"


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "message"),
    [
        ("/chaos/faults", {"data": "latency please"}, 422, "must be JSON"),
        (
            "/chaos/faults",
            {"json": {"fault": "flood", "link": "turso", "on": True}},
            422,
            "fault must",
        ),
        (
            "/chaos/faults",
            {"json": {"fault": "reset", "link": "turso", "on": False}},
            409,
            "not on",
        ),
        ("/chaos/profile", {"json": {"profile": "moon"}}, 422, "profile must be one of"),
        ("/chaos/profile", {"json": {"name": "edge"}}, 422, "profile"),
    ],
)
def test_bad_requests_get_a_json_reason(
    client: FlaskClient, path: str, kwargs: dict, status: int, message: str
) -> None:
    response = client.post(path, **kwargs)

    assert response.status_code == status
    assert message in response.get_json()["error"]


def test_toxiproxy_refusal_is_a_bad_gateway(client: FlaskClient, api: FakeToxiproxy) -> None:
    api.refuse = True

    response = client.post("/chaos/faults", json={"fault": "reset", "link": "turso", "on": True})

    assert response.status_code == 502
    assert "toxiproxy" in response.get_json()["error"]


def test_stats_carry_the_chaos_tab_rows(client: FlaskClient) -> None:
    client.post("/chaos/faults", json={"fault": "outage", "link": "api", "on": True})

    stats = client.get("/stats/requests").get_json()

    (tab,) = stats["extended_stats"]
    rows = {r["name"]: r for r in tab["data"]}
    assert rows["api"]["enabled"] == "NO (outage)"
    assert rows["api"]["faults"] == "outage"
    assert stats["state"] == "running"


def test_the_page_is_served(client: FlaskClient) -> None:
    page = client.get("/chaos")

    assert page.status_code == 200
    assert b"chaos_panel.js" in page.data
    assert client.get("/chaos/static/chaos_panel.js").status_code == 200
