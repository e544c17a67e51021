"""compose.yaml: parsed and its wiring checked (images can't be pulled here, so never run).

The stack must be wired as `make locust-ui` wires it: Locust -> toxiproxy `api` -> app ->
toxiproxy `turso` -> sqld, with the seeded ids Locust is told about. `docker compose config`
(or Debian's `docker-compose config`) also validates the file against the Compose schema
when one of them is installed.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import pytest
import yaml

from harness.network import API_LINK, DB_LINK, PROFILES, Link
from harness.settings import PROJECT_ROOT, TRANSPORTS
from loadtests.catalog import SHAPE_NAMES, WORKLOAD_NAMES

COMPOSE = PROJECT_ROOT / "compose.yaml"
SQLD_IMAGE = "ghcr.io/tursodatabase/libsql-server"
TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy"
SQLD_HTTP_PORT = 8080  # the image's default SQLD_HTTP_LISTEN_ADDR
TOXIPROXY_API_PORT = 8474
# Images whose own HEALTHCHECK a `service_healthy` condition may rely on.
IMAGES_WITH_HEALTHCHECK = {SQLD_IMAGE}


VARIABLE = re.compile(r"\$\{(\w+):-([^}]*)\}")


def with_defaults(text: str, **variables: str) -> str:
    """The file as Compose reads it with `variables` set and the rest left at their defaults."""
    return VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(2)), text)


def load_compose(path: Path = COMPOSE, **variables: str) -> dict[str, Any]:
    return yaml.safe_load(with_defaults(path.read_text(), **variables))


def makefile_toxiproxy_version() -> str:
    match = re.search(
        r"^TOXIPROXY_VERSION \?= v(\S+)$", (PROJECT_ROOT / "Makefile").read_text(), re.M
    )
    assert match, "Makefile names no TOXIPROXY_VERSION"
    return match.group(1)


def flags(command: list[str]) -> dict[str, str]:
    """A command's options by name: `--name=value`, `-name value`, or "" for a bare switch."""
    out = {}
    for i, arg in enumerate(command):
        if not arg.startswith("-"):
            continue
        name, equals, value = arg.partition("=")
        following = command[i + 1] if i + 1 < len(command) else "-"
        out[name] = value if equals or following.startswith("-") else following
    return out


def host_port(url_or_address: str) -> tuple[str, int]:
    parts = urlsplit(url_or_address if "//" in url_or_address else f"tcp://{url_or_address}")
    return str(parts.hostname), int(parts.port or 80)


def toxiproxy_config(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The proxies toxiproxy creates at start, by name, from the file it is given."""
    service = compose["services"]["toxiproxy"]
    config_path = flags(service["command"])["-config"]
    for volume in service["volumes"]:
        source, target, *_ = volume.split(":")
        if target == config_path:
            proxies = yaml.safe_load((PROJECT_ROOT / source).read_text())
            return {proxy["name"]: proxy for proxy in proxies}
    raise AssertionError(f"toxiproxy's -config {config_path} is not mounted")


def has_healthcheck(service: dict[str, Any]) -> bool:
    image = service.get("image", "").split(":")[0]
    return "healthcheck" in service or image in IMAGES_WITH_HEALTHCHECK


def healthcheck_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            target = services.get(dependency)
            if target is None:
                problems.append(f"{name} depends on unknown service {dependency}")
            elif rule["condition"] == "service_healthy" and not has_healthcheck(target):
                problems.append(f"{name} waits for {dependency} to be healthy: no healthcheck")
    return problems


def wiring_problems(compose: dict[str, Any]) -> list[str]:
    """Everything that would make the containers not talk to each other as the harness does."""
    services = compose["services"]
    problems = healthcheck_problems(services)
    proxies = toxiproxy_config(compose)
    # `redis` is a link only when the app runs several workers; compose runs one.
    if not {DB_LINK, API_LINK} <= set(proxies) <= set(get_args(Link)):
        problems.append(
            f"toxiproxy links {sorted(proxies)}, the chaos panel's are {get_args(Link)}"
        )
        return problems
    app = services["app"]
    app_port = int(flags(app["command"])["--port"])

    def check(what: str, actual: tuple[str, int], expected: tuple[str, int]) -> None:
        if actual != expected:
            problems.append(
                f"{what}: {actual[0]}:{actual[1]}, expected {expected[0]}:{expected[1]}"
            )

    turso, api = proxies[DB_LINK], proxies[API_LINK]
    sqld = ("sqld", SQLD_HTTP_PORT)
    check("turso link upstream", host_port(turso["upstream"]), sqld)
    check("api link upstream", host_port(api["upstream"]), ("app", app_port))
    turso_listen = ("toxiproxy", host_port(turso["listen"])[1])
    app_db = app["environment"]["TURSO_DATABASE_URL"]
    check("app's database", host_port(app_db), turso_listen)
    if urlsplit(app_db).scheme not in TRANSPORTS:
        problems.append(f"app's database {app_db}: the scheme is no transport {TRANSPORTS}")

    seed = services["seed"]
    # Straight to sqld, around every proxy, as `make bench` seeds.
    check("seed's database", host_port(seed["environment"]["TURSO_DATABASE_URL"]), sqld)
    module = seed["command"][seed["command"].index("-m") + 1]
    if not (PROJECT_ROOT / f"{module.replace('.', '/')}.py").is_file():
        problems.append(f"seed runs {module}, which does not exist")
    posts, commented = seed["command"][-2:]
    master = flags(services["locust"]["command"])
    check(
        "Locust's target", host_port(master["--host"]), ("toxiproxy", host_port(api["listen"])[1])
    )
    toxiproxy_api = ("toxiproxy", TOXIPROXY_API_PORT)
    check("chaos panel's toxiproxy", host_port(master["--toxiproxy-url"]), toxiproxy_api)
    ids = int(master["--last-id"]) - int(master["--first-id"]) + 1
    if (ids, master["--commented-posts"]) != (int(posts), commented):
        problems.append(
            f"Locust reads ids {master['--first-id']}..{master['--last-id']}, not seeded"
        )
    for option, allowed in [
        ("--network-profile", PROFILES),
        ("--workload", WORKLOAD_NAMES),
        ("--shape", SHAPE_NAMES),
    ]:
        if master[option] not in allowed:
            problems.append(f"Locust {option} {master[option]!r} is not one of {sorted(allowed)}")

    worker = flags(services["locust-worker"]["command"])
    if worker.get("--master-host") != "locust" or "--worker" not in worker:
        problems.append("locust-worker does not connect to the locust master")
    app_modules = [arg for arg in app["command"] if arg.endswith(".py")]
    for path in {master["-f"], worker["-f"], *app_modules}:
        if not (PROJECT_ROOT / path).is_file():
            problems.append(f"{path} does not exist")
    return problems


def test_images_are_the_official_ones() -> None:
    services = load_compose()["services"]

    assert services["sqld"]["image"].split(":")[0] == SQLD_IMAGE
    assert services["toxiproxy"]["image"] == f"{TOXIPROXY_IMAGE}:{makefile_toxiproxy_version()}"
    # The app, the seeder and Locust run the project's own image.
    assert all(
        services[name]["build"] == "." for name in ("app", "seed", "locust", "locust-worker")
    )
    assert "reference_app/main.py" in services["app"]["command"]


def test_services_are_wired_as_the_harness_wires_them() -> None:
    assert wiring_problems(load_compose()) == []


@pytest.mark.parametrize(("transport", "scheme"), [(None, "ws"), ("ws", "ws"), ("http", "http")])
def test_the_apps_database_url_follows_transport(transport: str | None, scheme: str) -> None:
    compose = load_compose(**({"TRANSPORT": transport} if transport else {}))

    assert wiring_problems(compose) == []
    assert compose["services"]["app"]["environment"]["TURSO_DATABASE_URL"] == (
        f"{scheme}://toxiproxy:18080"
    )


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("services", "app", "environment", "TURSO_DATABASE_URL"), "http://sqld:8080", "database"),
        (("services", "app", "environment", "TURSO_DATABASE_URL"), "wss://toxiproxy:18080", "no"),
        (("services", "locust", "command", 7), "--host=http://app:8000", "Locust's target"),
        (("services", "seed", "command", 3), "500", "not seeded"),
        (("services", "seed", "command", 2), "loadtests.seed", "does not exist"),
        (("services", "seed", "environment", "TURSO_DATABASE_URL"), "http://app:8000", "seed's"),
        (("services", "locust", "command", 10), "--network-profile=mars", "network-profile"),
        (("services", "app", "healthcheck"), None, "no healthcheck"),
    ],
)
def test_a_miswired_file_is_caught(path: tuple, value: Any, problem: str) -> None:
    compose = copy.deepcopy(load_compose())
    *parents, last = path
    target = compose
    for key in parents:
        target = target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value

    assert any(problem in p for p in wiring_problems(compose))


def compose_cli() -> list[str] | None:
    """The Compose CLI installed here: Docker's plugin, else Debian's docker-compose."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_compose_cli_validates_the_file(tmp_path: Path) -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip(
            "no `docker compose` plugin nor docker-compose: `make setup` installs it as root"
        )
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("service_healthy", "service_ready", 1))

    good = subprocess.run(
        [*cli, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True
    )
    bad = subprocess.run([*cli, "-f", str(broken), "config", "-q"], capture_output=True, text=True)

    assert good.returncode == 0, good.stderr
    assert bad.returncode != 0


def test_compose_cli_resolves_transport_into_the_apps_url() -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("no `docker compose` plugin nor docker-compose")
    resolved = {
        transport: subprocess.run(
            [*cli, "-f", str(COMPOSE), "config"],
            capture_output=True,
            text=True,
            env={**os.environ, "TRANSPORT": transport},
        )
        for transport in TRANSPORTS
    }

    for transport, done in resolved.items():
        assert done.returncode == 0, done.stderr
        app = yaml.safe_load(done.stdout)["services"]["app"]
        assert app["environment"]["TURSO_DATABASE_URL"] == f"{transport}://toxiproxy:18080"
