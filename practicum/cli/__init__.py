"""The `practicum` command. Each area registers its subcommands; each subcommand is a
thin wrapper over a function that notebooks and the API call too."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from practicum import __version__
from practicum.lab.errors import LabError

from .course_commands import add_course_commands
from .datasets_commands import add_datasets_commands
from .eval_commands import add_autograde_command, add_eval_commands, add_grade_command, add_reference_command
from .grading_commands import add_grading_commands
from .lab_commands import add_lab_commands
from .lms_commands import add_lms_group, default_to_lab_database

err_console = Console(stderr=True, highlight=False)

DESCRIPTION = """\
Practicum: a hands-on training lab for engineers who build AI for medicine.

`practicum up` starts the whole lab on this machine (JupyterHub with sandboxes,
MLflow, the LMS API, nbgrader formgraders, an idle culler); Ctrl-C or
`practicum down` stops it. State (databases, homes, secrets) lives in .lab/ of the
checkout, or in --state-dir / $PRACTICUM_STATE_DIR.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="practicum", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"practicum {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", help="folder of the lab's state (default: .lab/ in the checkout)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_lab_commands(sub, common)
    add_datasets_commands(sub)
    add_eval_commands(sub)
    add_grade_command(sub, common)
    add_reference_command(sub, common)
    add_autograde_command(sub, common)
    add_grading_commands(sub, common)
    add_lms_group(sub)
    add_course_commands(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "lms":
        default_to_lab_database()
    try:
        return int(args.func(args))
    except LabError as exc:
        err_console.print(f"practicum: error: {exc}", markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
