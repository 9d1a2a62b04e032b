"""The web application served on this machine (`edepot serve`): waitress, and one worker process beside it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from kernel.config import Config


def serve(config: Config, *, host: str, port: int, threads: int, worker: bool) -> None:
    """Serve the web application for `config`'s data directory on host:port until stopped, its tables migrated
    first, with one `edepot worker` doing the jobs when `worker`."""
    os.environ["EDEPOT_DATA"] = str(config.data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "edepot.web.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)  # the web's tables (a new catalogue's too)
    from waitress import serve as waitress_serve

    from edepot.web.wsgi import application

    signal.signal(signal.SIGTERM, _stop)  # as Ctrl+C does: the worker is stopped too, not left behind
    child = None
    if worker:
        child = subprocess.Popen([sys.executable, "-m", "edepot.cli", "--data-dir", str(config.data_dir), "worker"])
    shown_host = f"[{host}]" if ":" in host else host
    print(f"edepot serves http://{shown_host}:{port}/ on {config.data_dir}"
          + ("" if child is None else ", with one worker doing its jobs") + " (Ctrl+C stops it)",
          file=sys.stderr, flush=True)
    try:
        waitress_serve(application, host=host, port=port, threads=threads, ident="edepot",
                       clear_untrusted_proxy_headers=True, _quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=30)


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
