"""`edepot serve`: the web application and one worker on this machine, for the embedded defaults.

Production runs the same application (`edepot.web.wsgi:application`) under an application server behind a
reverse proxy, and `edepot worker` processes beside it (README, "The web application")."""
from __future__ import annotations

import argparse

from edepot.output import Verbs
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("serve", parents=[common], help="the web application, with one worker doing the jobs")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="the port (default: 8000)")
    p.add_argument("--threads", type=int, default=8, help="requests served at once (default: 8)")
    p.add_argument("--no-worker", action="store_true", help="start no worker (jobs wait for `edepot worker`)")
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from edepot.web.server import serve

    serve(config, host=args.host, port=args.port, threads=args.threads, worker=not args.no_worker)
    return 0
