"""The one place that knows how to start and stop each part of the stack.

Bench, chaos, the Locust UI and the tests all start servers through here, so
ports, readiness checks, logs and shutdown behave the same everywhere.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
import redis

from harness.auth import JwtAuth
from harness.cli import UserError
from harness.database import check_database, url_transport
from harness.processes import (
    ManagedProcess,
    ProcessStartError,
    default_tls,
    free_port,
    http_ready,
    running,
)
from harness.settings import HarnessSettings
from harness.toxiproxy import ToxiproxyApi, toxiproxy_binary, toxiproxy_process, unless_gone

LOOPBACK = "127.0.0.1"
# What uvicorn serves: the reference app (the checker's own tests serve a broken one instead).
APP_FACTORY = "reference_app.main:create_app"
# How the app reaches the database: WebSocket (what a Turso `libsql://` URL opens) or HTTP.
Transport = Literal["ws", "http"]


@dataclass(frozen=True)
class TlsFiles:
    """A PEM certificate (trusted by clients through SSL_CERT_FILE) and its key."""

    cert: Path
    key: Path

    @classmethod
    def from_settings(cls, settings: HarnessSettings) -> TlsFiles:
        files = cls(settings.tls_cert, settings.tls_key)
        if not (files.cert.exists() and files.key.exists()):
            raise UserError(f"no TLS certificate at {files.cert}; run `make setup`")
        return files

    @classmethod
    def for_local_server(cls, settings: HarnessSettings) -> TlsFiles | None:
        """The local server's TLS files; None with an external database, which has its own,
        and with sqld, which serves plain HTTP and WebSocket only."""
        if settings.turso_database_url or settings.sqld_bin:
            return None
        return cls.from_settings(settings)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@dataclass
class DatabaseServer:
    """A Hrana server process the stack started, and the URLs clients use to reach it."""

    host: str
    port: int
    db: str
    auth_token: str | None
    process: ManagedProcess
    tls: TlsFiles | None = None
    # The public key the server checks tokens against, read at its start (None: no checks).
    jwt_key_file: Path | None = None
    kind = "database"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}"

    def url(self, transport: Transport) -> str:
        """Where a client reaches the server over `transport` (ws or http)."""
        return self.ws_url if transport == "ws" else self.http_url

    def rotate_key(self) -> str:
        """A new key pair in place of the old: the server refuses every earlier token once
        restarted on the same command, which reads the key file at start. The new token."""
        if self.jwt_key_file is None:
            raise ValueError(f"{self.kind} checks no tokens: nothing to rotate")
        auth = JwtAuth.generate()
        auth.write_public_key(self.jwt_key_file)
        self.auth_token = auth.token
        return auth.token

    def version(self) -> str:
        """What the server says it is (GET /version), e.g. `sqld 0.24.33 (...)`."""
        headers = {"Authorization": f"Bearer {self.auth_token}"} if self.auth_token else None
        verify = self.tls.client_context() if self.tls else default_tls()
        try:
            response = httpx.get(f"{self.http_url}/version", headers=headers, verify=verify)
            return response.text.strip() if response.is_success else f"{self.kind} (unknown)"
        except httpx.HTTPError:
            return f"{self.kind} (unknown)"


@dataclass
class LocalTurso(DatabaseServer):
    """A `python -m localturso` process."""

    kind = "localturso"


@dataclass
class Sqld(DatabaseServer):
    """The real sqld: plain HTTP and WebSocket (it has no TLS), auth by EdDSA-signed JWT."""

    kind = "sqld"


def local_turso_process(
    db: str | Path,
    log_dir: Path,
    *,
    auth_token: str | None = None,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    tls: TlsFiles | None = None,
    jwt_auth: JwtAuth | None = None,
    code_dir: Path | None = None,
) -> LocalTurso:
    """A local Turso server, not yet started; `process.start()` waits for /health.

    `jwt_auth` makes it check EdDSA JWTs as sqld does; clients then get `jwt_auth.token`.
    `code_dir` runs it from another checkout (`python -m` imports from its working
    directory first), as the gate does for the baseline commit.
    """
    port = port or free_port(LOOPBACK)
    argv = [sys.executable, "-m", "localturso", "--host", LOOPBACK, "--port", str(port)]
    argv += ["--db", str(db), *extra_args]
    if tls:
        argv += ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    # The static token is only the one asked for: a JWT must stay checked against the key.
    env = {"LOCALTURSO_AUTH_TOKEN": auth_token} if auth_token else {}
    key_file = None
    if jwt_auth:
        key_file = jwt_auth.write_public_key(log_dir / f"localturso-{port}-jwt-public-key.pem")
        argv += ["--auth-jwt-key-file", str(key_file)]
        auth_token = auth_token or jwt_auth.token
    scheme = "https" if tls else "http"
    process = ManagedProcess(
        name="localturso",
        argv=argv,
        ready=http_ready(
            f"{scheme}://{LOOPBACK}:{port}/health", verify=tls.client_context() if tls else None
        ),
        log_path=log_dir / f"localturso-{port}.log",
        env=env,
        cwd=code_dir,
    )
    return LocalTurso(LOOPBACK, port, str(db), auth_token, process, tls, key_file)


@contextlib.contextmanager
def local_turso(
    db: str | Path,
    log_dir: Path,
    *,
    auth_token: str | None = None,
    extra_args: Sequence[str] = (),
    tls: TlsFiles | None = None,
    jwt_auth: JwtAuth | None = None,
    code_dir: Path | None = None,
) -> Iterator[LocalTurso]:
    """A running local Turso server, stopped on exit."""
    server = local_turso_process(
        db,
        log_dir,
        auth_token=auth_token,
        extra_args=extra_args,
        tls=tls,
        jwt_auth=jwt_auth,
        code_dir=code_dir,
    )
    with running(server.process):
        yield server


def sqld_process(
    binary: Path,
    data_dir: Path,
    log_dir: Path,
    *,
    auth: JwtAuth | None = None,
    port: int | None = None,
    extra_args: Sequence[str] = (),
) -> Sqld:
    """A sqld server on a free loopback port with its own data directory, not yet started.

    With `auth` it checks every request's JWT against the run's public key, as Turso does;
    `/health` needs none, so readiness is asked the same way as the local server's.
    """
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise ProcessStartError(f"SQLD_BIN={binary} is not an executable file")
    port = port or free_port(LOOPBACK)
    argv = [str(binary), "--http-listen-addr", f"{LOOPBACK}:{port}"]
    argv += ["--db-path", str(data_dir), "--no-welcome", *extra_args]
    key_file = None
    if auth:
        key_file = auth.write_public_key(log_dir / f"sqld-{port}-jwt-public-key.pem")
        argv += ["--auth-jwt-key-file", str(key_file)]
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    process = ManagedProcess(
        name="sqld",
        argv=argv,
        ready=http_ready(f"http://{LOOPBACK}:{port}/health"),
        log_path=log_dir / f"sqld-{port}.log",
        cwd=data_dir.parent,  # anything sqld writes beside its data stays out of the project
    )
    token = auth.token if auth else None
    return Sqld(LOOPBACK, port, str(data_dir), token, process, jwt_key_file=key_file)


@contextlib.contextmanager
def sqld(
    binary: Path,
    data_dir: Path,
    log_dir: Path,
    *,
    auth: JwtAuth | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[Sqld]:
    """A running sqld, stopped with SIGTERM on exit; its log stays in `log_dir`."""
    server = sqld_process(binary, data_dir, log_dir, auth=auth, extra_args=extra_args)
    with running(server.process):
        yield server


@contextlib.contextmanager
def database_server(
    db: str | Path,
    log_dir: Path,
    settings: HarnessSettings,
    tls: TlsFiles | None = None,
    *,
    local_args: Sequence[str] = (),
    sqld_args: Sequence[str] = (),
    code_dir: Path | None = None,
    check_tokens: bool = False,
) -> Iterator[DatabaseServer]:
    """The server HarnessSettings picks: sqld (SQLD_BIN, with a fresh JWT key pair) or local.

    sqld gets a data directory beside `db` (`<db>.sqld/`), so a fresh `db` path is a fresh
    database for either server. Their flags differ: `local_args` go to the local server,
    `sqld_args` to sqld. `code_dir`: the local server from another checkout. `check_tokens`
    makes the local server check JWTs as sqld always does (it costs it CPU per request).
    """
    if settings.sqld_bin:
        data_dir = Path(f"{db}.sqld")
        auth = JwtAuth.generate()
        with sqld(settings.sqld_bin, data_dir, log_dir, auth=auth, extra_args=sqld_args) as server:
            yield server
    else:
        jwt_auth = JwtAuth.generate() if check_tokens else None
        with local_turso(
            db, log_dir, tls=tls, extra_args=local_args, code_dir=code_dir, jwt_auth=jwt_auth
        ) as local:
            yield local


@contextlib.contextmanager
def toxiproxy(log_dir: Path, settings: HarnessSettings | None = None) -> Iterator[ToxiproxyApi]:
    """The toxiproxy API: the one at TOXIPROXY_URL if set, else a server started here.

    Either way every proxy is enabled and free of toxics on the way in and out,
    so no fault leaks from one scenario or test into the next.
    """
    settings = settings or HarnessSettings()
    with contextlib.ExitStack() as stack:
        server_pid = None
        if settings.toxiproxy_url:
            api_url = settings.toxiproxy_url
        else:
            binary = toxiproxy_binary(settings.toxiproxy_server)
            server = toxiproxy_process(binary, log_dir)
            stack.enter_context(running(server.process))
            api_url, server_pid = server.api_url, server.process.pid
        api = ToxiproxyApi(api_url, server_pid=server_pid)
        stack.callback(api.close)
        api.reset()
        stack.callback(_reset_unless_gone, api)
        yield api


def _reset_unless_gone(api: ToxiproxyApi) -> None:
    with unless_gone():
        api.reset()


@dataclass
class App:
    """The reference app under uvicorn, with the settings it was started with."""

    url: str
    env: dict[str, str]
    process: ManagedProcess
    workers: int = 1
    code_dir: Path | None = None  # the checkout it runs from (None: this one)


def app_process(
    log_dir: Path,
    *,
    env: dict[str, str],
    port: int | None = None,
    workers: int = 1,
    code_dir: Path | None = None,
    factory: str = APP_FACTORY,
) -> App:
    """The reference app (settings from `env`), not yet started; readiness is /healthz.

    With `workers` > 1 uvicorn forks that many worker processes sharing the port. The app
    is told the count (APP_WORKERS), which it cannot see: with 1 it keeps a per-process cache.
    Stopping the app stops its process group, workers included. Their metrics are summed
    through prometheus_client's multiprocess mode (a directory beside the log).
    `code_dir`: the checkout to import the app from (default: this one). `factory`: the
    `module:function` uvicorn builds the app with.
    """
    port = port or free_port(LOOPBACK)
    argv = [sys.executable, "-m", "uvicorn", "--factory", factory]
    argv += ["--host", LOOPBACK, "--port", str(port), "--no-access-log"]
    if workers > 1:
        argv += ["--workers", str(workers)]
    url = f"http://{LOOPBACK}:{port}"
    process_env = {**env, "APP_WORKERS": str(workers)}
    if workers > 1:
        # Each worker counts its own metrics; this lets /metrics sum them (a fresh directory).
        metrics_dir = log_dir / f"app-{port}-metrics"
        metrics_dir.mkdir(parents=True)
        process_env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    process = ManagedProcess(
        name="app",
        argv=argv,
        ready=http_ready(f"{url}/healthz"),
        log_path=log_dir / f"app-{port}.log",
        env=process_env,
        cwd=code_dir,
    )
    return App(url, env, process, workers, code_dir)


@contextlib.contextmanager
def reference_app(
    log_dir: Path,
    *,
    env: dict[str, str],
    workers: int = 1,
    code_dir: Path | None = None,
    factory: str = APP_FACTORY,
) -> Iterator[App]:
    """A running reference app, stopped on exit."""
    app = app_process(log_dir, env=env, workers=workers, code_dir=code_dir, factory=factory)
    with running(app.process):
        yield app


@dataclass(frozen=True)
class DatabaseInfo:
    """Which database server a run measured, for summaries and reports."""

    server: str  # "localturso", "sqld" or "external"
    version: str  # what GET /version said; "unknown" for an external database
    tls: bool
    transport: Transport = "ws"

    def describe(self) -> str:
        security = "TLS" if self.tls else "plain, no TLS"
        return f"{self.server}: {self.version}, over {self.transport} ({security})"

    def as_dict(self) -> dict[str, object]:
        return {
            "server": self.server,
            "version": self.version,
            "tls": self.tls,
            "transport": self.transport,
        }


@dataclass
class Redis:
    """A redis-server process on loopback: the app's shared read cache."""

    host: str
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def _redis_ready(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with redis.Redis(LOOPBACK, port, socket_timeout=1.0) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    return probe


def redis_process(binary: Path, log_dir: Path, *, port: int | None = None) -> Redis:
    """redis-server with nothing on disk, not yet started; readiness is PING."""
    if not binary.exists():
        raise FileNotFoundError(
            f"no redis-server at {binary}; `make setup` as root installs Debian's redis-server"
            " (or set REDIS_SERVER)"
        )
    port = port or free_port(LOOPBACK)
    argv = [str(binary), "--bind", LOOPBACK, "--port", str(port), "--save", ""]
    argv += ["--appendonly", "no", "--daemonize", "no", "--dir", str(log_dir)]
    process = ManagedProcess(
        name="redis",
        argv=argv,
        ready=_redis_ready(port),
        log_path=log_dir / f"redis-{port}.log",
    )
    return Redis(LOOPBACK, port, process)


@contextlib.contextmanager
def redis_server(binary: Path, log_dir: Path) -> Iterator[Redis]:
    """A running redis-server, stopped on exit."""
    server = redis_process(binary, log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    with running(server.process):
        yield server


@dataclass
class Stack:
    """load -> proxy `api` -> app -> proxy `turso` -> database server, all on loopback.

    The database server is the local one or sqld (HarnessSettings.sqld_bin); either sits
    behind the `turso` proxy. With an external database (HarnessSettings.turso_database_url)
    there is no server here and no `turso` proxy: the app talks to that database directly.
    With several app workers a redis-server serves as their shared cache, reached through
    proxy `redis`.
    """

    turso: DatabaseServer | None
    toxiproxy: ToxiproxyApi
    app: App
    api_url: str  # what load generators call: through the `api` proxy
    proxies: dict[str, str]  # link name -> toxiproxy proxy name
    external_db_url: str | None = None
    external_db_auth_token: str | None = None
    database: DatabaseInfo = DatabaseInfo("localturso", "unknown", tls=False)
    redis: Redis | None = None
    # The file the app reads its token from (TURSO_AUTH_TOKEN_FILE), when the server checks one.
    db_token_file: Path | None = None

    @property
    def db_url(self) -> str:
        """The database itself, around every proxy: for seeding and for checking."""
        return self.turso.http_url if self.turso else str(self.external_db_url)

    @property
    def db_auth_token(self) -> str | None:
        return self.turso.auth_token if self.turso else self.external_db_auth_token

    def pids(self) -> dict[str, int]:
        """The processes started here, by the names CPU figures use (harness.cpu)."""
        found = {
            "app": self.app.process.pid,
            "database": self.turso.process.pid if self.turso else None,
            "toxiproxy": self.toxiproxy.server_pid,
        }
        return {name: pid for name, pid in found.items() if pid is not None}


def write_token(path: Path, token: str) -> Path:
    """Replace the token file at once, as a secret mount does: never seen half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.new")
    partial.write_text(token)
    partial.chmod(0o600)
    partial.replace(path)
    return path


def _proxied(api: ToxiproxyApi, name: str, upstream: str) -> str:
    """A toxiproxy proxy `name` in front of `upstream`; returns where clients connect."""
    listen = f"{LOOPBACK}:{free_port(LOOPBACK)}"
    api.create_proxy(name, listen, upstream)
    return listen


@contextlib.contextmanager
def stack(
    log_dir: Path,
    *,
    db: str | Path,
    app_env: dict[str, str],
    settings: HarnessSettings | None = None,
    tls: TlsFiles | None = None,
    shared_cache: bool | None = None,
    server_args: Sequence[str] = (),
    sqld_args: Sequence[str] = (),
    app_code: Path | None = None,
    server_code: Path | None = None,
    app_factory: str = APP_FACTORY,
    check_tokens: bool = False,
) -> Iterator[Stack]:
    """Start every part in dependency order with readiness checks; stop all on exit.

    The app reaches the database over `settings.transport` (ws or http) through the `turso`
    proxy. `tls` makes the local server speak TLS; the app then gets a wss:// or https://
    URL and trusts the certificate through SSL_CERT_FILE. sqld has no TLS, so with SQLD_BIN
    set the database link is plain ws or http whatever `tls` says. The app runs
    `settings.app_workers` workers; `shared_cache` (default: with more than one worker)
    starts redis-server and gives the app its URL (APP_REDIS_URL). `server_args` go to the
    local database server (`--max-concurrent-requests 4`, say), `sqld_args` to sqld.
    `app_code` and `server_code` run the app and the local server from another checkout;
    `app_factory` is what uvicorn builds the app with.
    `check_tokens`: the local server checks JWTs too (sqld always does). The app gets the
    server's token in a file beside `db` (TURSO_AUTH_TOKEN_FILE, which a token rotation
    rewrites), and in TURSO_AUTH_TOKEN for an app of an older checkout.
    """
    settings = settings or HarnessSettings()
    if settings.turso_database_url:
        # Before anything starts: a wrong URL or token is then one line, not a failed run.
        check_database(settings.turso_database_url, settings.turso_auth_token)
    workers = settings.app_workers
    shared_cache = workers > 1 if shared_cache is None else shared_cache
    with contextlib.ExitStack() as parts:
        api = parts.enter_context(toxiproxy(log_dir, settings))
        proxies = {"api": "api"}
        token_file = None
        if settings.turso_database_url:
            turso = None
            env = {"TURSO_DATABASE_URL": settings.turso_database_url}
            if settings.turso_auth_token:
                env["TURSO_AUTH_TOKEN"] = settings.turso_auth_token
            tls_url = settings.turso_database_url.startswith(("https:", "wss:", "libsql:"))
            over = url_transport(settings.turso_database_url)
            database = DatabaseInfo("external", "unknown", tls=tls_url, transport=over)
        else:
            turso = parts.enter_context(
                database_server(
                    db,
                    log_dir,
                    settings,
                    tls,
                    local_args=server_args,
                    sqld_args=sqld_args,
                    code_dir=server_code,
                    check_tokens=check_tokens,
                )
            )
            turso_listen = _proxied(api, "turso", f"{turso.host}:{turso.port}")
            proxies["turso"] = "turso"
            scheme = turso.url(settings.transport).split("://")[0]
            env = {"TURSO_DATABASE_URL": f"{scheme}://{turso_listen}"}
            if turso.tls:
                env["SSL_CERT_FILE"] = str(turso.tls.cert)
            if turso.auth_token:
                token_file = write_token(Path(f"{db}.token"), turso.auth_token)
                env["TURSO_AUTH_TOKEN"] = turso.auth_token
                env["TURSO_AUTH_TOKEN_FILE"] = str(token_file)
            database = DatabaseInfo(
                turso.kind, turso.version(), tls=turso.tls is not None, transport=settings.transport
            )
        cache = None
        if shared_cache:
            cache = parts.enter_context(redis_server(settings.redis_server, log_dir))
            env["APP_REDIS_URL"] = f"redis://{_proxied(api, 'redis', f'{LOOPBACK}:{cache.port}')}/0"
            proxies["redis"] = "redis"
        app = parts.enter_context(
            reference_app(
                log_dir,
                env={**env, **app_env},
                workers=workers,
                code_dir=app_code,
                factory=app_factory,
            )
        )
        api_listen = _proxied(api, "api", app.url.removeprefix("http://"))
        yield Stack(
            turso,
            api,
            app,
            f"http://{api_listen}",
            proxies,
            settings.turso_database_url,
            settings.turso_auth_token,
            database,
            cache,
            token_file,
        )
