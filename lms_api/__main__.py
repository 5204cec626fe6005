"""`python -m practicum.lms_api`: serve the LMS as a JupyterHub managed service."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from .app import create_app
from .settings import get_settings

DESCRIPTION = """\
Practicum LMS API, run by JupyterHub as the managed service 'lms'.
Binds to the host and port of $JUPYTERHUB_SERVICE_URL (default http://127.0.0.1:8090)
and serves every route under $JUPYTERHUB_SERVICE_PREFIX (e.g. /services/lms/).
Callers authenticate with a JupyterHub API token or, in a browser, through the hub's OAuth.
Database: $PRACTICUM_LMS_DATABASE_URL."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["admin"]:
        from .admin_cli import main as admin_main

        return admin_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m practicum.lms_api", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("admin", nargs="?", help="admin commands: `python -m practicum.lms_api admin --help`")
    parser.parse_args(argv)
    settings = get_settings()
    uvicorn.run(
        create_app(settings), host=settings.bind_host, port=settings.bind_port,
        workers=1, log_level="info", proxy_headers=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
