"""`practicum lms ...`: the LMS admin commands, on the lab's LMS database by default."""

from __future__ import annotations

import argparse
import os

from practicum.lab.settings import LabSettings
from practicum.lms_api.admin_cli import add_lms_commands

DATABASE_ENV = "PRACTICUM_LMS_DATABASE_URL"


def add_lms_group(sub: argparse._SubParsersAction) -> None:
    lms = sub.add_parser(
        "lms",
        help="LMS administration: organisations, people (export, erase), tokens, profiles, catalog, webhooks, "
        "reminders, retention, badges",
        description="Administer the LMS. Without --database-url (or $PRACTICUM_LMS_DATABASE_URL) the commands "
        "work on the lab's LMS database in the state folder ($PRACTICUM_STATE_DIR, default .lab/).",
    )
    add_lms_commands(lms.add_subparsers(dest="lms_command", metavar="COMMAND", required=True))


def default_to_lab_database() -> None:
    os.environ.setdefault(DATABASE_ENV, LabSettings.from_env().layout.lms_database_url)
