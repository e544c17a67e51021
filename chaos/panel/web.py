"""The panel's routes on Locust's Flask app: a page, its JSON API, and a Chaos tab.

Locust's React UI is extended the documented way (its `extend_web_ui` example): an
extra tab through `template_args["extended_tabs"]` whose table rows ride on
`/stats/requests` as `extended_stats`. That table cannot hold buttons, so the switches
live on `/chaos`, a plain HTML page linked from every page of Locust's UI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request

from chaos.panel.controller import ChaosController, FaultStateError, ToxiproxyError
from chaos.panel.faults import PanelInputError, parse_switch
from harness.toxiproxy import attributes_text

HERE = Path(__file__).parent
TAB_KEY = "chaos"
EXTENDED_TAB = {"title": "Chaos", "key": TAB_KEY}
EXTENDED_TABLE = {
    "key": TAB_KEY,
    "structure": [
        {"key": "name", "title": "Proxy"},
        {"key": "enabled", "title": "Enabled"},
        {"key": "toxics", "title": "Toxics"},
        {"key": "faults", "title": "Switched on in the chaos panel"},
    ],
}
# Appended to Locust's own index page: its React app keeps the rest of <body>.
PANEL_LINK = (
    b'<a id="chaos-panel-link" href="./chaos" style="position:fixed;right:16px;bottom:48px;'
    b"z-index:2000;padding:8px 14px;border-radius:6px;background:#b71c1c;color:#fff;"
    b'font:600 14px sans-serif;text-decoration:none">Chaos panel</a>'
)

View = Callable[..., Any]


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def _toxic_text(toxic: dict[str, Any]) -> str:
    attributes = attributes_text(toxic.get("type", ""), toxic.get("attributes", {}))
    return f"{toxic['name']} ({attributes})"


def tab_rows(state: dict[str, Any]) -> list[dict[str, str]]:
    """One row per proxy for the Chaos tab's table."""
    rows = []
    for proxy in state["proxies"]:
        faults = [a["fault"] for a in state["active"] if state["links"][a["link"]] == proxy["name"]]
        rows.append(
            {
                "name": proxy["name"],
                "enabled": "yes" if proxy["enabled"] else "NO (outage)",
                "toxics": "; ".join(_toxic_text(t) for t in proxy["toxics"]) or "none",
                "faults": ", ".join(faults) or "none",
            }
        )
    return rows


def blueprint(controller: ChaosController, auth: Callable[[View], View]) -> Blueprint:
    """The page, its static files and the JSON routes; `auth` is Locust's login check."""
    panel = Blueprint(
        "chaos_panel",
        __name__,
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
        static_url_path="/chaos/static",
    )

    @panel.errorhandler(PanelInputError)
    def bad_input(error: PanelInputError) -> tuple[Response, int]:
        return _error(422, str(error))

    @panel.errorhandler(FaultStateError)
    def conflict(error: FaultStateError) -> tuple[Response, int]:
        return _error(409, str(error))

    @panel.errorhandler(ToxiproxyError)
    def bad_gateway(error: ToxiproxyError) -> tuple[Response, int]:
        return _error(502, str(error))

    def json_body() -> Any:
        body = request.get_json(silent=True)
        if body is None:
            raise PanelInputError("the body must be JSON with Content-Type: application/json")
        return body

    @panel.route("/chaos")
    @auth
    def page() -> str:
        return render_template("chaos_panel.html")

    @panel.route("/chaos/state")
    @auth
    def state() -> Response:
        return jsonify(controller.state())

    @panel.route("/chaos/faults", methods=["POST"])
    @auth
    def faults() -> Response:
        controller.switch(parse_switch(json_body(), frozenset(controller.links)))
        return jsonify(controller.state())

    @panel.route("/chaos/profile", methods=["POST"])
    @auth
    def profile() -> Response:
        body = json_body()
        name = body.get("profile") if isinstance(body, dict) else None
        if not isinstance(name, str):
            raise PanelInputError('send {"profile": "<name>"}')
        controller.set_profile(name)
        return jsonify(controller.state())

    return panel


def extend_locust_ui(
    app: Flask, template_args: dict[str, Any], controller: ChaosController
) -> None:
    """The Chaos tab in Locust's UI and the link to the panel on its index page."""
    template_args["extended_tabs"] = [EXTENDED_TAB]
    template_args["extended_tables"] = [EXTENDED_TABLE]

    @app.after_request
    def add_chaos(response: Response) -> Response:
        if request.path == "/stats/requests" and response.is_json:
            try:
                rows = tab_rows(controller.state())
            except ToxiproxyError as error:
                rows = [{"name": "toxiproxy", "enabled": "?", "toxics": str(error), "faults": ""}]
            body = response.get_json()
            body["extended_stats"] = [{"key": TAB_KEY, "data": rows}]
            response.set_data(jsonify(body).get_data())
        elif request.path == "/" and response.mimetype == "text/html":
            response.direct_passthrough = False
            response.set_data(response.get_data().replace(b"</body>", PANEL_LINK + b"</body>", 1))
        return response
