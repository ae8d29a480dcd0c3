"""`python -m ecs_emulator [-H HOST] [-p PORT] [--speed N]`: moto's server with the emulator.

The speed (how many times faster than ECS the simulated control plane runs) also comes from
`ECS_EMULATOR_SPEED`; the admin API can change it later.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from werkzeug.serving import run_simple


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ecs_emulator")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--speed", type=float, default=float(os.environ.get("ECS_EMULATOR_SPEED", "1")))
    # Unused by the emulator: e2e/local-env passes its run folder, so that it tells its own
    # emulator from another environment's (which may share the virtualenv).
    parser.add_argument("--owner", default="")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    from .gateway import Gateway
    from .patch import install

    emulator = install(args.speed)
    app = Gateway(DomainDispatcherApplication(create_backend_app), emulator)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
