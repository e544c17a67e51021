"""Hooks the chaos panel into Locust: its command-line options and, at init, its routes.

Imported by the locustfile only: importing Locust monkey-patches the standard library,
so the panel's other modules (tested in the pytest process) stay free of it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, get_args

from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment

from chaos.panel.controller import ChaosController, FaultLog
from chaos.panel.web import blueprint, extend_locust_ui
from harness.network import DB_LINK, PROFILES, Link
from harness.toxiproxy import ToxiproxyApi


@events.init_command_line_parser.add_listener
def add_arguments(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--toxiproxy-url",
        default="",
        help="toxiproxy API for the chaos panel",
        include_in_web_ui=False,
    )
    parser.add_argument(
        "--fault-log",
        default="",
        help="chaos panel switches as JSON lines",
        include_in_web_ui=False,
    )
    parser.add_argument(
        "--network-profile",
        default="local",
        choices=sorted(PROFILES),
        help="profile on the database link at start",
        include_in_web_ui=False,
    )


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if environment.web_ui is None or options is None or not options.toxiproxy_url:
        return
    # The panel asks toxiproxy about once a second; httpx's per-request lines would bury
    # Locust's own log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    api = ToxiproxyApi(options.toxiproxy_url)
    links = {name: name for name in api.proxies() if name in get_args(Link)}
    log = FaultLog(Path(options.fault_log) if options.fault_log else None)
    controller = ChaosController(api, links, log)
    if DB_LINK in links:
        controller.set_profile(options.network_profile)
    web_ui = environment.web_ui
    web_ui.app.register_blueprint(blueprint(controller, web_ui.auth_required_if_enabled))
    extend_locust_ui(web_ui.app, web_ui.template_args, controller)

    @environment.events.quitting.add_listener
    def switch_off(**_: Any) -> None:
        controller.switch_all_off()
        api.close()
