"""Command line: `python -m localturso --host H --port P --db PATH`.

Every flag falls back to its LOCALTURSO_* environment variable. A mistake (a bad flag or
value, a port in use, a database file that cannot be opened, a Python without the
project's packages) is one line on stderr and exit status 2; HARNESS_DEBUG=1 shows
tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

try:
    import apsw
    import uvicorn
    from pydantic import ValidationError

    from localturso.app import create_app
    from localturso.settings import Settings
except ModuleNotFoundError as missing:  # the system Python rather than .venv's
    print(
        f"localturso: no module named {missing.name!r}: run `make setup`, then use"
        " .venv/bin/python -m localturso (or `source .venv/bin/activate`)",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

PROG = "localturso"
USAGE_ERROR = 2

log = logging.getLogger("localturso")


class _Server(uvicorn.Server):
    """Announces its URL once it is really listening (the one line scripts wait for)."""

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            config = self.config
            scheme = "https" if config.ssl_certfile else "http"
            print(f"localturso listening on {scheme}://{config.host}:{config.port}", flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # A requested stop that drains gracefully is a success: exit 0 instead of having
        # uvicorn re-raise the signal once it is done.
        self._captured_signals.clear()


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message.removeprefix('argument ')}\n")


def fail(message: str, code: int = USAGE_ERROR) -> NoReturn:
    print(f"{PROG}: {message}", file=sys.stderr)
    raise SystemExit(code)


def settings_error(error: ValidationError) -> str:
    """The first thing wrong, named as both the flag and the environment variable."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if not field:
        return str(first["msg"]).removeprefix("Value error, ")
    flag, env = f"--{field.replace('_', '-')}", f"LOCALTURSO_{field.upper()}"
    return f"{flag} / {env} {first['input']!r}: {first['msg']}"


def check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            fail(f"cannot listen on {host}:{port} ({error.strerror}); pick another --port")


def why_unopenable(path: Path, error: Exception) -> str:
    """SQLite says only "unable to open database file"; the usual causes, named."""
    if not path.parent.is_dir():
        return f"no such directory: {path.parent}"
    if path.is_dir():
        return "it is a directory"
    return str(error)


def build_parser() -> argparse.ArgumentParser:
    """A flag for every setting (each also a LOCALTURSO_* variable, which the flag overrides)."""
    parser = _OneLineParser(prog=PROG, description=__doc__)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--db", help="SQLite file, or :memory:")
    parser.add_argument("--auth-token", help="prefer LOCALTURSO_AUTH_TOKEN: flags show in ps")
    parser.add_argument("--auth-jwt-key-file", help="PEM Ed25519 public key; accepts EdDSA JWTs")
    parser.add_argument("--stream-expiry-s", type=float)
    parser.add_argument("--expired-stream-retention-s", type=float)
    parser.add_argument("--max-body-bytes", type=int)
    parser.add_argument("--max-concurrent-requests", type=int)
    parser.add_argument(
        "--retry-after-s", type=int, help="Retry-After on 429 and refused upgrades (sqld: none)"
    )
    parser.add_argument("--max-connections", type=int)
    parser.add_argument("--max-ws-pending-requests", type=int)
    parser.add_argument("--ws-silent-after-s", type=float, help="each WebSocket then goes silent")
    parser.add_argument("--ws-close-after-s", type=float, help="each WebSocket is then closed")
    parser.add_argument(
        "--ws-refuse-after-close-s", type=float, help="then upgrades are refused with 503"
    )
    parser.add_argument("--busy-timeout-ms", type=int)
    parser.add_argument("--shutdown-timeout-s", type=float)
    parser.add_argument("--log-level")
    parser.add_argument("--tls-cert", help="PEM certificate; with --tls-key serves HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    return parser


def parse_args(argv: list[str]) -> dict[str, Any]:
    args = vars(build_parser().parse_args(argv))
    return {key: value for key, value in args.items() if value is not None}


def main(argv: list[str] | None = None) -> None:
    try:
        settings = Settings(**parse_args(sys.argv[1:] if argv is None else argv))
    except ValidationError as error:
        fail(settings_error(error))
    check_port_free(settings.host, settings.port)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app = create_app(settings)
    except apsw.CantOpenError as error:
        fail(f"cannot open --db {settings.db} ({why_unopenable(Path(settings.db), error)})")
    except (OSError, ValueError) as error:
        sys.exit(f"localturso: {error}")  # a bad key file: one line, exit 1
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level.lower(),
        ws_max_size=settings.max_body_bytes,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )
    _Server(config).run()


def debugging() -> bool:
    return os.environ.get("HARNESS_DEBUG", "") not in ("", "0", "false", "no")


if __name__ == "__main__":
    try:
        main()
    except Exception as unexpected:
        if debugging():
            raise
        fail(f"{type(unexpected).__name__}: {unexpected} (HARNESS_DEBUG=1 shows the traceback)", 1)
