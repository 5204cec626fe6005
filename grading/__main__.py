"""``python -m practicum.grading serve`` (the hub service) | ``worker`` (one local worker process)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .settings import GradingSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m practicum.grading", description=__doc__)
    parser.add_argument("role", choices=["serve", "worker"], help="serve: the hub service (with its local workers); worker: one worker")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s")
    try:
        settings = GradingSettings.from_env()
    except ValueError as error:
        print(f"practicum.grading: {error}", file=sys.stderr)
        return 2
    if args.role == "serve":
        from .app import serve

        asyncio.run(serve(settings))
        return 0
    from .worker import worker_main

    return worker_main(settings)


if __name__ == "__main__":
    sys.exit(main())
