"""Command line: `python -m localturso --host H --port P --db PATH`.

Every flag falls back to its LOCALTURSO_* environment variable.
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import FrameType
from typing import Any

import uvicorn

from localturso.app import create_app
from localturso.settings import Settings

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


def parse_args(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m localturso", description=__doc__)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--db", help="SQLite file, or :memory:")
    parser.add_argument("--auth-token", help="prefer LOCALTURSO_AUTH_TOKEN: flags show in ps")
    parser.add_argument("--auth-jwt-key-file", help="PEM Ed25519 public key; accepts EdDSA JWTs")
    parser.add_argument("--stream-expiry-s", type=float)
    parser.add_argument("--max-body-bytes", type=int)
    parser.add_argument("--max-concurrent-requests", type=int)
    parser.add_argument("--retry-after-s", type=int, help="Retry-After on 429 (sqld sends none)")
    parser.add_argument("--max-connections", type=int)
    parser.add_argument("--busy-timeout-ms", type=int)
    parser.add_argument("--log-level")
    parser.add_argument("--tls-cert", help="PEM certificate; with --tls-key serves HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = vars(parser.parse_args(argv))
    return {key: value for key, value in args.items() if value is not None}


def main(argv: list[str] | None = None) -> None:
    settings = Settings(**parse_args(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app = create_app(settings)
    except (OSError, ValueError) as error:
        sys.exit(f"localturso: {error}")  # a bad key file or database path: one line, exit 1
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


if __name__ == "__main__":
    main()
